"""Results a team acts on, through the whole product (local runtime, real workflow,
simulated calls scripted per row): the report's call facts and post-call data columns,
analytics that add up to the recipients' statuses, re-runs of chosen statuses, callback
requests dialled at their time and never before, and the voicemail policy."""

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cli.main import main
from local import runtime
from local.clock import ShiftedClock
from tests.orchestration.conftest import Product, moment

HEADER = (
    "phone_number,customer_name,timezone,sim_outcomes,sim_duration_seconds,sim_answered_by,"
    "sim_data,sim_ended_reason,sim_cost,sim_callback_at\n"
)
DATA = json.dumps({"interest": "high", "appointment": "Fri 10:00"}).replace('"', '""')
FORMULA = json.dumps({"summary": "=HYPERLINK(1)"}).replace('"', '""')
SCRIPTED = HEADER + (
    f'+14155553001,Ann,,completed,1.5,human,"{DATA}",customer-ended-call,0.05,\n'
    "+14155553002,Ben,,voicemail,0.4,,,,,\n"
    "+14155553003,Cy,,no_answer,0.3,,,,,\n"
    "+14155553004,Di,,failed,0.3,,,,,\n"
    "+14155553005,Ed,,busy,0.3,,,,,\n"
    f'+14155553006,Flo,,completed,2,unknown,"{FORMULA}",,,\n'
)


@pytest.fixture(scope="module")
def product() -> Iterator[Product]:
    with runtime.running() as local:
        yield Product(local)


@pytest.fixture
def clock(product: Product) -> Iterator[ShiftedClock]:
    yield product.local.clock
    product.local.clock.reset()


@pytest.fixture(scope="module")
def scripted(product: Product) -> str:
    batch_id = product.create(SCRIPTED, max_concurrent_calls="3")
    product.wait_for(batch_id, "completed")
    return batch_id


def report(product: Product, batch_id: str) -> dict[str, dict[str, str]]:
    reply = product.client.request("GET", f"/batch-calls/{batch_id}/report")
    assert reply.status == 200
    header, *rows = csv.reader(io.StringIO(str(reply.body).removeprefix("\ufeff")))
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def analytics(product: Product, batch_id: str) -> dict[str, Any]:
    reply = product.client.request("GET", f"/batch-calls/{batch_id}/analytics")
    assert reply.status == 200, reply.body
    return dict(reply.body)


def rerun(product: Product, batch_id: str, **body: Any) -> Any:
    return product.client.request("POST", f"/batch-calls/{batch_id}/rerun", json_body=body)


def test_the_report_shows_every_call_fact_and_data_column_as_scripted(
    product: Product, scripted: str
) -> None:
    rows = report(product, scripted)
    header = list(rows["'+14155553001"])
    assert header[-8:] == [
        "duration_seconds", "answered_by", "ended_reason", "recording_url", "transcript_url",
        "data.appointment", "data.interest", "data.summary",
    ]  # fmt: skip
    ann = rows["'+14155553001"]
    assert (ann["duration_seconds"], ann["answered_by"], ann["ended_reason"]) == (
        "1.5", "human", "customer-ended-call"
    )  # fmt: skip
    assert ann["recording_url"].startswith("https://simulator.invalid/recordings/")
    assert ann["transcript_url"].startswith("https://simulator.invalid/transcripts/")
    assert (ann["data.interest"], ann["data.appointment"], ann["data.summary"]) == (
        "high", "Fri 10:00", ""
    )  # fmt: skip
    assert rows["'+14155553002"]["answered_by"] == "machine"
    assert rows["'+14155553003"]["duration_seconds"] == ""  # nobody answered
    assert rows["'+14155553006"]["data.summary"] == "'=HYPERLINK(1)"  # neutralised
    [recipient] = [r for r in product.recipients(scripted) if r["row"] == 2]
    assert (recipient["cost"], recipient["cost_currency"]) == (0.05, "USD")


def test_the_analytics_add_up_to_the_recipients_statuses(product: Product, scripted: str) -> None:
    view = analytics(product, scripted)
    counts = view["recipients"]
    assert (counts["completed"], counts["voicemail"], counts["no_answer"], counts["failed"]) == (
        2, 1, 1, 2
    )  # fmt: skip
    # No retries: each recipient's one attempt is its final status (busy reports failed).
    assert view["by_attempt"] == {
        "1": {"completed": 2, "voicemail": 1, "no_answer": 1, "failed": 1, "busy": 1}
    }
    outcomes = view["outcomes"]
    assert outcomes["completed"] == counts["completed"]
    assert outcomes["failed"] + outcomes["busy"] == counts["failed"]
    assert view["attempts"] == counts["total"] - counts["skipped"] == 6
    assert (view["connected"], view["answer_rate"]) == (3, 0.5)
    assert view["answered_by"] == {"human": 1, "machine": 1, "unknown": 1}
    assert view["duration_seconds"]["count"] == 3
    assert view["duration_seconds"]["mean"] == pytest.approx((1.5 + 0.4 + 2) / 3, abs=1e-3)
    assert (view["duration_seconds"]["p50"], view["duration_seconds"]["p90"]) == (1, 2)
    assert sum(hour["calls"] for hour in view["calls_per_hour"]) == 6
    assert view["cost"] == {"total": 0.05, "currency": "USD", "calls_with_cost": 1}
    assert view["retries_used"] == 0


def test_a_rerun_of_no_answer_and_failed_calls_exactly_those_again(
    product: Product, scripted: str
) -> None:
    reply = rerun(product, scripted, statuses=["no_answer", "failed"], max_concurrent_calls=2)
    assert reply.status == 201, reply.body
    again = reply.body["id"]
    assert reply.body["rerun_of"] == scripted
    assert reply.body["max_concurrent_calls"] == 2
    assert reply.body["name"].endswith("(re-run)")
    assert product.batch(scripted)["reruns"] == [again]
    product.wait_for(again, "completed")
    chosen = {
        r["phone_number"]: r["variables"]
        for r in product.recipients(scripted)
        if r["status"] in {"no_answer", "failed"}
    }
    assert {r["phone_number"]: r["variables"] for r in product.recipients(again)} == chosen
    assert len(chosen) == 3

    # A re-run of the re-run: its one no_answer recipient.
    reply = rerun(product, again, statuses=["no_answer"])
    assert reply.status == 201, reply.body
    assert [r["phone_number"] for r in product.recipients(reply.body["id"])] == ["+14155553003"]
    assert product.batch(again)["rerun_of"] == scripted
    assert product.batch(again)["reruns"] == [reply.body["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"statuses": []}, "statuses"),
        ({"statuses": ["pending"]}, "statuses"),
        ({"statuses": ["skipped"]}, "statuses"),
        ({"statuses": ["cancelled"]}, "statuses"),  # nobody was cancelled
        ({"statuses": ["failed"], "max_concurent_calls": 2}, "max_concurent_calls"),
        ({"statuses": ["failed"], "max_concurrent_calls": 0}, "max_concurrent_calls"),
    ],
)
def test_a_wrong_rerun_is_a_400_naming_the_field(
    product: Product, scripted: str, body: dict[str, Any], field: str
) -> None:
    reply = rerun(product, scripted, **body)
    assert reply.status == 400, reply.body
    assert reply.body["field"] == field


def test_a_requested_callback_is_dialled_at_its_time_and_not_before(
    product: Product, clock: ShiftedClock
) -> None:
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    # 15:00 in Kolkata, the recipient's zone (its timezone column): 09:30 UTC.
    batch_id = product.create(
        HEADER + "+14155553101,Gus,Asia/Kolkata,completed,0.3,,,,,2026-11-23T15:00:00\n",
        retry_config=json.dumps({"max_retries": 1}),
    )
    asked = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    [recipient] = product.wait_until(
        lambda: [r for r in product.recipients(batch_id) if r["status"] == "waiting_retry"]
    )
    assert moment(recipient["next_attempt_at"]) == asked
    batch = product.wait_until(
        lambda: (b := product.batch(batch_id))["waiting_for"] == "retry_wait" and b
    )
    assert moment(batch["next_attempt_at"]) == asked
    assert len(product.calls(batch_id)) == 1

    clock.set(asked - timedelta(seconds=3))
    product.wait_for(batch_id, "completed", timeout=60)
    first, second = (clock.shifted(moment(c["started_at"])) for c in product.calls(batch_id))
    assert first < asked <= second < asked + timedelta(seconds=30)
    assert analytics(product, batch_id)["callbacks_scheduled"] == 1


def test_a_callback_outside_the_window_waits_for_its_opening(
    product: Product, clock: ShiftedClock
) -> None:
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # 14:30 in Kolkata, a Monday
    window = {"timezone": "Asia/Kolkata", "start": "09:00", "end": "18:00"}
    batch_id = product.create(
        HEADER + "+14155553102,Hal,Asia/Kolkata,completed,0.3,,,,,2026-11-23T19:00:00+05:30\n",
        retry_config=json.dumps({"max_retries": 1}),
        calling_window=json.dumps(window),
    )
    opening = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)  # 09:00 the next day in Kolkata
    batch = product.wait_until(
        lambda: (b := product.batch(batch_id))["waiting_for"] == "calling_window" and b
    )
    assert moment(batch["next_attempt_at"]) == opening
    clock.set(opening - timedelta(seconds=3))
    product.wait_for(batch_id, "completed", timeout=60)
    second = clock.shifted(moment(product.calls(batch_id)[1]["started_at"]))
    assert opening <= second


def test_a_callback_beyond_max_retries_leaves_the_recipient_final(product: Product) -> None:
    batch_id = product.create(
        HEADER + "+14155553103,Ida,,completed,0.3,,,,,2026-11-23T15:00:00+00:00\n"
    )
    product.wait_for(batch_id, "completed")
    assert [r["status"] for r in product.recipients(batch_id)] == ["completed"]
    assert len(product.calls(batch_id)) == 1


@pytest.mark.parametrize(("policy", "calls"), [("leave_message", 1), ("hang_up", 3)])
def test_leave_message_leaves_one_message_then_calls_no_more(
    product: Product, policy: str, calls: int
) -> None:
    batch_id = product.create(
        HEADER + "+14155553201,Jo,,voicemail,0.3,,,,,\n",
        voicemail_policy=policy,
        retry_config=json.dumps(
            {"max_retries": 2, "retry_on_voicemail": True, "retry_interval_minutes": 0}
        ),
    )
    assert product.batch(batch_id)["voicemail_policy"] == policy
    product.wait_for(batch_id, "completed")
    assert len(product.calls(batch_id)) == calls
    [recipient] = product.recipients(batch_id)
    assert recipient["status"] == "voicemail"
    if policy == "leave_message":
        assert recipient["ended_reason"] == "voicemail_message_left"


def test_the_cli_prints_the_analytics(
    product: Product, scripted: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api = ["--api-url", product.local.gateway.url, "--api-key", product.local.demo.api_key]
    assert main(["analytics", scripted, *api]) == 0
    printed = capsys.readouterr().out
    assert "answer rate 50.0%" in printed
    assert "answered by: human 1, machine 1, unknown 1" in printed
    assert main(["analytics", scripted, "--json", *api]) == 0
    assert json.loads(capsys.readouterr().out)["attempts"] == 6
    assert main(["analytics", "batch_nope", *api]) == 1
