"""Provider webhooks: POST /provider-events/{provider} (no API key: signed instead).

The outcome is recorded in DynamoDB first, then the waiting Dial task is released.
"""

import base64
import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import store, telephony
from batch_calls.handlers.wiring import rounds
from batch_calls.logic import rounds as logic
from batch_calls.logic import suppression
from batch_calls.telephony.base import InvalidSignature

logger = Logger(service="batch-calls-call-events")


def _reply(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    provider = telephony.provider()
    name = (event.get("pathParameters") or {}).get("proxy", "").rsplit("/", 1)[-1]
    if (
        event.get("path", "").rstrip("/").rsplit("/", 1)[-1] != provider.name
        and name != provider.name
    ):
        return _reply(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": "unknown provider"})
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        call_event = provider.parse_event(headers, body)
    except InvalidSignature as error:
        logger.warning("rejected webhook", extra={"reason": str(error)})
        return _reply(
            HTTPStatus.UNAUTHORIZED, {"error": "invalid_signature", "message": str(error)}
        )
    except ValueError as error:
        return _reply(HTTPStatus.BAD_REQUEST, {"error": "invalid_event", "message": str(error)})
    services = rounds()
    call = services.attempts.call(call_event.call_id)
    if call is None:
        return _reply(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": "unknown call"})
    if call_event.opted_out:
        recipient = services.database.get_recipient(
            call.workspace_id, call.batch_id, call.part, call.row
        )
        suppression.suppress_opted_out(
            services, store.load_queue(), call.workspace_id, recipient.phone_number
        )
    if call_event.outcome is None:
        if call.task_token:
            services.workflow.heartbeat(call.task_token)  # the call is alive
        return _reply(HTTPStatus.OK, {"recorded": False})
    recorded = logic.record(services, call, call_event.outcome)
    logger.info(
        "call event",
        extra={"call_id": call.call_id, "outcome": call_event.outcome, "recorded": recorded},
    )
    return _reply(HTTPStatus.OK, {"recorded": recorded})
