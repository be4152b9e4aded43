"""The slot loop's tasks (statemachines/batch_round.asl.json): Dial and Reconcile (both
lambda:invoke.waitForTaskToken), and the periodic Sweep.

A Dial that places no call raises one of logic.dispatch's signals: the Lambda runtime
reports its class name as the error type, which the workflow routes on."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import monitoring
from batch_calls.domain.records import SlotRef
from batch_calls.handlers.wiring import services
from batch_calls.logic import dispatch
from batch_calls.logic.services import Services

logger = monitoring.logger("dial")


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def dial(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    slot = dispatch.slot_of(event["slot"])
    logger.append_keys(batch_id=slot.batch_id, slot=f"{slot.round}/{slot.slot}")
    return _signalled("dial", dispatch.dial, slot, event["task_token"])


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def reconcile(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    slot = dispatch.slot_of(event["slot"])
    logger.append_keys(batch_id=slot.batch_id, slot=f"{slot.round}/{slot.slot}")
    logger.info("reconcile", extra={"error": event.get("dial_error")})
    return _signalled("reconcile", dispatch.reconcile, slot, event["task_token"])


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def sweep(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    swept = dispatch.sweep(services())
    logger.info("sweep", extra={"swept": swept})
    return {"swept": swept}


def _signalled(
    name: str, task: Callable[[Services, SlotRef, str], str], slot: SlotRef, token: str
) -> dict[str, Any]:
    """Run a task of the slot loop; a signal it raises is logged as an answer."""
    try:
        result = task(services(), slot, token)
    except dispatch.SlotSignal as signal:
        logger.info(name, extra={"signal": type(signal).__name__, "why": str(signal)})
        raise
    logger.info(name, extra={"result": result})
    return {"result": result}
