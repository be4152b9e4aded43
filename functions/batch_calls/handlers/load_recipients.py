"""The load queue's consumer: each message, one piece of batch work (logic/loading.py)."""

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import monitoring
from batch_calls.handlers.sqs import SQSRecord, each_record
from batch_calls.handlers.wiring import services
from batch_calls.logic import loading
from batch_calls.logic.loading import ACTIONS, BatchWork

logger = monitoring.logger("load-recipients")


class UnreadableMessage(ValueError):
    """A message that names no work this consumer does; retried, then dead-lettered."""


def batch_work(message: Any) -> BatchWork:
    """The work a load-queue message asks for (store/queues.py writes them)."""
    if not isinstance(message, dict) or message.get("action") not in ACTIONS:
        raise UnreadableMessage(f"not a piece of batch work: {str(message)[:200]}")
    action = message["action"]
    try:
        return BatchWork(
            action=action,
            workspace_id=str(message["workspace_id"]),
            # The sweep is a workspace's; the rest a batch's, a load one part of it.
            batch_id="" if action == "suppression_sweep" else str(message["batch_id"]),
            part=int(message["part"]) if action == "load" else 0,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise UnreadableMessage(f"a {action} message, unreadable: {error!r}") from None


def _do(record: SQSRecord) -> None:
    work = batch_work(json.loads(record.body))
    if work.batch_id:
        logger.append_keys(batch_id=work.batch_id)
    done = loading.do(services(), work)
    logger.info("batch work done", extra={**vars(work), "recipients": done})


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(each_record(event, context, _do, logger))
