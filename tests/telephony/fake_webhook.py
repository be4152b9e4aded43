"""A stand-in for the product's webhook function, for the embedded test: it verifies the
simulated provider's callback as the real one will (`parse_event` on the proxy event) and
records what it read."""

from __future__ import annotations

import base64
import threading
import time
from typing import Any

from batch_calls.handlers import wiring
from batch_calls.telephony.base import CallEvent, InvalidSignature
from batch_calls.telephony.simulated import SimulatedProvider

EVENTS: list[tuple[float, CallEvent]] = []
REJECTED: list[str] = []
_lock = threading.Lock()


def receive(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    provider = SimulatedProvider(wiring.simulator_key(), queue_url="unused")
    try:
        parsed = provider.parse_event(event.get("headers") or {}, raw)
    except InvalidSignature as exc:
        with _lock:
            REJECTED.append(str(exc))
        return {"statusCode": 401, "body": '{"message": "invalid signature"}'}
    with _lock:
        EVENTS.append((time.time(), parsed))
    return {"statusCode": 200, "body": "{}"}
