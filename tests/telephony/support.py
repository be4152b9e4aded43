"""Fakes for the simulated provider's tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class CallbackServer:
    """An HTTP server on 127.0.0.1 (port 0) that records POSTs and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[str, dict[str, str], bytes, float]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.received.append((self.path, dict(self.headers.items()), body, time.time()))
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> CallbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
