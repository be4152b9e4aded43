"""Provider events about our calls.

`lambda_handler`: POST /provider-events/{provider} (no API key: signed instead), for the
providers that call back over HTTPS (simulated, http, twilio).
`contact_events`: Amazon Connect contact events, EventBridge -> SQS -> this function.

Either way the outcome is recorded in DynamoDB first, then the waiting Dial task is
released (logic/call_events.py).
"""

import base64
import json
import urllib.parse
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import monitoring
from batch_calls.handlers import wiring
from batch_calls.handlers.sqs import HandBack, SQSRecord, each_record
from batch_calls.handlers.wiring import services
from batch_calls.logic.call_events import Received, receive
from batch_calls.telephony.amazon_connect import AmazonConnectProvider, read_contact_event
from batch_calls.telephony.base import InvalidSignature, ProviderNotConfigured

logger = monitoring.logger("call-events")

PATH_PREFIX = "/provider-events/"
# Providers whose events never come over the public API.
NOT_WEBHOOKS = frozenset({AmazonConnectProvider.name})


def _reply(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


def _not_found(message: str) -> dict[str, Any]:
    return _reply(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": message})


def public_url(event: dict[str, Any], provider: str) -> str:
    """The URL the provider sent the webhook to, as it signed it: what it was given
    (CALLBACK_URL, the API's public base, + /provider-events/{provider}) + the query."""
    base = wiring.deployment().callback_url.rstrip("/")
    query = event.get("multiValueQueryStringParameters") or {
        name: [value] for name, value in (event.get("queryStringParameters") or {}).items()
    }
    url = base + PATH_PREFIX + provider
    return url + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    path = str(event.get("path") or "").rstrip("/")
    name = path.rsplit("/", 1)[-1] if PATH_PREFIX in path + "/" else ""
    if not name or name in NOT_WEBHOOKS:
        return _not_found("unknown provider")
    try:
        provider = wiring.provider(name)
    except ProviderNotConfigured:
        return _not_found(f"provider {name} is not configured here")
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        call_event = provider.parse_event(headers, body, public_url(event, name))
    except InvalidSignature as error:
        logger.warning("rejected webhook", extra={"provider": name, "reason": str(error)})
        return _reply(
            HTTPStatus.UNAUTHORIZED, {"error": "invalid_signature", "message": str(error)}
        )
    except ValueError as error:
        return _reply(HTTPStatus.BAD_REQUEST, {"error": "invalid_event", "message": str(error)})
    logger.append_keys(call_id=call_event.call_id)
    received = receive(services(), wiring.load_queue(), provider.name, call_event)
    logger.info(
        "call event",
        extra={
            "provider": name,
            "call_id": call_event.call_id,
            "status": call_event.provider_status,
            "received": received,
        },
    )
    if received is Received.UNKNOWN_CALL:
        return _not_found("unknown call")
    return _reply(HTTPStatus.OK, {"recorded": received is Received.RECORDED})


# A contact event whose ContactId we do not know is handed back this many times (the
# dial stores the id right after Connect answers, so a minute or two is plenty); then it
# is dropped as a contact this product did not place (the rule matches every contact of
# the account started through the API).
UNKNOWN_CONTACT_TRIES = 3


def hand_back_unknown(record: dict[str, Any]) -> bool:
    received = (record.get("attributes") or {}).get("ApproximateReceiveCount") or "1"
    return int(received) < UNKNOWN_CONTACT_TRIES


def _contact_event(record: SQSRecord) -> None:
    call_event = read_contact_event(record.body.encode())
    received = receive(services(), wiring.load_queue(), AmazonConnectProvider.name, call_event)
    logger.info(
        "contact event",
        extra={
            "contact_id": call_event.provider_call_id,
            "status": call_event.provider_status,
            "received": received,
        },
    )
    if received is Received.UNKNOWN_CALL and hand_back_unknown(record.raw_event):
        raise HandBack(f"contact {call_event.provider_call_id} not known (yet)")


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def contact_events(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SQS records, each an EventBridge "Amazon Connect Contact Event". One we cannot
    read is handed back to SQS, so it ends in the dead-letter queue; one about a contact
    we do not know (yet) is handed back a few times (`hand_back_unknown`)."""
    return dict(each_record(event, context, _contact_event, logger))
