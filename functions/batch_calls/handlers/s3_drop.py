"""S3 drop: S3 "Object Created" events under incoming/, via EventBridge and SQS."""

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import monitoring
from batch_calls.handlers.wiring import services
from batch_calls.logic.drops import INCOMING, handle_drop

logger = monitoring.logger("s3-drop")


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    for message in event["Records"]:
        notification = json.loads(message["body"])
        detail = notification.get("detail", {})
        key = unquote_plus(detail.get("object", {}).get("key", ""))
        if not key.startswith(INCOMING) or key.endswith("/"):
            logger.info("ignored object", extra={"key": key})
            continue
        outcome = handle_drop(services(), key)
        if outcome.get("error", {}).get("error") == "validation_failed":
            monitoring.count(monitoring.VALIDATION_REJECTIONS)
        logger.info("drop handled", extra={"key": key, **outcome})
    return {"batchItemFailures": []}
