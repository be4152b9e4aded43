"""S3 drop: S3 "Object Created" events under incoming/, via EventBridge and SQS."""

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import monitoring
from batch_calls.handlers.sqs import SQSRecord, each_record
from batch_calls.handlers.wiring import services
from batch_calls.logic.drops import INCOMING, handle_drop

logger = monitoring.logger("s3-drop")


def dropped_key(record: SQSRecord) -> str:
    """The object key of the EventBridge notification the record carries."""
    notification = json.loads(record.body)
    return unquote_plus(notification.get("detail", {}).get("object", {}).get("key", ""))


def _handle(record: SQSRecord) -> None:
    key = dropped_key(record)
    if not key.startswith(INCOMING) or key.endswith("/"):
        logger.info("ignored object", extra={"key": key})
        return
    outcome = handle_drop(services(), key)
    if outcome.get("error", {}).get("error") == "validation_failed":
        monitoring.count(monitoring.VALIDATION_REJECTIONS)
    logger.info("drop handled", extra={"key": key, **outcome})


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(each_record(event, context, _handle, logger))
