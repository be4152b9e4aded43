"""Batch work too long for a request, one piece per load-queue message (store/queues.py).

`load`: write one contact file's recipient items from its normalised rows in S3 (runs
after `POST /batch-calls` answered: 100,000 items take longer than API Gateway waits),
then let the batch advance. Idempotent: a part already loaded is skipped, and rewriting a
part not yet marked loaded writes the same items again.
`cancel`: everyone still pending or waiting for a retry becomes cancelled.
`report`: the batch ended: write its report next to its upload once it has settled.
`window_reset`: the batch's calling window changed: those waiting for an opening of the
old one are due again, checked against the new one.
`suppression_sweep`: in a workspace's active batches, everyone waiting whose number is on
its suppression list becomes skipped (logic/suppression.py).
"""

from dataclasses import dataclass
from typing import Literal, get_args

from batch_calls.domain.batch import Recipient
from batch_calls.logic import suppression
from batch_calls.logic.reports import store_final_report
from batch_calls.logic.rounds import advance, reset_window_waits
from batch_calls.logic.services import Services

Action = Literal["load", "cancel", "report", "window_reset", "suppression_sweep"]
ACTIONS: tuple[Action, ...] = get_args(Action)


@dataclass(frozen=True)
class BatchWork:
    """One piece of work: a batch's (a workspace's, for the sweep), and for a load, which
    part of its contacts."""

    action: Action
    workspace_id: str
    batch_id: str = ""
    part: int = 0


def do(services: Services, work: BatchWork) -> int:
    """Do the work; how many recipients it wrote or changed (a report: 1 if written)."""
    if work.action == "suppression_sweep":
        return suppression.sweep(services, work.workspace_id)
    if work.action == "cancel":
        return cancel_waiting(services, work.workspace_id, work.batch_id)
    if work.action == "report":
        return int(
            store_final_report(services.database, services.blobs, work.workspace_id, work.batch_id)
        )
    if work.action == "window_reset":
        return reset_window_waits(services, work.workspace_id, work.batch_id)
    return load_part(services, work.workspace_id, work.batch_id, work.part)


def load_part(services: Services, workspace_id: str, batch_id: str, part: int) -> int:
    database = services.database
    batch = database.get_batch(workspace_id, batch_id)
    if batch is None or batch.loaded_parts >= part:
        return 0
    records = services.blobs.read_recipients(workspace_id, batch_id, part)
    written = database.put_recipients(
        workspace_id,
        batch_id,
        (Recipient.model_validate({**record, "part": part}) for record in records),
    )
    database.mark_part_loaded(workspace_id, batch_id, part)
    loaded = database.get_batch(workspace_id, batch_id)
    if loaded is not None:
        advance(services, loaded)
    return written


def cancel_waiting(services: Services, workspace_id: str, batch_id: str) -> int:
    waiting = services.attempts.waiting(workspace_id, batch_id)
    cancelled = services.attempts.cancel_waiting(workspace_id, batch_id, list(waiting))
    # With nobody waiting and no call live, the cancelled batch's report is final.
    store_final_report(services.database, services.blobs, workspace_id, batch_id)
    return cancelled
