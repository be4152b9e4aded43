"""The round state machine's PrepareRound and FinishRound tasks, and StartRound, which
EventBridge Scheduler invokes when a later round is due."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import monitoring
from batch_calls.domain.calls import execution_name
from batch_calls.handlers.wiring import services
from batch_calls.logic import rounds as logic

logger = monitoring.logger("rounds")


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def prepare_round(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(batch_id=event["batch_id"])
    prepared = logic.prepare_round(
        services(), event["workspace_id"], event["batch_id"], int(event["round"])
    )
    logger.info("round prepared", extra={**event, "count": prepared["count"]})
    return prepared


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def finish_round(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(batch_id=event["batch_id"])
    outcome = logic.finish_round(
        services(), event["workspace_id"], event["batch_id"], int(event["round"])
    )
    logger.info("round finished", extra={**event, "next": outcome})
    return {"next": outcome}


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def start_round(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A scheduled round is due. A duplicated fire starts the same named execution,
    which Step Functions runs once."""
    logger.append_keys(batch_id=event["batch_id"])
    name = execution_name(event["batch_id"], int(event["round"]))
    services().workflow.start(name, {k: event[k] for k in ("workspace_id", "batch_id", "round")})
    logger.info("round started by schedule", extra=event)
    return {"started": name}
