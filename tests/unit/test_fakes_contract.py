"""The fakes of tests/fakes/ behave as the stores do: every scenario here runs against
the in-memory fakes and against the real stores on moto (in-process), and asserts the
same results, so a fake cannot drift from the store it stands for."""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta

import boto3
import pytest

from batch_calls.domain.batch import (
    Batch,
    BatchSettings,
    BatchStatus,
    Outcome,
    Recipient,
    RecipientStatus,
    RetryConfig,
    initial_counts,
)
from batch_calls.domain.calls import decide
from batch_calls.domain.records import (
    Analytics,
    CallRecord,
    Claim,
    ContactUpdate,
    InvalidCursor,
    SlotRef,
)
from batch_calls.domain.results import CallFacts
from batch_calls.logic.ports import Attempts, Database, Pacing
from batch_calls.store.attempts import Attempts as DynamoAttempts
from batch_calls.store.database import Database as DynamoDatabase
from batch_calls.store.pacing import Pacing as DynamoPacing
from tests.fakes import NOW
from tests.fakes.stores import FakeAttempts, FakeDatabase, FakePacing, Table
from tests.inprocess import main_table_in_process

WS, BATCH = "ws_contract", "batch_contract"
SLOT = SlotRef(WS, BATCH, 1, 0)


@dataclass
class Stores:
    database: Database
    attempts: Attempts
    pacing: Pacing


@pytest.fixture(scope="module")
def moto_table() -> Iterator[str]:
    """One in-process table for the module (creating it is most of a test's time)."""
    with main_table_in_process("contract"):
        yield "contract"


@pytest.fixture(params=["fake", "moto"])
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    if request.param == "fake":
        table = Table()
        yield Stores(FakeDatabase(table), FakeAttempts(table), FakePacing(table))
        return
    name = request.getfixturevalue("moto_table")
    yield Stores(DynamoDatabase(name), DynamoAttempts(name), DynamoPacing(name))
    emptied = boto3.resource("dynamodb").Table(name)
    with emptied.batch_writer() as writer:
        for item in emptied.scan(ProjectionExpression="PK, SK")["Items"]:
            writer.delete_item(Key=item)


def batch_of(rows: int, *, status: BatchStatus = BatchStatus.RUNNING, skipped: int = 0) -> Batch:
    settings = BatchSettings(
        name="contract",
        agent_id="agt",
        from_phone_number="+14155550100",
        max_concurrent_calls=2,
        retry_config=RetryConfig(max_retries=1, retry_interval_minutes=10),
        tags=["blue"],
    )
    return Batch(
        batch_id=BATCH,
        workspace_id=WS,
        settings=settings,
        status=status,
        counts=initial_counts(rows, skipped),
        variables=["name"],
        loaded_parts=1,
        created_at=NOW,
        updated_at=NOW,
    )


def loaded(stores: Stores, rows: int = 3) -> Batch:
    """A running batch with `rows` pending recipients (rows 2, 3, ...) and one skipped."""
    made = batch_of(rows, skipped=1)
    assert stores.database.create_batch(made)
    recipients = [
        Recipient(
            part=1,
            row=row,
            phone_number=f"+1415555{row:04d}",
            status=RecipientStatus.PENDING,
            variables={"name": f"n{row}"},
        )
        for row in range(2, rows + 2)
    ]
    skipped = Recipient(
        part=1,
        row=rows + 2,
        phone_number="nope",
        status=RecipientStatus.SKIPPED,
        variables={},
        skip_reason="invalid_number",
    )
    assert stores.database.put_recipients(WS, BATCH, [*recipients, skipped]) == rows + 1
    return made


def claim(
    stores: Stores,
    row: int,
    *,
    workspace_limit: int = 10,
    slot_limit: int = 5,
    contact: ContactUpdate | None = None,
) -> Claim:
    """Claim the first attempt of `row` as it waits now."""
    due = next(d for d in stores.attempts.waiting(WS, BATCH) if d.row == row)
    return stores.attempts.claim(
        WS,
        BATCH,
        due,
        call_id=f"call_{row}_{due.attempts + 1}",
        task_token=f"token_{row}",
        now=NOW,
        caller_id="+14155550100",
        slot=SLOT,
        watch_until=NOW + timedelta(minutes=5),
        workspace_limit=workspace_limit,
        slot_limit=slot_limit,
        contact=contact,
    )


def counts(stores: Stores) -> dict[str, int]:
    batch = stores.database.get_batch(WS, BATCH)
    assert batch is not None
    return {name: count for name, count in batch.counts.items() if count}


def status(stores: Stores, row: int) -> tuple[RecipientStatus, int]:
    recipient = stores.database.get_recipient(WS, BATCH, 1, row)
    return recipient.status, recipient.attempts


# -- batches ---------------------------------------------------------------------------


def test_a_batch_is_created_once_and_its_runs_begin_once(stores: Stores) -> None:
    made = loaded(stores)
    assert not stores.database.create_batch(made)
    initiated = stores.database.transition_batch(
        WS, BATCH, allowed_from=[BatchStatus.RUNNING], to=BatchStatus.INITIATED, now=NOW
    )
    assert initiated is not None and initiated.status is BatchStatus.INITIATED
    assert (
        stores.database.transition_batch(
            WS, BATCH, allowed_from=[BatchStatus.PAUSED], to=BatchStatus.RUNNING, now=NOW
        )
        is None
    )
    begun = stores.database.begin_round(WS, BATCH, 1, NOW)
    assert begun is not None
    assert (begun.status, begun.previous_status, begun.round, begun.active_round) == (
        BatchStatus.RUNNING,
        BatchStatus.INITIATED,
        1,
        1,
    )
    assert stores.database.begin_round(WS, BATCH, 2, NOW) is None  # one is running
    assert stores.database.set_waiting(WS, BATCH, NOW, "retry_wait") is None
    assert stores.database.end_round(WS, BATCH, 2) is None
    ended = stores.database.end_round(WS, BATCH, 1)
    assert ended is not None and ended.active_round is None
    assert stores.database.begin_round(WS, BATCH, 1, NOW) is None  # that round ran
    waiting = stores.database.set_waiting(WS, BATCH, NOW + timedelta(hours=1), "retry_wait")
    assert waiting is not None and waiting.waiting_for == "retry_wait"
    assert stores.database.complete_batch(WS, BATCH, NOW) is None  # pending recipients
    assert stores.database.active_batch_ids(WS) == [BATCH]


def test_batches_list_newest_first_by_status_and_tag(stores: Stores) -> None:
    older = batch_of(1).model_copy(update={"batch_id": "b_old"})
    newer = batch_of(1, status=BatchStatus.PAUSED).model_copy(
        update={"batch_id": "b_new", "created_at": NOW + timedelta(minutes=1)}
    )
    for batch in (older, newer):
        assert stores.database.create_batch(batch)
    page, total = stores.database.list_batches(WS, None, 0, 10)
    assert ([b.batch_id for b in page], total) == (["b_new", "b_old"], 2)
    page, total = stores.database.list_batches(WS, BatchStatus.PAUSED, 0, 10)
    assert ([b.batch_id for b in page], total) == (["b_new"], 1)
    assert stores.database.list_batches(WS, None, 1, 1)[0][0].batch_id == "b_old"
    assert stores.database.list_batches(WS, None, 0, 10, tag="red") == ([], 0)


def test_recipients_page_in_file_order(stores: Stores) -> None:
    loaded(stores, rows=3)
    first, cursor = stores.database.list_recipients(WS, BATCH, None, None, 2)
    assert [r.row for r in first] == [2, 3]
    assert cursor is not None
    rest, last = stores.database.list_recipients(WS, BATCH, None, cursor, 5)
    assert ([r.row for r in rest], last) == ([4, 5], None)
    skipped, _ = stores.database.list_recipients(WS, BATCH, RecipientStatus.SKIPPED, None, 5)
    assert [r.row for r in skipped] == [5]
    assert [r.row for r in stores.database.all_recipients(WS, BATCH)] == [2, 3, 4, 5]
    with pytest.raises(InvalidCursor):
        stores.database.list_recipients(WS, BATCH, None, "not-a-cursor", 5)
    with pytest.raises(LookupError):
        stores.database.get_recipient(WS, BATCH, 1, 99)


# -- the suppression list --------------------------------------------------------------


def test_suppression_keeps_the_first_listing_until_it_expires(stores: Stores) -> None:
    later = NOW + timedelta(days=1)
    db = stores.database
    assert db.suppress(WS, ["+14155550001", "+14155550002"], "upload", NOW, expires=later) == 2
    assert db.suppress(WS, ["+14155550001"], "api", NOW) == 0
    assert db.is_suppressed(WS, "+14155550001", NOW)
    assert not db.is_suppressed(WS, "+14155550001", later)  # expired
    again = later + timedelta(days=1)
    assert db.suppress(WS, ["+14155550001"], "api", later, expires=again) == 1  # anew
    assert db.suppress(WS, ["+14155550002"], "opt_out", NOW, permanent=True) == 0
    assert db.suppressed_numbers(WS, later + timedelta(days=9)) == {"+14155550002"}
    page, cursor = db.list_suppressed(WS, None, 1)
    assert [entry["phone_number"] for entry in page] == ["+14155550001"]
    assert page[0]["source"] == "api"
    assert cursor is not None
    page, cursor = db.list_suppressed(WS, cursor, 5)
    assert [(e["phone_number"], e["source"], e["expires_at"]) for e in page] == [
        ("+14155550002", "upload", None)
    ]
    assert db.unsuppress(WS, "+14155550002")
    assert not db.unsuppress(WS, "+14155550002")
    assert db.list_suppressed(WS, None, 5, prefix="+1415555000")[0][0]["phone_number"] == (
        "+14155550001"
    )


# -- the dialling ledger ---------------------------------------------------------------


def test_due_recipients_in_file_order_and_deferral(stores: Stores) -> None:
    loaded(stores, rows=3)
    assert [d.row for d in stores.attempts.due(WS, BATCH, NOW, 10)] == [2, 3, 4]
    assert [d.row for d in stores.attempts.due(WS, BATCH, NOW, 2)] == [2, 3]
    two = stores.attempts.due(WS, BATCH, NOW, 1)[0]
    assert (two.phone_number, two.variables, two.due_at) == ("+14155550002", {"name": "n2"}, None)
    opening = NOW + timedelta(hours=2)
    assert stores.attempts.defer(WS, BATCH, two, opening, "calling_window")
    assert [d.row for d in stores.attempts.due(WS, BATCH, NOW, 10)] == [3, 4]
    deferred = [d for d in stores.attempts.waiting(WS, BATCH) if d.row == 2]
    assert [(d.due_at, d.waiting_for) for d in deferred] == [(opening, "calling_window")]
    assert stores.database.get_recipient(WS, BATCH, 1, 2).waiting_for == "calling_window"
    assert stores.attempts.undefer(WS, BATCH, deferred[0])
    assert [d.row for d in stores.attempts.due(WS, BATCH, NOW, 10)] == [2, 3, 4]
    earliest = stores.attempts.earliest_due(WS, BATCH)
    assert earliest is not None and earliest.row == 2
    assert stores.attempts.skip(WS, BATCH, two, "suppressed")
    assert not stores.attempts.skip(WS, BATCH, two, "suppressed")
    assert status(stores, 2) == (RecipientStatus.SKIPPED, 0)
    assert counts(stores) == {"pending": 2, "skipped": 2}


def test_a_claim_moves_recipient_counters_slot_and_workspace_together(stores: Stores) -> None:
    loaded(stores, rows=3)
    assert claim(stores, 2) is Claim.CLAIMED
    assert status(stores, 2) == (RecipientStatus.DIALING, 1)
    assert counts(stores) == {"pending": 2, "in_progress": 1, "skipped": 1}
    assert stores.attempts.slot(SLOT).call_id == "call_2_1"
    assert stores.attempts.slot(SLOT).calls == 1
    assert stores.pacing.workspace_live(WS).calls == 1
    assert [d.row for d in stores.attempts.waiting(WS, BATCH)] == [3, 4]
    call = stores.attempts.call("call_2_1")
    assert call is not None
    assert (call.row, call.attempt, call.task_token, call.outcome) == (2, 1, "token_2", None)
    assert stores.attempts.live_calls() == 1


def test_why_a_claim_is_refused(stores: Stores) -> None:
    loaded(stores, rows=4)
    assert claim(stores, 2, slot_limit=0) is Claim.SLOT_SPENT
    assert claim(stores, 2) is Claim.CLAIMED
    stale = stores.attempts.due(WS, BATCH, NOW, 1)[0]
    stale = replace(stale, row=2, attempts=0)  # row 2 as it was before its claim
    moved = stores.attempts.claim(
        WS, BATCH, stale, call_id="call_2_1b", task_token="t", now=NOW, caller_id="+1",
        slot=SLOT, watch_until=NOW, workspace_limit=10, slot_limit=5,
    )  # fmt: skip
    assert moved is Claim.RECIPIENT_MOVED
    assert claim(stores, 3, workspace_limit=1) is Claim.WORKSPACE_FULL
    assert claim(stores, 3) is Claim.CLAIMED
    assert claim(stores, 4) is Claim.BATCH_REFUSED  # max_concurrent_calls is 2
    assert counts(stores) == {"pending": 2, "in_progress": 2, "skipped": 1}


def test_a_claim_counts_a_contact_limit_once(stores: Stores) -> None:
    loaded(stores, rows=3)
    read = stores.attempts.contact_calls(WS, "+14155550002")
    assert (read.calls, read.revision) == ((), 0)
    update = ContactUpdate("+14155550002", read, (NOW,))
    assert claim(stores, 2, contact=update) is Claim.CLAIMED
    after = stores.attempts.contact_calls(WS, "+14155550002")
    assert (after.calls, after.revision) == ((NOW,), 1)
    # A second claim on the history as first read loses the race.
    assert claim(stores, 3, contact=update) is Claim.CONTACT_CHANGED
    assert status(stores, 3) == (RecipientStatus.PENDING, 0)


def test_an_outcome_is_recorded_once_and_a_retry_waits(stores: Stores) -> None:
    made = loaded(stores, rows=2)
    assert claim(stores, 2) is Claim.CLAIMED
    call = stores.attempts.call("call_2_1")
    assert call is not None
    stores.attempts.mark_placed(call, "simulated", "sim-1")
    assert status(stores, 2) == (RecipientStatus.IN_PROGRESS, 1)
    found = stores.attempts.call_by_provider_id("simulated", "sim-1")
    assert found is not None and found.provider_call_id == "sim-1"
    decision = decide(Outcome.NO_ANSWER, 1, made.settings.retry_config, NOW)
    assert decision.next_attempt_at is not None
    facts = CallFacts(duration_seconds=3.0, cost=0.25, cost_currency="USD")
    analytics = Analytics({"calls": 1, "cost": 0.25}, frozenset({"interest"}))
    assert stores.attempts.record_outcome(
        found, "no_answer", decision, NOW, cancelled=False, facts=facts, analytics=analytics
    )
    assert not stores.attempts.record_outcome(found, "no_answer", decision, NOW, cancelled=False)
    recipient = stores.database.get_recipient(WS, BATCH, 1, 2)
    assert (recipient.status, recipient.last_outcome, recipient.next_attempt_at) == (
        RecipientStatus.WAITING_RETRY,
        "no_answer",
        decision.next_attempt_at,
    )
    assert (recipient.cost, recipient.cost_currency, recipient.duration_seconds) == (
        0.25,
        "USD",
        None,  # not a connected attempt
    )
    assert counts(stores) == {"pending": 2, "skipped": 1}
    assert stores.pacing.workspace_live(WS).calls == 0
    assert [d.row for d in stores.attempts.due(WS, BATCH, NOW, 5)] == [3]
    retry = [d for d in stores.attempts.waiting(WS, BATCH) if d.row == 2]
    assert [(d.due_at, d.retry_at, d.attempts) for d in retry] == [
        (decision.next_attempt_at, decision.next_attempt_at, 1)
    ]
    assert stores.database.analytics(WS, BATCH) | {"cost_currency": "USD"} == {
        "calls": 1,
        "cost": 0.25,
        "data_fields": {"interest"},
        "cost_currency": "USD",
    }
    assert stores.attempts.live_calls() == 0


def test_a_released_claim_is_pending_again(stores: Stores) -> None:
    loaded(stores, rows=2)
    assert claim(stores, 2) is Claim.CLAIMED
    call = stores.attempts.call("call_2_1")
    assert call is not None
    assert stores.attempts.release(call)
    assert not stores.attempts.release(call)
    assert status(stores, 2) == (RecipientStatus.PENDING, 0)
    assert stores.attempts.call("call_2_1") is None
    assert counts(stores) == {"pending": 2, "skipped": 1}
    assert stores.pacing.workspace_live(WS).calls == 0
    assert [d.row for d in stores.attempts.due(WS, BATCH, NOW, 5)] == [2, 3]


def test_cancelling_everyone_waiting(stores: Stores) -> None:
    loaded(stores, rows=3)
    assert claim(stores, 2) is Claim.CLAIMED
    waiting = list(stores.attempts.waiting(WS, BATCH))
    assert stores.attempts.cancel_waiting(WS, BATCH, waiting) == 2
    assert stores.attempts.cancel_waiting(WS, BATCH, waiting) == 0
    assert counts(stores) == {"in_progress": 1, "cancelled": 2, "skipped": 1}
    assert list(stores.attempts.waiting(WS, BATCH)) == []


def test_watches_and_the_audit_kept_with_a_claim(stores: Stores) -> None:
    loaded(stores, rows=2)
    due = stores.attempts.due(WS, BATCH, NOW, 1)[0]
    assert (
        stores.attempts.claim(
            WS, BATCH, due, call_id="c1", task_token="t1", now=NOW, caller_id="+1",
            slot=SLOT, watch_until=NOW + timedelta(minutes=5), workspace_limit=5,
            slot_limit=5, audit={"profile": "us_tcpa"},
        )
        is Claim.CLAIMED
    )  # fmt: skip
    assert stores.attempts.unwatched(NOW + timedelta(minutes=4), 10) == []
    (lost,) = stores.attempts.unwatched(NOW + timedelta(minutes=6), 10)
    assert lost.call_id == "c1"
    assert stores.attempts.watch(lost, "t2", NOW + timedelta(minutes=20))
    assert stores.attempts.unwatched(NOW + timedelta(minutes=6), 10) == []
    watched = stores.attempts.call("c1")
    assert watched is not None and watched.task_token == "t2"
    audited = list(stores.attempts.audited_calls(["nope", "c1"]))
    assert [(a.call_id, a.attempt, a.outcome, a.audit) for a in audited] == [
        ("c1", 1, None, {"profile": "us_tcpa"})
    ]
    assert audited[0].started_at == NOW.isoformat()
    unknown = CallRecord("c1", WS, BATCH, 1, 2, 1, None, None, None)
    decision = decide(Outcome.COMPLETED, 1, batch_of(1).settings.retry_config, NOW)
    assert stores.attempts.record_outcome(unknown, "completed", decision, NOW, cancelled=False)
    assert not stores.attempts.watch(unknown, "t3", NOW)


def test_call_starts_per_second_and_batches_waiting_for_a_unit(stores: Stores) -> None:
    assert stores.pacing.reserve_start(WS, BATCH, 100, None, None)
    assert stores.pacing.reserve_start(WS, BATCH, 100, 2, 1)
    assert not stores.pacing.reserve_start(WS, BATCH, 100, 2, 1)  # the workspace's pace
    assert stores.pacing.reserve_start(WS, BATCH, 100, 2, None)
    assert not stores.pacing.reserve_start(WS, BATCH, 100, 2, None)  # the batch's pace
    assert stores.pacing.reserve_start(WS, BATCH, 101, 2, 1)
    stores.pacing.wait_for_unit(WS, "b1", "05#a", NOW)
    stores.pacing.wait_for_unit(WS, "b2", "04#b", NOW)
    assert stores.pacing.workspace_live(WS).waiting == {
        "b1": ("05#a", NOW.timestamp()),
        "b2": ("04#b", NOW.timestamp()),
    }
    stores.pacing.stop_waiting_for_unit(WS, "b1")
    stores.pacing.stop_waiting_for_unit(WS, "b1")
    assert list(stores.pacing.workspace_live(WS).waiting) == ["b2"]
