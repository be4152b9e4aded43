"""A webhook receiver on 127.0.0.1 that records what it is sent and can fail on purpose."""

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


class Receiver:
    """`failures_per_event`: how many deliveries of each event id get a 500 first
    (None: every one)."""

    def __init__(self, failures_per_event: int | None = 0) -> None:
        self.failures_per_event = failures_per_event
        self.received: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver.answer(headers.get("x-event-id", ""))
                with receiver.lock:
                    receiver.received.append(Received(self.path, headers, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, event_id: str) -> int:
        with self.lock:
            before = sum(1 for r in self.received if r.headers.get("x-event-id") == event_id)
        if self.failures_per_event is None or before < self.failures_per_event:
            return 500
        return 204

    def delivered(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.answered == 204]


@contextmanager
def receiving(failures_per_event: int | None = 0) -> Iterator[Receiver]:
    receiver = Receiver(failures_per_event)
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
