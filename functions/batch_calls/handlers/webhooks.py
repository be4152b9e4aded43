"""Delivers the per-batch webhooks from the webhook queue (docs/events.md).

A failed delivery is left in the queue, invisible for its backoff
(`logic.webhooks.retry_delay_seconds` of how many times it was received): SQS delivers
it again then, and after the queue's maxReceiveCount deliveries (more than 24 h) moves
it to the dead-letter queue. Dialling never waits for any of this.
"""

import json
import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import monitoring
from batch_calls.handlers import wiring
from batch_calls.logic import webhooks

logger = monitoring.logger("webhooks")


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # "any" in the embedded runtime (receivers on this machine); deployed: public only.
    any_address = wiring.deployment().webhooks_to_any_address
    failures = []
    for record in event["Records"]:
        message = json.loads(record["body"])
        deliveries = int(record.get("attributes", {}).get("ApproximateReceiveCount", 1))
        logger.append_keys(
            batch_id=message["body"]["data"].get("batch_id"),
            call_id=message["body"]["data"].get("call_id"),
            event_id=message["event_id"],
        )
        workspace = wiring.database().get_workspace(message["workspace_id"])
        if workspace is None or not workspace.webhook_secret:
            attempt = webhooks.Attempt(False, "the workspace has no webhook secret to sign with")
        else:
            secret = workspace.webhook_secret.encode()
            attempt = webhooks.deliver(
                message, secret, deliveries, time.time(), any_address=any_address
            )
        if attempt.delivered:
            logger.info("webhook delivered", extra={"attempt": deliveries})
            continue
        monitoring.count(monitoring.WEBHOOK_DELIVERY_FAILURES)
        delay = webhooks.retry_delay_seconds(deliveries)
        logger.warning(
            "webhook failed; retried later",
            extra={"attempt": deliveries, "result": attempt.detail, "retry_in_seconds": delay},
        )
        wiring.webhook_queue().retry_after(record["receiptHandle"], delay)
        failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
