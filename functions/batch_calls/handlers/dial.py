"""The Dial task (lambda:invoke.waitForTaskToken) and Reconcile, its timeout path."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls.handlers.wiring import rounds
from batch_calls.logic import rounds as logic

logger = Logger(service="batch-calls-dial")


@logger.inject_lambda_context(clear_state=True)
def dial(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = logic.dial(rounds(), event["recipient"], event["task_token"])
    logger.info("dial", extra={**event["recipient"], "result": result})
    return {"result": result}


@logger.inject_lambda_context(clear_state=True)
def reconcile(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = logic.reconcile(rounds(), event)
    logger.info(
        "reconcile",
        extra={k: event[k] for k in ("batch_id", "part", "row", "attempts")} | {"result": result},
    )
    return {"result": result}
