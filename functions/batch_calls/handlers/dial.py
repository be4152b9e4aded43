"""The Dial task (lambda:invoke.waitForTaskToken) and Reconcile, its timeout and error path."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import monitoring
from batch_calls.handlers.wiring import rounds
from batch_calls.logic import rounds as logic

logger = monitoring.logger("dial")


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def dial(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _correlate(event["recipient"])
    result = logic.dial(rounds(), event["recipient"], event["task_token"])
    logger.info("dial", extra={**event["recipient"], "result": result})
    return {"result": result}


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def reconcile(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _correlate(event)
    result = logic.reconcile(rounds(), event)
    logger.info(
        "reconcile",
        extra={k: event[k] for k in ("batch_id", "part", "row", "attempts")} | {"result": result},
    )
    return {"result": result}


def _correlate(recipient: dict[str, Any]) -> None:
    logger.append_keys(
        batch_id=recipient.get("batch_id"),
        recipient=f"{recipient.get('part')}/{recipient.get('row')}",
    )
