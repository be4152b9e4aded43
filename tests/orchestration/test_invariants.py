"""The invariants of architecture.md section 8, through the real workflow."""

import itertools
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from batch_calls.domain.calls import execution_name
from batch_calls.handlers import wiring
from batch_calls.logic import admin
from batch_calls.telephony.signing import sign
from local import lambda_runtime
from tests.orchestration.conftest import FINAL, Product, contacts, moment


def test_a_batch_runs_to_completed_with_one_final_status_each(product: Product) -> None:
    outcomes = ["completed", "no_answer", "voicemail", "busy", "failed"]
    rows = "".join(f'+1415555{2000 + i:04d},N{i},"{outcomes[i % 5]}",0.2\n' for i in range(20))
    batch_id = product.create(
        "phone_number,customer_name,sim_outcomes,sim_duration_seconds\n" + rows,
        max_concurrent_calls="4",
    )
    done = product.wait_for(batch_id, "completed")
    assert done["finished_at"] is not None
    recipients = product.recipients(batch_id)
    assert all(r["status"] in FINAL for r in recipients)
    assert Counter(r["status"] for r in recipients) == {
        "completed": 4, "no_answer": 4, "voicemail": 4, "failed": 8,  # busy ends as failed
    }  # fmt: skip
    busy = [r for r in recipients if r["last_outcome"] == "busy"]
    assert len(busy) == 4 and all(r["status"] == "failed" for r in busy)
    product.assert_counters_match_recipients(batch_id)


def test_never_more_live_calls_than_the_limit_and_the_limit_is_used(product: Product) -> None:
    """Invariant 2, from the simulator's own timeline."""
    batch_id = product.create(contacts(30, duration=0.6, first=3000), max_concurrent_calls="5")
    product.wait_for(batch_id, "completed")
    assert product.peak(batch_id) == 5
    product.assert_counters_match_recipients(batch_id)


def test_each_attempt_is_dialled_once_and_retries_wait(product: Product) -> None:
    """Invariants 1 and 5: one call per (recipient, attempt), at most 1 + max_retries
    calls, and no retry before its wait has passed since the previous attempt ended."""
    wait_seconds = 2.0
    retry = {"max_retries": 2, "retry_interval_minutes": wait_seconds / 60}
    batch_id = product.create(
        contacts(6, outcomes="no_answer,busy,completed", duration=0.2, first=4000),
        max_concurrent_calls="3",
        retry_config=json.dumps(retry),
    )
    product.wait_for(batch_id, "completed")
    calls = product.calls(batch_id)
    per_attempt = Counter((c["to"], c["attempt"]) for c in calls)
    assert set(per_attempt.values()) == {1}
    per_number = Counter(c["to"] for c in calls)
    assert set(per_number.values()) == {3}  # 1 + max_retries, then completed
    for number in per_number:
        attempts = sorted((c for c in calls if c["to"] == number), key=lambda c: c["attempt"])
        for previous, following in itertools.pairwise(attempts):
            gap = moment(following["started_at"]) - moment(previous["ended_at"])
            assert gap >= timedelta(seconds=wait_seconds)
    recipients = product.recipients(batch_id)
    assert {r["attempts_made"] for r in recipients} == {3}
    assert {r["status"] for r in recipients} == {"completed"}
    product.assert_counters_match_recipients(batch_id)


def test_retries_stop_at_max_retries_and_busy_ends_failed(product: Product) -> None:
    batch_id = product.create(
        contacts(3, outcomes="busy", duration=0.1, first=4500),
        retry_config='{"max_retries": 1, "retry_interval_minutes": 0}',
    )
    product.wait_for(batch_id, "completed")
    assert Counter(c["to"] for c in product.calls(batch_id)).most_common(1)[0][1] == 2
    assert {(r["status"], r["last_outcome"]) for r in product.recipients(batch_id)} == {
        ("failed", "busy")
    }


def test_no_call_before_scheduled_at(product: Product) -> None:
    """Invariant 3 for the schedule: the first round waits for scheduled_at."""
    start = datetime.now(UTC) + timedelta(seconds=4)
    batch_id = product.create(contacts(3, first=5000), scheduled_at=start.isoformat())
    assert product.batch(batch_id)["status"] == "scheduled"
    product.wait_for(batch_id, "completed")
    first_call = min(moment(c["started_at"]) for c in product.calls(batch_id))
    assert first_call >= start


def test_pause_stops_new_calls_and_resume_finishes(product: Product) -> None:
    """Invariant 3 for pause: after the pause is acknowledged no call starts; in-flight
    calls finish and are recorded; resume continues to the end."""
    batch_id = product.create(contacts(200, duration=0.5, first=6000), max_concurrent_calls="5")
    product.wait_until(lambda: len(product.calls(batch_id)) >= 10)
    paused = product.act(batch_id, "pause")
    acknowledged = datetime.now(UTC)
    assert paused["status"] == "paused"
    time.sleep(2)  # in-flight calls end; nothing new may start
    calls = product.calls(batch_id)
    assert all(moment(c["started_at"]) <= acknowledged for c in calls)
    product.wait_until(lambda: product.batch(batch_id)["counts"]["in_progress"] == 0, timeout=20)
    product.assert_counters_match_recipients(batch_id)
    before_resume = len(calls)
    assert before_resume < 200

    change = product.client.request(
        "PATCH", f"/batch-calls/{batch_id}", json_body={"max_concurrent_calls": 10}
    )
    assert change.status == 200
    product.act(batch_id, "resume")
    product.wait_for(batch_id, "completed", timeout=120)
    assert len(product.calls(batch_id)) == 200
    assert product.peak(batch_id) <= 10
    product.assert_counters_match_recipients(batch_id)


def test_cancel_is_permanent_and_cancels_everyone_waiting(product: Product) -> None:
    batch_id = product.create(contacts(60, duration=0.5, first=7000), max_concurrent_calls="3")
    product.wait_until(lambda: len(product.calls(batch_id)) >= 3)
    product.act(batch_id, "cancel")
    cancelled_at = datetime.now(UTC)
    product.wait_until(
        lambda: (
            (b := product.batch(batch_id))["counts"]["pending"] == 0
            and b["counts"]["in_progress"] == 0
        ),
        timeout=30,
    )
    assert all(moment(c["started_at"]) <= cancelled_at for c in product.calls(batch_id))
    batch = product.batch(batch_id)
    assert batch["status"] == "cancelled"
    assert batch["counts"]["cancelled"] > 0
    assert product.client.request("POST", f"/batch-calls/{batch_id}/resume").status == 409
    product.assert_counters_match_recipients(batch_id)


def test_a_lost_callback_holds_only_its_own_slot_and_the_sweep_ends_it(product: Product) -> None:
    """Invariants 6 and 9 with the production watch period (5 minutes): the other slots
    go on at once; once the lost call's watch has run out it is asked about and recorded
    failed with outcome unknown, and the batch completes."""
    rows = contacts(24, duration=0.3, first=8000).splitlines()
    rows[3] = rows[3].replace('"completed"', '"lost"')
    lost = rows[3].split(",")[0]
    batch_id = product.create("\n".join(rows) + "\n", max_concurrent_calls="4")
    product.wait_until(lambda: product.batch(batch_id)["counts"]["completed"] == 23, timeout=60)
    assert product.batch(batch_id)["counts"]["in_progress"] == 1
    # The dashboard's live calls gauge (the sweep's) counts it, and nothing else is live.
    assert wiring.attempts().live_calls() == 1
    with product.clock_moved(minutes=10):  # past the watch period and the sweep's grace
        product.wait_for(batch_id, "completed", timeout=30)
    assert wiring.attempts().live_calls() == 0
    by_number = {r["phone_number"]: r for r in product.recipients(batch_id)}
    assert (by_number[lost]["status"], by_number[lost]["last_outcome"]) == ("failed", "unknown")
    assert Counter(c["to"] for c in product.calls(batch_id))[lost] == 1  # never redialled
    product.assert_counters_match_recipients(batch_id)


def test_a_lost_call_of_a_cancelled_batch_ends_in_a_final_status(product: Product) -> None:
    """Its run was stopped, so no slot watches it: the periodic sweep does."""
    csv = (
        "phone_number,customer_name,sim_outcomes,sim_duration_seconds\n"
        '+14155558101,Lost,"lost",0.1\n'
        '+14155558102,Long,"completed",30\n'
    )
    batch_id = product.create(csv + contacts(10, first=8110).split("\n", 1)[1])
    product.wait_until(lambda: product.batch(batch_id)["counts"]["in_progress"] == 1)
    product.act(batch_id, "cancel")
    with product.clock_moved(minutes=10):
        product.wait_until(
            lambda: product.batch(batch_id)["counts"]["in_progress"] == 0, timeout=30
        )
    by_number = {r["phone_number"]: r for r in product.recipients(batch_id)}
    assert (by_number["+14155558101"]["status"], by_number["+14155558101"]["last_outcome"]) == (
        "failed",
        "unknown",
    )
    assert {r["status"] for r in by_number.values()} <= FINAL
    product.assert_counters_match_recipients(batch_id)


def test_a_long_call_holds_only_its_own_slot(product: Product) -> None:
    """No barrier: while one call lasts 8 s, the other slots go through everyone else."""
    csv = contacts(15, duration=0.3, first=8200)
    rows = csv.splitlines()
    rows[1] = rows[1].replace(",0.3", ",8")
    batch_id = product.create("\n".join(rows) + "\n", max_concurrent_calls="3")
    product.wait_for(batch_id, "completed", timeout=60)
    calls = product.calls(batch_id)
    long_call = next(c for c in calls if c["to"] == rows[1].split(",")[0])
    others = [c for c in calls if c is not long_call]
    assert max(moment(c["ended_at"]) for c in others) < moment(long_call["ended_at"])
    assert product.peak(batch_id) == 3


def test_a_paced_batch_places_every_call_without_stalling(product: Product) -> None:
    """max_calls_per_second below max_concurrent_calls: slots wait for their call start
    (nobody is put back to strand), at most one start per clock second."""
    batch_id = product.create(
        contacts(8, duration=0.5, first=8300), max_concurrent_calls="8", max_calls_per_second="1"
    )
    product.wait_for(batch_id, "completed", timeout=60)
    calls = product.calls(batch_id)
    starts = Counter(moment(c["started_at"]).replace(microsecond=0) for c in calls)
    assert sum(starts.values()) == 8
    assert max(starts.values()) == 1


def test_duplicated_callback_scheduler_fire_and_dial_change_nothing(product: Product) -> None:
    batch_id = product.create(contacts(4, duration=0.1, first=9000), max_concurrent_calls="2")
    product.wait_for(batch_id, "completed")
    calls = product.calls(batch_id)
    before = product.batch(batch_id)

    # The provider sends the same callback again.
    call = calls[0]
    body = json.dumps({"call_id": call["call_id"], "status": "completed", "duration_seconds": 0.1})
    secret = wiring.simulator_key()
    headers = {**sign(secret, body.encode(), time.time()), "Content-Type": "application/json"}
    again = product.client.request(
        "POST", "/provider-events/simulated", body=body.encode(), headers=headers
    )
    assert (again.status, again.body["recorded"]) == (200, False)

    # The scheduler fires a round twice, and a slot of the ended run dials again.
    payload = {"workspace_id": product.local.demo.workspace.workspace_id, "batch_id": batch_id}
    for _ in range(2):
        lambda_runtime.invoke("StartRoundFunction", {**payload, "round": 1})
    slot = {**payload, "round": 1, "slot": 0}
    with pytest.raises(lambda_runtime.LambdaFunctionError) as refused:
        lambda_runtime.invoke("DialFunction", {"slot": slot, "task_token": "retried-token"})
    assert refused.value.error_type == "SlotDone"
    time.sleep(1)

    assert len(product.calls(batch_id)) == len(calls)
    after = product.batch(batch_id)
    assert (after["status"], after["counts"]) == (before["status"], before["counts"])
    assert execution_name(batch_id, 1).endswith("-r1")


def test_forged_or_replayed_callbacks_are_refused(product: Product) -> None:
    body = json.dumps({"call_id": "call_x", "status": "completed"}).encode()
    forged = sign(b"not the secret", body, time.time())
    reply = product.client.request(
        "POST",
        "/provider-events/simulated",
        body=body,
        headers={**forged, "Content-Type": "application/json"},
    )
    assert reply.status == 401
    secret = wiring.simulator_key()
    stale = sign(secret, body, time.time() - 3600)
    reply = product.client.request(
        "POST",
        "/provider-events/simulated",
        body=body,
        headers={**stale, "Content-Type": "application/json"},
    )
    assert reply.status == 401


def test_concurrency_changes_while_running_take_effect_within_seconds(product: Product) -> None:
    """Raised: a new run with more slots starts at once, the peak reaches the new limit
    and never passes it. Lowered: the slots above it end after their call."""
    batch_id = product.create(contacts(60, duration=1.0, first=8400), max_concurrent_calls="2")
    product.wait_until(lambda: len(product.calls(batch_id)) >= 3)
    path = f"/batch-calls/{batch_id}"
    raised = product.client.request("PATCH", path, json_body={"max_concurrent_calls": 6})
    assert (raised.status, raised.body["max_concurrent_calls"]) == (200, 6)
    product.wait_until(lambda: product.peak(batch_id) == 6, timeout=20)
    lowered = product.client.request("PATCH", path, json_body={"max_concurrent_calls": 1})
    assert lowered.status == 200
    time.sleep(2.5)  # the calls started before the change end (1 s each)
    settled = datetime.now(UTC)
    product.wait_for(batch_id, "completed", timeout=120)
    calls = product.calls(batch_id)
    after = [c for c in calls if moment(c["ended_at"]) > settled]
    for call in after:  # at most one live at any moment after the change settled
        start, end = moment(call["started_at"]), moment(call["ended_at"])
        overlapping = [
            c for c in after
            if c is not call and moment(c["started_at"]) < end and moment(c["ended_at"]) > start
        ]  # fmt: skip
        assert not overlapping, call
    assert product.peak(batch_id) == 6
    assert len(calls) == 60
    refused = product.client.request("PATCH", path, json_body={"name": "renamed"})
    assert refused.status == 409  # the batch is over: nothing changes
    product.assert_counters_match_recipients(batch_id)


def test_the_workspace_limit_holds_across_batches_and_the_higher_priority_goes_first(
    product: Product,
) -> None:
    """Seed 001: a workspace's concurrency counts the live calls of all its batches.
    When both wait for a freed unit, the batch of higher priority (seed 003) gets it."""
    workspace = product.local.demo.workspace
    admin.configure(wiring.database(), workspace.workspace_id, max_concurrent_calls=3)
    try:
        low = product.create(
            contacts(30, duration=1.0, first=8500), max_concurrent_calls="3", priority="2"
        )
        product.wait_until(lambda: len(product.calls(low)) >= 4)
        high = product.create(
            contacts(9, duration=1.0, first=8600), max_concurrent_calls="3", priority="9"
        )
        product.wait_for(high, "completed", timeout=60)
        product.wait_for(low, "completed", timeout=90)
    finally:
        admin.configure(
            wiring.database(),
            workspace.workspace_id,
            max_concurrent_calls=workspace.max_concurrent_calls,
        )
    low_calls, high_calls = product.calls(low), product.calls(high)
    spans = [(moment(c["started_at"]), moment(c["ended_at"])) for c in low_calls + high_calls]
    for start, _ in spans:  # invariant 2 for the workspace: never more than 3 live at once
        assert sum(1 for s, e in spans if s <= start < e) <= 3
    # Once the high-priority batch holds units, the other starts nothing until its last
    # recipient is dialled (a call started just before may still be setting up).
    first = min(moment(c["started_at"]) for c in high_calls)
    last = max(moment(c["started_at"]) for c in high_calls)
    overtaken = [
        c for c in low_calls if first + timedelta(seconds=1) < moment(c["started_at"]) < last
    ]
    assert overtaken == []
    assert product.peak(high) == 3
