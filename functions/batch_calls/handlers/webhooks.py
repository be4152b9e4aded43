"""Delivers the per-batch webhooks from the webhook queue (docs/events.md).

Each record is one try (logic/webhooks.py `send`). A failed one is left in the queue,
invisible for its backoff (the try's `retry_in_seconds`, by how many times it was
received), and reported as the batch's failure: SQS delivers it again then, and after the
queue's maxReceiveCount deliveries (more than 24 h) moves it to the dead-letter queue.
Dialling never waits for any of this.
"""

import json
import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import monitoring
from batch_calls.handlers import wiring
from batch_calls.handlers.sqs import HandBack, SQSRecord, each_record
from batch_calls.logic import webhooks

logger = monitoring.logger("webhooks")


def _deliver(record: SQSRecord) -> None:
    message = json.loads(record.body)
    deliveries = int(record.attributes.approximate_receive_count or 1)
    logger.append_keys(
        batch_id=message["body"]["data"].get("batch_id"),
        call_id=message["body"]["data"].get("call_id"),
        event_id=message["event_id"],
    )
    attempt = webhooks.send(
        wiring.database(),
        message,
        deliveries,
        time.time(),
        any_address=wiring.deployment().webhooks_to_any_address,
    )
    if attempt.delivered:
        logger.info("webhook delivered", extra={"attempt": deliveries})
        return
    monitoring.count(monitoring.WEBHOOK_DELIVERY_FAILURES)
    delay = attempt.retry_in_seconds
    logger.warning(
        "webhook failed; retried later",
        extra={"attempt": deliveries, "result": attempt.detail, "retry_in_seconds": delay},
    )
    wiring.webhook_queue().retry_after(record.receipt_handle, delay)
    raise HandBack(attempt.detail)


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(each_record(event, context, _deliver, logger))
