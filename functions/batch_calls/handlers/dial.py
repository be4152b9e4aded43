"""The slot loop's tasks (statemachines/batch_round.asl.json): Dial and WatchCall
(lambda:invoke.waitForTaskToken), Reconcile, and the periodic Sweep.

A Dial that places no call raises one of logic.dispatch's signals: the Lambda runtime
reports its class name as the error type, which the workflow routes on."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import monitoring
from batch_calls.handlers.wiring import rounds
from batch_calls.logic import dispatch

logger = monitoring.logger("dial")


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def dial(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    slot = dispatch.slot_of(event["slot"])
    logger.append_keys(batch_id=slot.batch_id, slot=f"{slot.round}/{slot.slot}")
    task = dispatch.watch if event.get("watch") else dispatch.dial
    try:
        result = task(rounds(), slot, event["task_token"])
    except dispatch.SlotSignal as signal:
        logger.info("no call", extra={"signal": type(signal).__name__, "why": str(signal)})
        raise
    logger.info("dial", extra={"result": result})
    return {"result": result}


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def reconcile(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    slot = dispatch.slot_of(event)
    logger.append_keys(batch_id=slot.batch_id, slot=f"{slot.round}/{slot.slot}")
    result = dispatch.reconcile(rounds(), slot)
    logger.info("reconcile", extra={"error": event.get("dial_error"), **result})
    return result


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def sweep(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    swept = dispatch.sweep(rounds())
    logger.info("sweep", extra={"swept": swept})
    return {"swept": swept}
