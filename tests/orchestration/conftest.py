"""Batches run through the real ASL file (moto's interpreter), the in-process functions and
the simulated provider; each test checks the product against the simulator's own call
log (`/_local/simulator/calls`), which is independent of the product's counters."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local import runtime
from tests.api.client import Client, multipart

FINAL = {"completed", "no_answer", "voicemail", "failed", "skipped", "cancelled"}


def contacts(
    count: int, outcomes: str = "completed", duration: float = 0.3, first: int = 1000
) -> str:
    """`count` US numbers, each scripted with `outcomes` (per attempt) and `duration`."""
    rows = "".join(
        f'+1415555{first + i:04d},Name {i},"{outcomes}",{duration}\n' for i in range(count)
    )
    return "phone_number,customer_name,sim_outcomes,sim_duration_seconds\n" + rows


class Product:
    def __init__(self, local: runtime.LocalRuntime) -> None:
        self.local = local
        self.client = Client(local.gateway.url, local.demo.api_key)

    def create(self, csv: str, **fields: str) -> str:
        form = {"agent_id": "agt_demo", "from_phone_number": "+14155550100", **fields}
        body, content_type = multipart(form, {"file": ("contacts.csv", csv.encode())})
        reply = self.client.request("POST", "/batch-calls", body=body, content_type=content_type)
        assert reply.status == 201, reply.body
        return str(reply.body["id"])

    def batch(self, batch_id: str) -> dict[str, Any]:
        return dict(self.client.request("GET", f"/batch-calls/{batch_id}").body)

    def act(self, batch_id: str, action: str) -> dict[str, Any]:
        reply = self.client.request("POST", f"/batch-calls/{batch_id}/{action}")
        assert reply.status == 200, reply.body
        return dict(reply.body)

    def recipients(self, batch_id: str) -> list[dict[str, Any]]:
        reply = self.client.request("GET", f"/batch-calls/{batch_id}/recipients?limit=1000")
        return list(reply.body["data"])

    def calls(self, batch_id: str) -> list[dict[str, Any]]:
        reply = Client(self.local.gateway.url, None).request(
            "GET", f"/_local/simulator/calls?batch_id={batch_id}"
        )
        return list(reply.body["data"])

    def peak(self, batch_id: str) -> int:
        reply = Client(self.local.gateway.url, None).request("GET", "/_local/simulator/stats")
        return int(reply.body["batches"].get(batch_id, {}).get("peak_simultaneous", 0))

    def wait_for(self, batch_id: str, *statuses: str, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            batch = self.batch(batch_id)
            if batch["status"] in statuses:
                return batch
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"still {batch['status']} after {timeout} s: {batch['counts']}"
                )
            time.sleep(0.25)

    def wait_until(self, probe: Any, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := probe()):
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing after {timeout} s")
            time.sleep(0.1)
        return value

    @contextmanager
    def clock_moved(self, minutes: float) -> Iterator[None]:
        """The product's clock `minutes` ahead (the scheduler and the sweep follow it)."""
        self.local.clock.set(datetime.now(UTC) + timedelta(minutes=minutes))
        try:
            yield
        finally:
            self.local.clock.reset()

    def assert_counters_match_recipients(self, batch_id: str) -> None:
        """Invariant 4: counters always equal the sum of recipient statuses."""
        counted: dict[str, int] = {}
        for recipient in self.recipients(batch_id):
            status = recipient["status"]
            key = {"waiting_retry": "pending", "dialing": "in_progress"}.get(status, status)
            counted[key] = counted.get(key, 0) + 1
        counts = dict(self.batch(batch_id)["counts"])
        total = counts.pop("total")
        assert {k: v for k, v in counts.items() if v} == counted
        assert total == sum(counted.values())


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="package")
def product() -> Iterator[Product]:
    with runtime.running() as local:  # the production dial settings
        yield Product(local)
