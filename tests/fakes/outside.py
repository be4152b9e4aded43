"""In-memory fakes of logic's other ports (logic/ports.py) and of a telephony provider:
each keeps what it was asked, for tests to read."""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from batch_calls.telephony.base import CallEvent, CallRequest, PlacedCall


@dataclass
class FakeClock:
    """The product's clock, moved by the test; `sleep` moves it too."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class FakeBlobs:
    objects: dict[str, bytes] = field(default_factory=dict)
    recipients: dict[tuple[str, str, int], list[dict[str, Any]]] = field(default_factory=dict)

    def put_source(
        self, workspace_id: str, batch_id: str, part: int, data: bytes, name: str
    ) -> str:
        key = f"uploads/{workspace_id}/{batch_id}/source-{part:03d}-{name}"
        self.objects[key] = data
        return key

    def put_recipients(
        self, workspace_id: str, batch_id: str, part: int, records: Iterable[dict[str, Any]]
    ) -> str:
        self.recipients[workspace_id, batch_id, part] = list(records)
        return f"batches/{workspace_id}/{batch_id}/recipients-{part:03d}.jsonl"

    def read_recipients(
        self, workspace_id: str, batch_id: str, part: int
    ) -> Iterator[dict[str, Any]]:
        return iter(self.recipients[workspace_id, batch_id, part])

    def presigned_upload(
        self, workspace_id: str, upload_id: str, max_bytes: int, expires_in: int
    ) -> dict[str, Any]:
        return {"url": "https://uploads.invalid/", "fields": {"key": upload_id}}

    def get_upload(self, workspace_id: str, upload_id: str, max_bytes: int) -> bytes | None:
        data = self.objects.get(f"uploads/{workspace_id}/pending/{upload_id}")
        return None if data is None else data[: max_bytes + 1]

    def get_dropped(self, key: str, max_bytes: int) -> tuple[bytes, dict[str, str], str]:
        return self.objects[key][: max_bytes + 1], {}, "etag"

    def put_report(self, key: str, csv: IO[bytes]) -> None:
        self.objects[key] = csv.read()

    def report_size(self, key: str) -> int | None:
        return None if key not in self.objects else len(self.objects[key])

    def get_report(self, key: str) -> bytes:
        return self.objects[key]

    def report_url(self, key: str, filename: str, expires_in: int) -> str:
        return f"https://reports.invalid/{key}?filename={filename}"

    def put_rejection(self, key: str, body: dict[str, Any]) -> None:
        self.objects[key] = repr(body).encode()


@dataclass
class FakeWorkflow:
    """Started and scheduled runs by execution name; stopped ones; answered tokens (a
    token in `gone` is one whose task has ended)."""

    started: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped: list[str] = field(default_factory=list)
    scheduled: dict[str, tuple[datetime, dict[str, Any]]] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)

    def start(self, name: str, payload: dict[str, Any]) -> None:
        self.started.setdefault(name, payload)

    def stop(self, name: str) -> None:
        self.stopped.append(name)

    def schedule(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        self.scheduled.setdefault(name, (at, payload))

    def unschedule(self, name: str) -> None:
        self.scheduled.pop(name, None)

    def answer(self, task_token: str, output: dict[str, Any]) -> bool:
        if task_token in self.gone:
            return False
        self.answers[task_token] = output
        return True

    def heartbeat(self, task_token: str) -> None:
        pass


@dataclass
class FakeLoadQueue:
    """Every request, as (action, workspace, batch or None, part or None)."""

    requests: list[tuple[str, str, str | None, int | None]] = field(default_factory=list)

    def request_load(self, workspace_id: str, batch_id: str, part: int) -> None:
        self.requests.append(("load", workspace_id, batch_id, part))

    def request_cancel(self, workspace_id: str, batch_id: str) -> None:
        self.requests.append(("cancel", workspace_id, batch_id, None))

    def request_report(self, workspace_id: str, batch_id: str) -> None:
        self.requests.append(("report", workspace_id, batch_id, None))

    def request_window_reset(self, workspace_id: str, batch_id: str) -> None:
        self.requests.append(("window_reset", workspace_id, batch_id, None))

    def request_suppression_sweep(self, workspace_id: str) -> None:
        self.requests.append(("suppression_sweep", workspace_id, None, None))


@dataclass
class FakeWebhookQueue:
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    def enqueue(self, delivery: dict[str, Any]) -> None:
        self.deliveries.append(delivery)

    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        pass


@dataclass
class FakeEventBus:
    """Published events as (detail type, detail); `broken` makes every publish fail."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    broken: bool = False

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        if self.broken:
            raise RuntimeError("the bus is down")
        self.events.append((detail_type, detail))


@dataclass
class FakeProvider:
    """A telephony provider that takes every call (`refuse` raises instead) and knows
    the calls' states a test gives it in `states` for lookups."""

    name: str = "fake"
    placed: list[CallRequest] = field(default_factory=list)
    refuse: Exception | None = None
    states: dict[str, CallEvent | None] = field(default_factory=dict)

    def place_call(self, request: CallRequest) -> PlacedCall:
        if self.refuse is not None:
            raise self.refuse
        self.placed.append(request)
        return PlacedCall(f"prov-{request.call_id}")

    def parse_event(self, headers: Mapping[str, str], body: bytes, url: str = "") -> CallEvent:
        raise NotImplementedError("the fake provider receives no webhooks")

    def lookup(self, call_id: str, provider_call_id: str | None) -> CallEvent | None:
        return self.states.get(call_id)
