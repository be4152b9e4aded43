"""The simulated provider's worker: ends each simulated call and POSTs its signed status
callback to the product's webhook, as a real provider would.

Each SQS message is one call, delayed by the whole seconds of its length
(`telephony.simulated`); the worker sleeps the fraction left, marks the call ended in the
simulator's registry (its own timeline, before the product hears of it) and POSTs the
callback. A callback that fails (network error, non-2xx answer) is reported in
`batchItemFailures`, so SQS delivers it again, as providers retry their webhooks, and
after the queue's maxReceiveCount it lands in the dead-letter queue.
"""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls.handlers import wiring
from batch_calls.handlers.sqs import HandBack, SQSRecord, each_record
from batch_calls.telephony import signing, simulated

logger = Logger(service="batch-calls-simulator")

WEBHOOK_PATH = "/provider-events/simulated"
POST_TIMEOUT_SECONDS = 10
# A record is only started with this much of the invocation left (one POST's timeout and
# a margin); the rest are handed back to SQS instead of being cut off mid-request.
RESERVE_MILLIS = (POST_TIMEOUT_SECONDS + 2) * 1000


class CallbackFailed(Exception):
    """The webhook did not accept the callback; SQS will deliver the message again."""


def deliver(
    message: Mapping[str, Any], callback_url: str, secret: bytes, sent_at: float | None = None
) -> None:
    """End the call and POST its callback; CallbackFailed unless the webhook took it.

    `sent_at` (the message's SentTimestamp) lets the sleep absorb the time the message
    waited after its delay (poll intervals), so the call lasts its duration, not more.
    """
    wait = _remaining_wait(message, sent_at, time.time())
    if wait > 0:
        time.sleep(wait)
    ended_at = time.time()
    simulated.end_call(str(message["provider_call_id"]), ended_at)
    body = simulated.callback_body(
        str(message["call_id"]),
        str(message["outcome"]),
        message.get("duration_seconds"),
        message.get("facts"),
    )
    headers = {"Content-Type": "application/json", **signing.sign(secret, body, ended_at)}
    request = urllib.request.Request(callback_url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=POST_TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
        raise CallbackFailed(f"POST {callback_url} failed: {exc}") from exc
    if not 200 <= status < 300:
        raise CallbackFailed(f"POST {callback_url} answered {status}")


def _remaining_wait(message: Mapping[str, Any], sent_at: float | None, now: float) -> float:
    # Below a second by construction (SQS delayed the whole seconds); capped anyway.
    remainder = min(max(float(message.get("remainder_seconds") or 0.0), 0.0), 1.0)
    if sent_at is None:
        return remainder
    due = sent_at + float(message.get("duration_seconds") or 0.0)
    return min(remainder, max(due - now, 0.0))


def _sent_at(record: Mapping[str, Any]) -> float | None:
    sent = (record.get("attributes") or {}).get("SentTimestamp")
    return int(sent) / 1000 if sent else None


def _ends(record: Mapping[str, Any]) -> float:
    """When the record's call ends; an unreadable record first (it fails at once)."""
    try:
        duration = float(json.loads(record["body"]).get("duration_seconds") or 0.0)
    except (ValueError, KeyError, TypeError, AttributeError):
        return float("-inf")
    return (_sent_at(record) or 0.0) + duration


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    callback_url = wiring.deployment().required("callback_url").rstrip("/") + WEBHOOK_PATH
    secret = wiring.simulator_key()
    if not secret:
        raise RuntimeError("no simulator key: the SIMULATOR_SECRET_ARN secret is missing or empty")

    def end_call(record: SQSRecord) -> None:
        if context.get_remaining_time_in_millis() < RESERVE_MILLIS:
            logger.warning("out of time: handing the record back", extra={"id": record.message_id})
            raise HandBack("out of time")
        message = json.loads(record.body)
        try:
            deliver(message, callback_url, secret, _sent_at(record.raw_event))
        except CallbackFailed as failed:
            logger.warning(
                "callback not delivered", extra={"id": record.message_id, "error": str(failed)}
            )
            raise HandBack(str(failed)) from failed
        logger.info(
            "callback delivered",
            extra={"call_id": message["call_id"], "outcome": message["outcome"]},
        )

    # Soonest end first: each sleep then only waits for its own call's end. A message we
    # cannot read, a callback not taken or one out of time is handed back to SQS (the
    # unreadable ones end in the DLQ for a look).
    ordered = {**event, "Records": sorted(event["Records"], key=_ends)}
    return dict(each_record(ordered, context, end_call, logger))
