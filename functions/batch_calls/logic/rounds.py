"""Orchestration (architecture.md sections 2, 2b and 5): runs and outcomes.

A run (still called a round in names and keys) is one execution of
statemachines/batch_round.asl.json: `prepare_round` claims it and gives it
max_concurrent_calls slots, whose loop is logic/dispatch.py, and `finish_round` ends
it. `advance` is the one place that decides what a batch with no running round does
next: start one now, schedule one for when the next recipient is due, wait for live
calls, or complete. `record` records an attempt's outcome, whoever learnt it.
"""

import dataclasses
from typing import Any

from batch_calls.domain import results
from batch_calls.domain.batch import Batch, BatchStatus, Outcome, Recipient, RecipientStatus
from batch_calls.domain.calls import decide, execution_name, status_after
from batch_calls.domain.records import Analytics, CallRecord
from batch_calls.domain.results import CallFacts
from batch_calls.logic import calling_rules as rules
from batch_calls.logic.services import Services

_RUNNABLE = frozenset({BatchStatus.INITIATED, BatchStatus.SCHEDULED, BatchStatus.RUNNING})
# A Distributed Map runs at most this many children at once.
MAX_SLOTS = 10_000


def round_payload(batch: Batch, round_number: int) -> dict[str, Any]:
    return {"workspace_id": batch.workspace_id, "batch_id": batch.batch_id, "round": round_number}


def advance(services: Services, batch: Batch) -> str:
    """What a batch with no running round does next; returns what it did (for logs)."""
    now = services.clock()
    if batch.status not in _RUNNABLE or batch.active_round is not None:
        return "nothing: not runnable or a round is running"
    if batch.loaded_parts < batch.parts:
        return "nothing: recipients still loading"
    next_round = batch.round + 1
    name = execution_name(batch.batch_id, next_round)
    scheduled_at = batch.settings.scheduled_at
    if batch.status is BatchStatus.SCHEDULED and scheduled_at is not None and scheduled_at > now:
        services.workflow.schedule(name, scheduled_at, round_payload(batch, next_round))
        return "scheduled the first round"
    if batch.counts["pending"] == 0:
        if batch.counts["in_progress"] == 0:
            completed = services.database.complete_batch(batch.workspace_id, batch.batch_id, now)
            if completed is not None:
                services.notifications.batch_status_changed(completed, BatchStatus.RUNNING)
            return "completed"
        return "nothing: waiting for live calls"
    if batch.counts["in_progress"] >= batch.settings.max_concurrent_calls:
        return "nothing: every slot is taken; the next outcome advances"
    earliest = services.attempts.earliest_due(batch.workspace_id, batch.batch_id)
    if earliest is None:
        return "nothing: nobody due"
    due_at = max(earliest.due_at or now, now)
    reason = rules.waiting_reason(due_at, earliest.retry_at, earliest.waiting_for)
    opening = rules.batch_opening(batch.settings.calling_window, due_at)
    if opening is None:
        return "nothing: the calling window never opens"
    if opening > due_at:
        due_at, reason = opening, rules.CALLING_WINDOW
    if due_at <= now:
        services.workflow.start(name, round_payload(batch, next_round))
        return f"started round {next_round}"
    if batch.next_round_at is not None and due_at < batch.next_round_at:
        # Someone became due before the round already scheduled: schedule it earlier
        # (a schedule of the same name would otherwise stand).
        services.workflow.unschedule(name)
    services.workflow.schedule(name, due_at, round_payload(batch, next_round))
    services.database.set_waiting(batch.workspace_id, batch.batch_id, due_at, reason)
    return f"scheduled round {next_round} at {due_at.isoformat()} ({reason})"


def reset_window_waits(services: Services, workspace_id: str, batch_id: str) -> int:
    """The batch's calling window changed: everyone waiting for an opening of the old
    one is due again at the end of its retry wait (or now), and the next round is
    planned afresh (the one scheduled for the old opening is withdrawn)."""
    reset = sum(
        services.attempts.undefer(workspace_id, batch_id, due)
        for due in services.attempts.waiting(workspace_id, batch_id)
        if due.due_at is not None and due.due_at != due.retry_at
    )
    batch = services.database.get_batch(workspace_id, batch_id)
    if batch is not None and batch.active_round is None:
        services.workflow.unschedule(execution_name(batch_id, batch.round + 1))
        advance(services, batch)
    return reset


def prepare_round(
    services: Services, workspace_id: str, batch_id: str, round_number: int
) -> dict[str, Any]:
    """Claim the run and give it its slots: max_concurrent_calls of them, no more than
    there are recipients left (architecture.md section 2b)."""
    now = services.clock()
    nothing: dict[str, Any] = {"count": 0, "slots": [], "max_concurrency": 1}
    current = services.database.get_batch(workspace_id, batch_id)
    if current is None:
        return nothing
    scheduled_at = current.settings.scheduled_at
    if current.status is BatchStatus.SCHEDULED and scheduled_at is not None and scheduled_at > now:
        # Fired early (the scheduler's precision is a minute): never dial before
        # scheduled_at; the next round is scheduled for it instead.
        later = round_number + 1
        services.workflow.schedule(
            execution_name(batch_id, later), scheduled_at, round_payload(current, later)
        )
        return nothing
    batch = services.database.begin_round(workspace_id, batch_id, round_number, now)
    if batch is None:
        return nothing
    if batch.previous_status is not BatchStatus.RUNNING:
        services.notifications.batch_status_changed(batch, batch.previous_status)
    count = min(batch.settings.max_concurrent_calls, max(batch.counts["pending"], 1), MAX_SLOTS)
    return {"count": count, "slots": list(range(count)), "max_concurrency": count}


def finish_round(services: Services, workspace_id: str, batch_id: str, round_number: int) -> str:
    """Every slot of the run has ended: plan what comes next."""
    batch = services.database.end_round(workspace_id, batch_id, round_number)
    if batch is None:
        return "nothing: the round was not running (a pause, a cancel, or never claimed)"
    return advance(services, batch)


def record(
    services: Services,
    call: CallRecord,
    outcome: Outcome,
    reported: str | None = None,
    facts: CallFacts | None = None,
) -> bool:
    """Record an attempt's outcome and what the provider told of it (first) and release
    its Dial task (then). A callback request schedules the next attempt at the asked
    time, inside the calling window (its next opening), never earlier."""
    now = services.clock()
    facts = facts or CallFacts()
    batch = services.database.get_batch(call.workspace_id, call.batch_id)
    if batch is None:
        return False
    settings = batch.settings
    window = settings.calling_window
    target = None
    callback_at = None
    if facts.callback_at is not None:
        target = _recipient(services, call)
        zone = rules.recipient_zone(window, target.phone_number, target.variables)
        callback_at = results.callback_time(facts.callback_at, zone)
    decision = decide(
        outcome,
        call.attempt,
        settings.retry_config,
        now,
        callback_at=callback_at,
        leave_message=settings.voicemail_policy == "leave_message",
    )
    if decision.next_attempt_at is not None and window is not None:
        # A retry that falls outside the window waits for its next opening.
        target = target or _recipient(services, call)
        due_at = rules.due_after_retry_wait(
            window, target.phone_number, target.variables, decision.next_attempt_at
        )
        decision = dataclasses.replace(decision, due_at=due_at)
    cancelled = batch.status is BatchStatus.CANCELLED
    status = status_after(decision, cancelled=cancelled)
    counters, data_fields = results.analytics_deltas(
        call.attempt,
        outcome,
        facts,
        now,
        callback=callback_at is not None and status is RecipientStatus.WAITING_RETRY,
    )
    recorded = services.attempts.record_outcome(
        call,
        reported or str(outcome),
        decision,
        now,
        cancelled=cancelled,
        facts=facts,
        connected=outcome in results.CONNECTED,
        analytics=Analytics(counters, frozenset(data_fields)),
    )
    _release_slot(services, call, reported or str(outcome))
    if recorded:
        services.notifications.call_ended(
            batch,
            call,
            outcome=outcome,
            reported=reported or str(outcome),
            status=status,
            next_attempt_at=decision.next_attempt_at,
            ended_at=now,
            facts=facts,
        )
        fresh = services.database.get_batch(call.workspace_id, call.batch_id)
        if fresh is not None and fresh.active_round is None:
            advance(services, fresh)  # a call of a stopped round, or the last one
    return recorded


def _recipient(services: Services, call: CallRecord) -> Recipient:
    return services.database.get_recipient(call.workspace_id, call.batch_id, call.part, call.row)


def _release_slot(services: Services, call: CallRecord, outcome: str) -> None:
    """Answer the slot waiting for this call: its token as read, or, if that task has
    ended (the slot was reconciling meanwhile and watches it again), the newer one."""
    if call.task_token is None or services.workflow.answer(call.task_token, {"outcome": outcome}):
        return
    latest = services.attempts.call(call.call_id)
    if latest is not None and latest.task_token not in {None, call.task_token}:
        services.workflow.answer(str(latest.task_token), {"outcome": outcome})
