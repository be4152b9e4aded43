"""Compliance guardrails across batches through the real workflow and the simulated
provider, with the product's clock moved: contact limits per workspace (atomic at the
claim), the us_tcpa profile (recipient-local hours, Florida's, federal holidays,
consent), windows that may only narrow a profile, and the audit of each placed call."""

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from batch_calls.handlers import wiring
from batch_calls.logic import suppression
from batch_calls.logic.dispatch import NAP_HORIZON
from cli.main import main
from local.clock import ShiftedClock
from local.demo import seed_workspace
from tests.api.client import Client, multipart
from tests.orchestration.conftest import Product, moment

EASTERN = ZoneInfo("America/New_York")
HEADER = "phone_number,customer_name,consent,sim_outcomes,sim_duration_seconds\n"


class Tenant:
    """A workspace of its own, configured with `batch-calls admin configure`."""

    def __init__(self, product: Product, name: str, number: str, *configure: str) -> None:
        created = seed_workspace(wiring.database(), name=name, numbers=(number,))
        self.workspace_id = created.workspace.workspace_id
        self.number = number
        self.product = product
        self.client = Client(product.local.gateway.url, created.api_key)
        table = wiring.database().table.name
        argv = ["admin", "--table", table, "configure", "--workspace", self.workspace_id]
        assert main([*argv, *configure]) == 0

    def create(self, csv_text: str, **fields: str) -> dict[str, Any]:
        form = {"agent_id": "agt_demo", "from_phone_number": self.number, **fields}
        body, content_type = multipart(form, {"file": ("c.csv", csv_text.encode())})
        reply = self.client.request("POST", "/batch-calls", body=body, content_type=content_type)
        return {**reply.body, "http_status": reply.status}

    def batch(self, batch_id: str) -> dict[str, Any]:
        return dict(self.client.request("GET", f"/batch-calls/{batch_id}").body)

    def recipients(self, batch_id: str) -> dict[str, dict[str, Any]]:
        reply = self.client.request("GET", f"/batch-calls/{batch_id}/recipients?limit=1000")
        return {r["phone_number"]: r for r in reply.body["data"]}

    def settled(self, batch_id: str) -> dict[str, Any]:
        """Once nothing is live and the batch says why it waits (or is over): after its
        run ends, which a slot that saw a live call may delay by a nap (NAP_HORIZON)."""
        return dict(
            self.product.wait_until(
                lambda: (
                    b
                    if (b := self.batch(batch_id))["counts"]["in_progress"] == 0
                    and (b["waiting_for"] or b["status"] == "completed")
                    else None
                ),
                timeout=NAP_HORIZON.total_seconds() + 60,
            )
        )


def rows(*numbers: str, consent: str = "yes", outcomes: str = "completed") -> str:
    return HEADER + "".join(f'{n},N{i},{consent},"{outcomes}",0.3\n' for i, n in enumerate(numbers))


@pytest.fixture
def clock(product: Product) -> Iterator[ShiftedClock]:
    yield product.local.clock
    product.local.clock.reset()


def started(product: Product, clock: ShiftedClock, batch_id: str) -> dict[str, list[datetime]]:
    """Each number's call starts on the product's clock, from the simulator's log."""
    starts: dict[str, list[datetime]] = {}
    for call in product.calls(batch_id):
        starts.setdefault(call["to"], []).append(clock.shifted(moment(call["started_at"])))
    return starts


def test_a_number_over_its_limit_waits_across_batches_until_the_limit_frees(
    product: Product, clock: ShiftedClock
) -> None:
    limits = '[{"max_calls": 1, "per_hours": 1}]'
    tenant = Tenant(product, "Limits", "+14155553000", "--contact-limits", limits)
    first = tenant.create(rows("+14155553001"))["id"]
    product.wait_until(lambda: tenant.batch(first)["status"] == "completed", timeout=60)
    (called_at,) = started(product, clock, first)["+14155553001"]

    second = tenant.create(rows("+14155553001", "+14155553002"))["id"]
    batch = tenant.settled(second)
    assert batch["waiting_for"] == "contact_limit"
    held = tenant.recipients(second)["+14155553001"]
    assert (held["status"], held["waiting_for"]) == ("pending", "contact_limit")
    frees = moment(held["waiting_until"])
    # An hour after its claim, which the simulator saw placed a moment later.
    assert called_at - timedelta(seconds=2) <= frees - timedelta(hours=1) <= called_at
    assert tenant.recipients(second)["+14155553002"]["status"] == "completed"
    assert "+14155553001" not in started(product, clock, second)

    clock.set(frees - timedelta(seconds=2))
    product.wait_until(lambda: tenant.batch(second)["status"] == "completed", timeout=60)
    (again,) = started(product, clock, second)["+14155553001"]
    assert again >= frees


def test_concurrent_claims_never_take_more_calls_than_the_limit(product: Product) -> None:
    """Four slots race for eight rows of one number (kept: dedupe off); the claim's
    condition on the number's history lets exactly two through."""
    tenant = Tenant(
        product, "Race", "+14155553100", "--contact-limits", '[{"max_calls": 2, "per_hours": 1}]'
    )
    batch_id = tenant.create(rows(*["+14155553101"] * 8), dedupe="false", max_concurrent_calls="4")[
        "id"
    ]
    assert tenant.settled(batch_id)["waiting_for"] == "contact_limit"
    assert Counter(call["to"] for call in product.calls(batch_id)) == {"+14155553101": 2}
    assert tenant.client.request("POST", f"/batch-calls/{batch_id}/cancel").status == 200


@pytest.fixture
def tcpa(product: Product) -> Tenant:
    return Tenant(product, "TCPA", "+12125553000", "--compliance-profile", "us_tcpa")


def test_us_tcpa_keeps_florida_to_8_pm_and_everyone_to_9_pm_local(
    product: Product, clock: ShiftedClock, tcpa: Tenant
) -> None:
    florida, new_york, late_new_york = "+13055553101", "+12125553102", "+12125553103"
    # A Tuesday, 20:30:10 (the clock is set to the whole second); Miami is Eastern.
    clock.set(datetime(2026, 11, 24, 20, 30, 10, tzinfo=EASTERN))
    evening = tcpa.create(rows(florida, new_york))
    assert evening["http_status"] == 201, evening
    batch_id = evening["id"]
    product.wait_until(
        lambda: tcpa.recipients(batch_id).get(new_york, {}).get("status") == "completed"
    )
    assert tcpa.settled(batch_id)["waiting_for"] == "calling_window"
    held = tcpa.recipients(batch_id)[florida]
    morning = datetime(2026, 11, 25, 8, 0, tzinfo=EASTERN)
    assert (held["waiting_for"], moment(held["waiting_until"])) == ("calling_window", morning)
    assert florida not in started(product, clock, batch_id)

    clock.set(datetime(2026, 11, 24, 21, 30, tzinfo=EASTERN))
    late_id = tcpa.create(rows(late_new_york))["id"]
    assert tcpa.settled(late_id)["waiting_for"] == "calling_window"
    assert product.calls(late_id) == []

    clock.set(morning - timedelta(seconds=2))
    for each in (batch_id, late_id):
        product.wait_until(lambda b=each: tcpa.batch(b)["status"] == "completed", timeout=60)
    assert min(started(product, clock, batch_id)[florida]) >= morning
    assert min(started(product, clock, late_id)[late_new_york]) >= morning

    audit = tcpa.client.request("GET", f"/batch-calls/{batch_id}/audit")
    assert audit.status == 200
    entries = list(csv.DictReader(io.StringIO(audit.body.lstrip("\ufeff"))))
    assert sorted(e["call_id"] for e in entries) == sorted(
        call["call_id"] for call in product.calls(batch_id)
    )
    by_number = {e["phone_number"].removeprefix("'"): e for e in entries}
    assert by_number[florida]["state"] == "FL" and by_number[florida]["profile"] == "us_tcpa"
    assert "us_tcpa:FL 08:00-20:00" in by_number[florida]["windows"]
    assert "America/New_York 2026-11-24 20:30" in by_number[new_york]["local_times"]
    assert "3/24h: 0" in by_number[florida]["limit_counts"]  # Florida's own limit, counted
    assert by_number[new_york]["consent"] == "required"


def test_us_tcpa_defers_a_federal_holiday_to_the_next_morning(
    product: Product, clock: ShiftedClock, tcpa: Tenant
) -> None:
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=EASTERN))  # Thanksgiving
    batch_id = tcpa.create(rows("+12125553201"))["id"]
    assert tcpa.settled(batch_id)["waiting_for"] == "calling_window"
    (held,) = tcpa.recipients(batch_id).values()
    assert moment(held["waiting_until"]) == datetime(2026, 11, 27, 8, 0, tzinfo=EASTERN)
    assert product.calls(batch_id) == []
    assert tcpa.client.request("POST", f"/batch-calls/{batch_id}/cancel").status == 200

    # A batch may opt out of the holidays: the profile's hours still hold, and say so.
    working = tcpa.create(rows("+12125553202"), observe_federal_holidays="false")
    assert working["http_status"] == 201, working
    product.wait_until(lambda: tcpa.batch(working["id"])["status"] == "completed", timeout=60)
    (call,) = product.calls(working["id"])
    assert clock.shifted(moment(call["started_at"])).date() == clock.now().date()
    (entry,) = csv.DictReader(
        io.StringIO(tcpa.client.request("GET", f"/batch-calls/{working['id']}/audit").body)
    )
    assert entry["holidays"].startswith("not observed")
    assert "us_tcpa 08:00-21:00" in entry["windows"]


def test_a_batch_adds_a_profile_its_workspace_lacks_but_never_removes_one(
    product: Product, clock: ShiftedClock, tcpa: Tenant
) -> None:
    plain = Tenant(product, "Plain", "+12125553250")
    clock.set(datetime(2026, 11, 24, 21, 30, tzinfo=EASTERN))  # a Tuesday, after 9 pm
    added = plain.create(
        HEADER + '+12125553251,A,yes,"completed",0.3\n+12125553252,B,,"completed",0.3\n',
        compliance_profile="us_tcpa",
    )
    assert added["http_status"] == 201, added
    assert [w["rows"] for w in added["warnings"] if w["reason"] == "no_consent"] == [[3]]
    assert plain.settled(added["id"])["waiting_for"] == "calling_window"
    assert product.calls(added["id"]) == []
    assert plain.create(rows("+12125553253"))["http_status"] == 201  # the workspace's own: none

    removed = tcpa.create(rows("+12125553254"), compliance_profile="none")
    assert (removed["http_status"], removed["field"]) == (400, "compliance_profile")
    assert "would remove this workspace's us_tcpa profile" in removed["message"]
    early = {"timezone": "America/New_York", "start": "07:00", "end": "20:00"}
    widened = plain.create(
        rows("+12125553255"), compliance_profile="us_tcpa", calling_window=json.dumps(early)
    )
    assert (widened["http_status"], widened["field"]) == (400, "calling_window")


def test_us_tcpa_refuses_a_wider_window_and_skips_rows_without_consent(tcpa: Tenant) -> None:
    early = {"timezone": "America/New_York", "start": "07:00", "end": "20:00"}
    refused = tcpa.create(rows("+12125553301"), calling_window=json.dumps(early))
    assert (refused["http_status"], refused["field"]) == (400, "calling_window")
    assert "start 07:00 is before us_tcpa's 08:00" in refused["message"]

    created = tcpa.create(
        HEADER + '+12125553302,A,yes,"completed",0.3\n+12125553303,B,no,"completed",0.3\n',
        start="false",
    )
    assert created["http_status"] == 201, created
    (warning,) = [w for w in created["warnings"] if w["reason"] == "no_consent"]
    assert warning["rows"] == [3]
    loaded = tcpa.product.wait_until(
        lambda: r if len(r := tcpa.recipients(created["id"])) == 2 else None
    )
    skipped = loaded["+12125553303"]
    assert (skipped["status"], skipped["skip_reason"]) == ("skipped", "no_consent")


def test_an_imported_do_not_call_list_holds_until_it_expires_and_opt_outs_for_good(
    product: Product, clock: ShiftedClock
) -> None:
    tenant = Tenant(product, "Imports", "+14155553400")
    listed, opted_out = "+14155553401", "+14155553402"
    expires = clock.now() + timedelta(days=30)
    body, content_type = multipart(
        {"source": "dnc-extract-2026-12", "expires_at": expires.isoformat()},
        {"file": ("dnc.csv", f"phone_number\n{listed}\n{opted_out}\n".encode())},
    )
    reply = tenant.client.request(
        "POST", "/suppression-list/upload", body=body, content_type=content_type
    )
    assert (reply.status, reply.body["added"]) == (200, 2)
    bad = tenant.client.request(
        "POST", "/suppression-list", json_body={"phone_number": listed, "source": "opt_out"}
    )
    assert (bad.status, bad.body["field"]) == (400, "source")
    suppression.suppress_opted_out(
        wiring.services(), wiring.load_queue(), tenant.workspace_id, opted_out
    )
    entries = {
        e["phone_number"]: e for e in tenant.client.request("GET", "/suppression-list").body["data"]
    }
    assert entries[listed]["source"] == "dnc-extract-2026-12"
    assert moment(entries[listed]["expires_at"]) == expires.replace(microsecond=0)
    assert entries[opted_out]["expires_at"] is None  # an opt-out is for good

    held = tenant.create(rows(listed, opted_out), start="false")
    assert {w["reason"] for w in held["warnings"]} == {"suppressed"}

    clock.set(expires + timedelta(minutes=1))
    after = tenant.create(rows(listed, opted_out))
    product.wait_until(lambda: tenant.batch(after["id"])["status"] == "completed", timeout=60)
    called = {call["to"] for call in product.calls(after["id"])}
    assert called == {listed}  # its import expired; the opt-out holds
