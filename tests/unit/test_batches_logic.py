"""The batch use cases (logic/batches.py) on the in-memory fakes: create, start, pause,
resume, stop and settings, with what each tells the workflow, the queues and the bus."""

import pytest

from batch_calls.domain.batch import BatchStatus, Recipient
from batch_calls.domain.calls import execution_name
from batch_calls.domain.telephony_config import TelephonyConfig
from batch_calls.logic import admin, batches
from batch_calls.logic.batches import Contacts, CreateRequest
from batch_calls.logic.errors import InvalidField, InvalidState, MissingVariables
from batch_calls.logic.notifications import BATCH_STATUS_CHANGED
from batch_calls.logic.rounds import advance, prepare_round
from batch_calls.logic.settings import SettingsRequest
from tests.fakes import World

CALLER = "+14155550100"
CSV = b"phone_number,name\n+14155550101,Ann\n+14155550102,Bob\n"


def workspace(world: World, prompt: str = "Hello {{name}}") -> str:
    created = admin.create_workspace(
        world.database, "W", TelephonyConfig(enabled_countries=("US",))
    )
    workspace_id = created.workspace.workspace_id
    admin.add_caller_number(world.database, workspace_id, CALLER)
    admin.put_agent(world.database, workspace_id, "agt", prompt)
    return workspace_id


def create(world: World, workspace_id: str, data: bytes = CSV, **fields: object) -> str:
    request = CreateRequest(
        SettingsRequest({"name": "Test", **fields}), Contacts(data=data, filename="c.csv")
    )
    batches.create_batch(world.services, workspace_id, request)
    newest, _ = world.database.list_batches(workspace_id, None, 0, 1)
    return newest[0].batch_id


def status_of(world: World, workspace_id: str, batch_id: str) -> BatchStatus:
    batch = world.database.get_batch(workspace_id, batch_id)
    assert batch is not None
    return batch.status


def statuses(world: World) -> list[tuple[str | None, str]]:
    """The status changes the bus was told of, as (previous, new)."""
    return [
        (detail["previous_status"], detail["status"])
        for kind, detail in world.bus.events
        if kind == BATCH_STATUS_CHANGED
    ]


def loaded_and_running(world: World, workspace_id: str, batch_id: str) -> None:
    """What the load queue's worker and the first run do: the recipients written from
    their stored rows, then the run begun."""
    records = world.blobs.read_recipients(workspace_id, batch_id, 1)
    world.database.put_recipients(
        workspace_id, batch_id, (Recipient.model_validate({**r, "part": 1}) for r in records)
    )
    world.database.mark_part_loaded(workspace_id, batch_id, 1)
    batch = world.database.get_batch(workspace_id, batch_id)
    assert batch is not None
    assert advance(world.services, batch) == "started round 1"
    slots = prepare_round(world.services, workspace_id, batch_id, 1)["count"]
    assert slots == batch.settings.max_concurrent_calls


def test_a_created_batch_is_stored_queued_for_loading_and_announced() -> None:
    world = World()
    ws = workspace(world)
    batch_id = create(world, ws, max_concurrent_calls=3)
    batch = world.database.get_batch(ws, batch_id)
    assert batch is not None
    assert (batch.status, batch.counts["pending"], batch.settings.max_concurrent_calls) == (
        BatchStatus.INITIATED,
        2,
        3,
    )
    assert [r["phone_number"] for r in world.blobs.read_recipients(ws, batch_id, 1)] == [
        "+14155550101",
        "+14155550102",
    ]
    assert world.load_queue.requests == [("load", ws, batch_id, 1)]
    assert statuses(world) == [(None, "initiated")]


def test_a_refused_create_stores_nothing() -> None:
    world = World()
    ws = workspace(world, prompt="Hello {{name}}, about {{loan}}")
    with pytest.raises(MissingVariables):
        create(world, ws)
    with pytest.raises(InvalidField):
        create(world, ws, max_concurrent_calls=0)
    assert (world.table.batches, world.blobs.recipients, world.load_queue.requests) == ({}, {}, [])
    assert world.bus.events == []


def test_pause_stops_the_run_and_resume_starts_the_next() -> None:
    world = World()
    ws = workspace(world)
    batch_id = create(world, ws)
    loaded_and_running(world, ws, batch_id)

    batches.control_batch(world.services, ws, batch_id, "pause")

    assert status_of(world, ws, batch_id) is BatchStatus.PAUSED
    assert world.workflow.stopped == [execution_name(batch_id, 1)]
    batch = world.database.get_batch(ws, batch_id)
    assert batch is not None and batch.active_round is None
    with pytest.raises(InvalidState):
        batches.control_batch(world.services, ws, batch_id, "pause")

    batches.control_batch(world.services, ws, batch_id, "resume")
    assert status_of(world, ws, batch_id) is BatchStatus.RUNNING
    assert execution_name(batch_id, 2) in world.workflow.started
    assert statuses(world)[1:] == [("initiated", "running"), ("running", "paused"),
                                   ("paused", "running")]  # fmt: skip


def test_stop_cancels_for_good_and_asks_for_the_report() -> None:
    world = World()
    ws = workspace(world)
    batch_id = create(world, ws)
    loaded_and_running(world, ws, batch_id)

    batches.control_batch(world.services, ws, batch_id, "cancel")

    assert status_of(world, ws, batch_id) is BatchStatus.CANCELLED

    assert world.workflow.stopped == [execution_name(batch_id, 1)]
    assert ("cancel", ws, batch_id, None) in world.load_queue.requests
    assert ("report", ws, batch_id, None) in world.load_queue.requests
    with pytest.raises(InvalidState):
        batches.control_batch(world.services, ws, batch_id, "resume")


def test_settings_change_while_paused_and_only_some_while_running() -> None:
    world = World()
    ws = workspace(world)
    batch_id = create(world, ws)
    loaded_and_running(world, ws, batch_id)

    with pytest.raises(InvalidState):
        batches.update_batch(
            world.services, ws, batch_id, SettingsRequest({"retry_config": {"max_retries": 0}})
        )
    with pytest.raises(InvalidField):
        batches.update_batch(world.services, ws, batch_id, SettingsRequest({"agent_id": "x"}))
    batches.control_batch(world.services, ws, batch_id, "pause")
    batches.update_batch(
        world.services, ws, batch_id, SettingsRequest({"retry_config": {"max_retries": 0}})
    )
    assert status_of(world, ws, batch_id) is BatchStatus.PAUSED
    batch = world.database.get_batch(ws, batch_id)
    assert batch is not None and batch.settings.retry_config.max_retries == 0


def test_raising_the_concurrency_of_a_running_batch_starts_a_run_with_more_slots() -> None:
    world = World()
    ws = workspace(world)
    batch_id = create(world, ws, max_concurrent_calls=1)
    records = world.blobs.read_recipients(ws, batch_id, 1)
    world.database.put_recipients(
        ws, batch_id, (Recipient.model_validate({**r, "part": 1}) for r in records)
    )
    world.database.mark_part_loaded(ws, batch_id, 1)
    prepare_round(world.services, ws, batch_id, 1)

    batches.update_batch(world.services, ws, batch_id, SettingsRequest({"max_concurrent_calls": 2}))

    assert world.workflow.stopped == [execution_name(batch_id, 1)]
    assert execution_name(batch_id, 2) in world.workflow.started
