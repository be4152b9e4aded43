"""Calling hours, pacing, caller IDs and suppression through the real workflow, with the
product's clock moved (local.clock.ShiftedClock), checked against the simulator's own
call log (its times are real: `clock.shifted` turns them into the product's time)."""

import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from batch_calls.domain.batch import CallingWindow
from batch_calls.domain.windows import open_in_all, recipient_zones
from batch_calls.handlers import wiring
from batch_calls.telephony.signing import sign
from cli.main import main
from local.clock import ShiftedClock
from local.demo import seed_workspace
from tests.api.client import Client, multipart
from tests.orchestration.conftest import Product, moment

NEW_YORK = ZoneInfo("America/New_York")
HEADER = "phone_number,customer_name,sim_outcomes,sim_duration_seconds\n"


@pytest.fixture
def clock(product: Product) -> Iterator[ShiftedClock]:
    yield product.local.clock
    product.local.clock.reset()


def rows(*numbers: str, outcomes: str = "completed") -> str:
    return HEADER + "".join(f'{n},N{i},"{outcomes}",0.3\n' for i, n in enumerate(numbers))


def call_times(product: Product, clock: ShiftedClock, batch_id: str) -> list[datetime]:
    return [clock.shifted(moment(c["started_at"])) for c in product.calls(batch_id)]


def waiting(product: Product, batch_id: str, reason: str) -> dict[str, object]:
    return dict(product.wait_until(lambda: _waiting_for(product, batch_id, reason), timeout=30))


def _waiting_for(product: Product, batch_id: str, reason: str) -> dict[str, object] | None:
    batch = product.batch(batch_id)
    return batch if batch["waiting_for"] == reason and batch["counts"]["in_progress"] == 0 else None


def test_a_closed_window_places_no_call_and_resumes_at_the_opening(
    product: Product, clock: ShiftedClock
) -> None:
    clock.set(datetime(2026, 11, 23, 8, 59, 57, tzinfo=NEW_YORK))  # a Monday
    window = {"timezone": "America/New_York", "start": "09:00", "end": "17:00", "days": [1, 5]}
    batch_id = product.create(
        rows("+14155552001", "+14155552002", "+14155552003"),
        calling_window=json.dumps(window),
    )
    batch = waiting(product, batch_id, "calling_window")
    opening = datetime(2026, 11, 23, 9, 0, tzinfo=NEW_YORK)
    assert (batch["waiting_for_window"], moment(str(batch["next_attempt_at"]))) == (True, opening)
    assert product.calls(batch_id) == []

    product.wait_for(batch_id, "completed", timeout=60)
    times = call_times(product, clock, batch_id)
    assert len(times) == 3 and min(times) >= opening
    product.assert_counters_match_recipients(batch_id)


def test_recipient_local_time_calls_each_inside_its_own_hours(
    product: Product, clock: ShiftedClock
) -> None:
    """Kolkata is open first; Denver (Mountain) opens at 16:00 UTC; Los Angeles and a 208
    number (Boise, Mountain, and Pacific) at 17:00 UTC: the 208 number waits for both."""
    kolkata, denver, los_angeles, idaho = (
        "+919876543210",
        "+19155552010",
        "+14155552011",
        "+12085552012",
    )
    window = {"timezone": "UTC", "start": "09:00", "end": "17:00", "recipient_local_time": True}
    clock.set(datetime(2026, 11, 23, 4, 30, tzinfo=UTC))  # 10:00 in Kolkata
    batch_id = product.create(
        rows(kolkata, denver, los_angeles, idaho),
        calling_window=json.dumps(window),
        from_phone_numbers="+14155550100,+912234567890",
    )
    batch = waiting(product, batch_id, "calling_window")
    assert moment(str(batch["next_attempt_at"])) == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert [c["to"] for c in product.calls(batch_id)] == [kolkata]

    clock.set(datetime(2026, 11, 23, 15, 59, 57, tzinfo=UTC))
    product.wait_until(lambda: len(product.calls(batch_id)) == 2, timeout=30)
    batch = waiting(product, batch_id, "calling_window")
    assert moment(str(batch["next_attempt_at"])) == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert [c["to"] for c in product.calls(batch_id)] == [kolkata, denver]

    clock.set(datetime(2026, 11, 23, 16, 59, 57, tzinfo=UTC))
    product.wait_for(batch_id, "completed", timeout=60)
    calls = product.calls(batch_id)
    assert sorted(c["to"] for c in calls) == sorted([kolkata, denver, los_angeles, idaho])
    checked = CallingWindow.model_validate(window)
    for call in calls:
        zones = recipient_zones(checked, call["to"], {})
        started = clock.shifted(moment(call["started_at"]))
        assert open_in_all(checked, zones, started), (call["to"], zones, started)
    product.assert_counters_match_recipients(batch_id)


def test_a_retry_that_would_land_after_closing_waits_for_the_next_opening(
    product: Product, clock: ShiftedClock
) -> None:
    clock.set(datetime(2026, 11, 23, 16, 59, 50, tzinfo=NEW_YORK))
    window = {"timezone": "America/New_York", "start": "09:00", "end": "17:00"}
    batch_id = product.create(
        rows("+14155552021", outcomes="no_answer,completed"),
        calling_window=json.dumps(window),
        retry_config=json.dumps({"max_retries": 1, "retry_interval_minutes": 1}),
    )
    batch = waiting(product, batch_id, "calling_window")
    next_day = datetime(2026, 11, 24, 9, 0, tzinfo=NEW_YORK)
    assert moment(str(batch["next_attempt_at"])) == next_day
    [recipient] = product.recipients(batch_id)
    assert recipient["status"] == "waiting_retry"
    retry_at = moment(str(recipient["next_attempt_at"]))  # the wait itself ends at 17:00:5x
    assert datetime(2026, 11, 23, 17, 0, tzinfo=NEW_YORK) < retry_at < next_day

    clock.set(next_day - timedelta(seconds=3))
    product.wait_for(batch_id, "completed", timeout=60)
    first, second = call_times(product, clock, batch_id)
    assert first < datetime(2026, 11, 23, 17, 0, tzinfo=NEW_YORK) and second >= next_day


def test_max_calls_per_second_never_starts_two_calls_in_one_second(product: Product) -> None:
    numbers = [f"+1415555{2100 + i:04d}" for i in range(6)]
    batch_id = product.create(rows(*numbers), max_concurrent_calls="3", max_calls_per_second="1")
    assert product.batch(batch_id)["max_calls_per_second"] == 1
    product.wait_for(batch_id, "completed", timeout=90)
    calls = product.calls(batch_id)
    assert len(calls) == 6
    seconds = Counter(int(moment(c["started_at"]).timestamp()) for c in calls)
    assert max(seconds.values()) == 1, seconds
    product.assert_counters_match_recipients(batch_id)


def test_caller_ids_rotate_prefer_the_recipients_country_and_stay_on_retries(
    product: Product,
) -> None:
    workspace = product.local.demo.workspace.workspace_id
    us_numbers = ["+14155550100", "+14155550101", "+14155550102"]
    for number in us_numbers[1:]:
        wiring.database().put_caller_number(workspace, number)
    us = [f"+1415555{2200 + i:04d}" for i in range(6)]
    indian = ["+919876500001", "+919876500002"]
    batch_id = product.create(
        rows(*us, *indian, outcomes="busy,completed"),
        from_phone_numbers=json.dumps([*us_numbers, "+912234567890"]),
        max_concurrent_calls="4",
        retry_config=json.dumps({"max_retries": 1, "retry_interval_minutes": 0}),
    )
    product.wait_for(batch_id, "completed", timeout=60)
    calls = product.calls(batch_id)
    assert len(calls) == 16  # two attempts each
    used: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        used[call["to"]].add(call["from"])
    assert all(len(callers) == 1 for callers in used.values())  # the same on its retry
    assert {next(iter(used[n])) for n in indian} == {"+912234567890"}
    assert {next(iter(used[n])) for n in us} == set(us_numbers)  # rotated across all three


def _create(product: Product, csv: str, **fields: str) -> dict[str, Any]:
    form = {"agent_id": "agt_demo", "from_phone_number": "+14155550100", **fields}
    body, content_type = multipart(form, {"file": ("contacts.csv", csv.encode())})
    reply = product.client.request("POST", "/batch-calls", body=body, content_type=content_type)
    return {**reply.body, "http": reply.status}


def test_every_caller_id_must_belong_to_the_workspace(product: Product) -> None:
    reply = _create(product, rows("+14155552250"), from_phone_numbers="+14155550177")
    assert (reply["http"], reply["field"]) == (400, "from_phone_numbers")
    assert "+14155550177 is not a caller number of this workspace" in str(reply["message"])


def test_local_time_checks_the_timezone_column_and_flags_unknown_zones(
    product: Product,
) -> None:
    window = json.dumps({"start": "09:00", "end": "17:00", "recipient_local_time": True})
    csv = "phone_number,customer_name,timezone\n+14155552260,A,Asia/Kolkata\n+14155552261,B,Mars\n"
    rejected = _create(product, csv, calling_window=window)
    assert rejected["http"] == 400
    assert [(e["reason"], e["rows"]) for e in rejected["errors"]] == [("invalid_timezone", [3])]

    # A US toll-free number has no zone of its own: called in the batch's zone.
    csv = "phone_number,customer_name,timezone\n+14155552262,A,\n+18005550100,B,\n"
    created = _create(product, csv, calling_window=window, start="false")
    assert created["http"] == 201, created
    assert [(w["reason"], w["rows"]) for w in created["warnings"]] == [("unknown_time_zone", [3])]


def test_suppressed_numbers_never_reach_the_simulator(product: Product) -> None:
    client = product.client
    listed, added_later, opted_out = "+14155552301", "+14155552305", "+14155552300"
    reply = client.request("POST", "/suppression-list", json_body={"phone_numbers": [listed]})
    assert reply.status == 200 and reply.body["added"] == 1

    only_listed = _create(product, rows(listed))
    assert only_listed["http"] == 400
    assert "suppression list" in only_listed["message"]
    assert only_listed["warnings"][0]["reason"] == "suppressed"

    numbers = [opted_out, listed, *(f"+1415555{2302 + i:04d}" for i in range(3)), added_later]
    created = _create(product, rows(*numbers))
    assert created["http"] == 201, created
    assert {w["reason"]: w["rows"] for w in created["warnings"]} == {"suppressed": [3]}
    batch_id = str(created["id"])
    # With one slot, the number added now is still waiting: it is never called.
    assert client.request(
        "POST", "/suppression-list", json_body={"phone_number": added_later}
    ).body == {"added": 1, "already_listed": 0, "phone_numbers": 1}
    product.wait_for(batch_id, "completed", timeout=60)

    called = [c["to"] for c in product.calls(batch_id)]
    assert listed not in called and added_later not in called
    skipped = {
        r["phone_number"]: r["skip_reason"]
        for r in product.recipients(batch_id)
        if r["status"] == "skipped"
    }
    assert skipped == {listed: "suppressed", added_later: "suppressed"}
    product.assert_counters_match_recipients(batch_id)

    # A provider event reporting an opt-out adds the number.
    call = next(c for c in product.calls(batch_id) if c["to"] == opted_out)
    event = {"call_id": call["call_id"], "status": "completed", "opted_out": True}
    payload = json.dumps(event).encode()
    secret = wiring.simulator_key()
    headers = {**sign(secret, payload, time.time()), "Content-Type": "application/json"}
    assert (
        client.request("POST", "/provider-events/simulated", body=payload, headers=headers).status
        == 200
    )
    listing = client.request("GET", "/suppression-list?limit=1000").body["data"]
    assert {(e["phone_number"], e["source"]) for e in listing} >= {
        (listed, "api"),
        (opted_out, "opt_out"),
    }
    assert client.request("DELETE", f"/suppression-list/{listed}").status == 200
    assert client.request("DELETE", f"/suppression-list/{listed}").status == 404


def test_a_changed_window_is_applied_to_those_waiting_for_the_old_one(
    product: Product, clock: ShiftedClock
) -> None:
    clock.set(datetime(2026, 11, 23, 4, 30, tzinfo=UTC))  # 20:30 in Los Angeles
    window = {"start": "09:00", "end": "17:00", "recipient_local_time": True}
    batch_id = product.create(
        rows("+14155552401", "+14155552402"), calling_window=json.dumps(window)
    )
    waiting(product, batch_id, "calling_window")
    product.act(batch_id, "pause")
    evenings = {**window, "start": "18:00", "end": "23:00"}
    change = product.client.request(
        "PATCH", f"/batch-calls/{batch_id}", json_body={"calling_window": evenings}
    )
    assert change.status == 200, change.body
    product.act(batch_id, "resume")
    product.wait_for(batch_id, "completed", timeout=60)  # now, not at the old 09:00
    assert all(
        t < datetime(2026, 11, 23, 17, 0, tzinfo=UTC) for t in call_times(product, clock, batch_id)
    )


def test_a_batch_without_a_window_gets_its_workspaces_default(
    product: Product, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = seed_workspace(wiring.database(), name="Windows")
    workspace_id = tenant.workspace.workspace_id
    admin = ["admin", "--table", wiring.database().table.name, "configure", "--workspace"]
    default = {"timezone": "Asia/Kolkata", "start": "10:00", "end": "19:00"}
    argv = [*admin, workspace_id, "--calling-window", json.dumps(default)]
    assert main([*argv, "--max-calls-per-second", "20"]) == 0
    workspace = wiring.database().get_workspace(workspace_id)
    assert workspace is not None and workspace.max_calls_per_second == 20
    assert main([*admin, workspace_id, "--calling-window", '{"start": "25:00"}']) == 2
    assert "'25:00' is not a time of day" in capsys.readouterr().err

    form = {"agent_id": "agt_demo", "from_phone_number": "+912234567890", "start": "false"}
    body, content_type = multipart(form, {"file": ("c.csv", rows("+919876500100").encode())})
    client = Client(product.local.gateway.url, tenant.api_key)
    created = client.request("POST", "/batch-calls", body=body, content_type=content_type)
    assert created.status == 201, created.body
    assert {k: created.body["calling_window"][k] for k in default} == default


def test_a_batch_waiting_for_a_retry_says_so(product: Product) -> None:
    batch_id = product.create(
        rows("+14155552501", outcomes="no_answer,completed"),
        retry_config=json.dumps({"max_retries": 1, "retry_interval_minutes": 30}),
    )
    batch = waiting(product, batch_id, "retry_wait")
    [recipient] = product.recipients(batch_id)
    assert batch["waiting_for_window"] is False
    assert batch["next_attempt_at"] == recipient["next_attempt_at"]
    assert product.act(batch_id, "pause")["waiting_for"] is None
    product.act(batch_id, "cancel")
