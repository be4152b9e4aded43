"""Fakes for the simulated provider's tests."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from batch_calls.telephony.base import CallRequest

SECRET = b"test-secret"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/simulator"


class FakeSqs:
    """Records send_message calls (an in-memory fake rather than a mock)."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail = fail
        self._lock = threading.Lock()

    def send_message(self, **request: Any) -> dict[str, Any]:
        if self.fail:
            raise ConnectionError("SQS is down")
        with self._lock:
            self.sent.append(request)
        return {"MessageId": str(len(self.sent))}


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def call_request(
    to: str = "+14155550101",
    attempt: int = 1,
    variables: Mapping[str, str] | None = None,
    batch_id: str = "b_1",
    row: int = 1,
) -> CallRequest:
    return CallRequest(
        call_id=f"call_{batch_id}_{row}_{attempt}",
        idempotency_key=f"{batch_id}:1:{row}:{attempt}",
        to=to,
        from_number="+14155550100",
        agent_id="agent_1",
        variables=dict(variables or {}),
        batch_id=batch_id,
        attempt=attempt,
    )
