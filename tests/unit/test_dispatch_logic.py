"""A slot's Dial (logic/dispatch.py) and an outcome's record (logic/rounds.py) on the
in-memory fakes: the claim paths, the calling rules checked before a claim (windows,
suppression, consent, contact limits) and what a slot is told when it places nothing."""

from datetime import timedelta

import pytest

from batch_calls.domain.batch import (
    Batch,
    BatchSettings,
    BatchStatus,
    CallingWindow,
    Outcome,
    Recipient,
    RecipientStatus,
    RetryConfig,
    initial_counts,
)
from batch_calls.domain.compliance import CONSENT_COLUMN, ContactLimit, Profile
from batch_calls.domain.records import SlotRef
from batch_calls.domain.workspace import Workspace
from batch_calls.logic import calling_rules as rules
from batch_calls.logic.dispatch import Nap, NextCall, NoFreeSlot, SlotDone, dial
from batch_calls.logic.rounds import record
from batch_calls.telephony.base import CallNotPlaced
from tests.fakes import NOW, World

WS, BATCH = "ws_dispatch", "batch_dispatch"
SLOT = SlotRef(WS, BATCH, 1, 0)


def running(
    world: World,
    numbers: list[str],
    *,
    concurrency: int = 2,
    window: CallingWindow | None = None,
    contact_limits: tuple[ContactLimit, ...] = (),
    profile: Profile = Profile.NONE,
) -> None:
    """A batch running its first run, one pending recipient per number (rows 2, 3...);
    a number written "+1...:yes" has that in its consent column."""
    world.database.put_workspace(
        Workspace(
            workspace_id=WS,
            name="W",
            created_at=NOW,
            contact_limits=contact_limits,
            compliance_profile=profile,
        )
    )
    settings = BatchSettings(
        name="dispatch",
        agent_id="agt",
        from_phone_number="+14155550100",
        max_concurrent_calls=concurrency,
        calling_window=window,
        retry_config=RetryConfig(max_retries=1, retry_interval_minutes=10),
    )
    world.database.create_batch(
        Batch(
            batch_id=BATCH,
            workspace_id=WS,
            settings=settings,
            status=BatchStatus.RUNNING,
            counts=initial_counts(len(numbers), 0),
            variables=["name"],
            loaded_parts=1,
            round=1,
            active_round=1,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    world.database.put_recipients(
        WS,
        BATCH,
        [
            Recipient(
                part=1,
                row=row,
                phone_number=number.partition(":")[0],
                status=RecipientStatus.PENDING,
                variables={"name": f"n{row}", CONSENT_COLUMN: number.partition(":")[2]},
            )
            for row, number in enumerate(numbers, start=2)
        ],
    )


def recipient(world: World, row: int) -> Recipient:
    return world.database.get_recipient(WS, BATCH, 1, row)


def test_a_dial_claims_the_first_due_recipient_and_places_its_call() -> None:
    world = World()
    running(world, ["+14155550101", "+14155550102"])

    assert dial(world.services, SLOT, "token-1") == "placed"

    (placed,) = world.provider.placed
    assert (placed.to, placed.from_number, placed.attempt) == ("+14155550101", "+14155550100", 1)
    assert placed.idempotency_key.startswith(BATCH)
    assert recipient(world, 2).status is RecipientStatus.IN_PROGRESS
    batch = world.database.get_batch(WS, BATCH)
    assert batch is not None and batch.counts["in_progress"] == 1
    call = world.attempts.call(placed.call_id)
    assert call is not None
    assert (call.task_token, call.provider_call_id) == ("token-1", f"prov-{placed.call_id}")


def test_the_batch_concurrency_is_a_semaphore() -> None:
    world = World()
    running(world, ["+14155550101", "+14155550102"], concurrency=1)
    dial(world.services, SLOT, "token-1")
    with pytest.raises(NoFreeSlot):
        dial(world.services, SLOT, "token-2")
    assert recipient(world, 3).status is RecipientStatus.PENDING
    assert len(world.provider.placed) == 1


def test_a_paused_or_stopped_run_dials_nobody() -> None:
    world = World()
    running(world, ["+14155550101"])
    world.database.transition_batch(
        WS, BATCH, allowed_from=[BatchStatus.RUNNING], to=BatchStatus.PAUSED, now=NOW
    )
    with pytest.raises(SlotDone):
        dial(world.services, SLOT, "token-1")
    with pytest.raises(SlotDone):
        dial(world.services, SlotRef(WS, BATCH, 2, 0), "token-1")
    assert world.provider.placed == []


def test_a_suppressed_number_is_skipped_and_the_next_one_called() -> None:
    world = World()
    running(world, ["+14155550101", "+14155550102"])
    world.database.suppress(WS, ["+14155550101"], "api", NOW)

    assert dial(world.services, SLOT, "token-1") == "placed"

    assert (recipient(world, 2).status, recipient(world, 2).skip_reason) == (
        RecipientStatus.SKIPPED,
        rules.SUPPRESSED,
    )
    assert [p.to for p in world.provider.placed] == ["+14155550102"]


def test_outside_its_local_window_a_recipient_waits_for_the_opening() -> None:
    world = World()
    # 10:00 UTC is 05:00 in New York: its window opens at 09:00 local, 14:00 UTC.
    window = CallingWindow(start="09:00", end="17:00", recipient_local_time=True)
    running(world, ["+12125550101"], window=window)

    with pytest.raises(NextCall):
        dial(world.services, SLOT, "token-1")

    waiting = recipient(world, 2)
    assert (waiting.status, waiting.waiting_for) == (RecipientStatus.PENDING, rules.CALLING_WINDOW)
    (due,) = world.attempts.waiting(WS, BATCH)
    assert due.due_at == NOW.replace(hour=14)
    assert world.provider.placed == []
    world.clock.now = NOW.replace(hour=14)
    assert dial(world.services, SLOT, "token-2") == "placed"


def test_a_batch_window_closed_for_everyone_naps_the_slot_or_ends_it() -> None:
    world = World()
    running(world, ["+14155550101"], window=CallingWindow(start="10:01", end="17:00"))
    with pytest.raises(Nap):  # opens within NAP_HORIZON
        dial(world.services, SLOT, "token-1")
    world.clock.now = NOW.replace(hour=18)
    with pytest.raises(SlotDone):  # opens tomorrow: the next run is scheduled for it
        dial(world.services, SLOT, "token-2")


def test_a_compliance_profile_skips_who_gave_no_consent_and_keeps_its_hours() -> None:
    world = World()
    # 10:00 UTC is 05:00 in New York: us_tcpa's hours (08:00-21:00 local) open at 13:00.
    running(world, ["+12125550101", "+12125550102:yes"], profile=Profile.US_TCPA)

    with pytest.raises(NextCall):
        dial(world.services, SLOT, "token-1")

    assert (recipient(world, 2).status, recipient(world, 2).skip_reason) == (
        RecipientStatus.SKIPPED,
        rules.NO_CONSENT,
    )
    (due,) = world.attempts.waiting(WS, BATCH)
    assert (due.row, due.due_at) == (3, NOW.replace(hour=13))
    world.clock.now = NOW.replace(hour=13)
    assert dial(world.services, SLOT, "token-2") == "placed"
    (audited,) = world.attempts.audited_calls([world.provider.placed[0].call_id])
    assert (audited.audit["profile"], audited.audit["consent"]) == ("us_tcpa", "required")
    assert audited.audit["local_times"] == ["America/New_York 2026-11-23 08:00"]


def test_a_contact_limit_defers_the_second_call_to_a_number() -> None:
    world = World()
    limit = ContactLimit(max_calls=1, per_hours=24)
    running(world, ["+14155550101", "+14155550101"], contact_limits=(limit,))

    assert dial(world.services, SLOT, "token-1") == "placed"
    history = world.attempts.contact_calls(WS, "+14155550101")
    assert (history.calls, history.revision) == ((NOW,), 1)
    with pytest.raises(NextCall):
        dial(world.services, SlotRef(WS, BATCH, 1, 1), "token-2")

    second = recipient(world, 3)
    assert (second.status, second.waiting_for) == (RecipientStatus.PENDING, rules.CONTACT_LIMIT)
    assert second.waiting_until == NOW + timedelta(hours=24)
    assert len(world.provider.placed) == 1


def test_a_refused_call_is_recorded_failed_with_the_providers_reason() -> None:
    world = World()
    running(world, ["+14155550101"])
    world.provider.refuse = CallNotPlaced("unverified caller ID")

    with pytest.raises(NextCall):
        dial(world.services, SLOT, "token-1")

    refused = recipient(world, 2)
    assert (refused.status, refused.last_outcome) == (
        RecipientStatus.FAILED,
        "unverified caller ID",
    )
    assert world.workflow.answers == {}  # the invocation answers by its NextCall


def test_an_outcome_answers_the_slot_and_a_retry_waits_its_interval() -> None:
    world = World()
    running(world, ["+14155550101"])
    dial(world.services, SLOT, "token-1")
    (placed,) = world.provider.placed
    call = world.attempts.call(placed.call_id)
    assert call is not None

    assert record(world.services, call, Outcome.NO_ANSWER)
    assert not record(world.services, call, Outcome.NO_ANSWER)  # a repeated callback

    assert world.workflow.answers == {"token-1": {"outcome": "no_answer"}}
    retry = recipient(world, 2)
    assert (retry.status, retry.next_attempt_at) == (
        RecipientStatus.WAITING_RETRY,
        NOW + timedelta(minutes=10),
    )
    with pytest.raises((Nap, SlotDone)):
        dial(world.services, SLOT, "token-2")  # nobody due before the retry wait ends
    world.clock.now = NOW + timedelta(minutes=10)
    assert dial(world.services, SLOT, "token-3") == "placed"
    assert [p.attempt for p in world.provider.placed] == [1, 2]
