"""The suppression list (logic/suppression.py) and what the world is told of a batch
(logic/notifications.py), on the in-memory fakes."""

import pytest

from batch_calls.domain.batch import BatchStatus, Outcome, RecipientStatus, Webhooks
from batch_calls.logic import suppression
from batch_calls.logic.calling_rules import SUPPRESSED
from batch_calls.logic.dispatch import dial
from batch_calls.logic.errors import InvalidField
from batch_calls.logic.notifications import BATCH_STATUS_CHANGED, CALL_COMPLETED
from batch_calls.logic.rounds import record
from tests.fakes import NOW, World
from tests.unit.test_dispatch_logic import BATCH, SLOT, WS, recipient, running


def test_listed_numbers_are_swept_out_of_the_active_batches() -> None:
    world = World()
    running(world, ["+14155550101", "+14155550102"])
    added = suppression.add_numbers(
        world.services, world.load_queue, WS, {"phone_numbers": ["+1 415 555 0101", "+14155550101"]}
    )
    assert (added.added, added.phone_numbers) == (1, 1)
    assert world.load_queue.requests == [("suppression_sweep", WS, None, None)]

    assert suppression.sweep(world.services, WS) == 1

    assert (recipient(world, 2).status, recipient(world, 2).skip_reason) == (
        RecipientStatus.SKIPPED,
        SUPPRESSED,
    )
    assert recipient(world, 3).status is RecipientStatus.PENDING
    again = suppression.add_numbers(
        world.services, world.load_queue, WS, {"phone_number": "+14155550101"}
    )
    assert again.already_listed == 1
    assert len(world.load_queue.requests) == 1  # nothing new: no sweep


def test_a_number_that_is_not_one_is_refused_by_its_index() -> None:
    world = World()
    with pytest.raises(InvalidField) as refused:
        suppression.add_numbers(
            world.services, world.load_queue, WS, {"phone_numbers": ["+14155550101", "call me"]}
        )
    assert str(refused.value).startswith("phone_numbers.1: ")
    assert world.table.suppressed == {}


def test_the_last_waiting_recipient_swept_completes_the_batch() -> None:
    world = World()
    running(world, ["+14155550101"])
    world.database.end_round(WS, BATCH, 1)
    suppression.add_numbers(world.services, world.load_queue, WS, {"phone_number": "+14155550101"})

    suppression.sweep(world.services, WS)

    batch = world.database.get_batch(WS, BATCH)
    assert batch is not None and batch.status is BatchStatus.COMPLETED
    assert [
        detail["status"] for kind, detail in world.bus.events if kind == BATCH_STATUS_CHANGED
    ] == ["completed"]
    assert ("report", WS, BATCH, None) in world.load_queue.requests


def test_a_call_and_its_batch_end_announced_on_the_bus_and_the_webhooks() -> None:
    world = World()
    running(world, ["+14155550101"])
    batch = world.database.get_batch(WS, BATCH)
    assert batch is not None
    hooks = Webhooks(
        on_call_complete="https://hooks.example.com/call",
        on_batch_complete="https://hooks.example.com/batch",
    )
    world.database.transition_batch(  # as a PATCH of its webhooks would
        WS, BATCH, allowed_from=[BatchStatus.RUNNING], to=BatchStatus.RUNNING, now=NOW,
        settings=batch.settings.model_copy(update={"webhooks": hooks}),
    )  # fmt: skip
    dial(world.services, SLOT, "token-1")
    (placed,) = world.provider.placed
    call = world.attempts.call(placed.call_id)
    assert call is not None
    world.database.end_round(WS, BATCH, 1)

    record(world.services, call, Outcome.COMPLETED)

    kinds = [kind for kind, _ in world.bus.events]
    assert kinds == [CALL_COMPLETED, BATCH_STATUS_CHANGED]
    call_detail = world.bus.events[0][1]
    assert (call_detail["phone_number"], call_detail["outcome"], call_detail["final"]) == (
        "+14155550101",
        "completed",
        True,
    )
    assert [(d["url"], d["type"]) for d in world.webhooks.deliveries] == [
        ("https://hooks.example.com/call", "call.completed"),
        ("https://hooks.example.com/batch", "batch.completed"),
    ]


def test_a_bus_that_fails_never_undoes_the_change() -> None:
    world = World()
    running(world, ["+14155550101"])
    world.bus.broken = True
    world.database.end_round(WS, BATCH, 1)
    suppression.add_numbers(world.services, world.load_queue, WS, {"phone_number": "+14155550101"})

    suppression.sweep(world.services, WS)

    batch = world.database.get_batch(WS, BATCH)
    assert batch is not None and batch.status is BatchStatus.COMPLETED
    assert world.bus.events == []
    assert ("report", WS, BATCH, None) in world.load_queue.requests
