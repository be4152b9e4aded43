"""Orchestration (architecture.md sections 2 and 5): rounds, dials and outcomes.

A round is one execution of statemachines/batch_round.asl.json. `advance` is the one
place that decides what a batch with no running round does next: start a round now,
schedule one for when the next recipient is due, wait for live calls, or complete.
"""

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from batch_calls import monitoring
from batch_calls.domain.batch import Batch, BatchStatus, Outcome, Recipient, RecipientStatus
from batch_calls.domain.calls import (
    UNKNOWN_OUTCOME,
    call_id,
    decide,
    execution_name,
    idempotency_key,
    round_size,
    status_after,
)
from batch_calls.domain.workspace import Workspace
from batch_calls.logic import calling_rules as rules
from batch_calls.logic.notifications import Notifications
from batch_calls.store.attempts import Attempts, CallRecord, Due, DueRecipient
from batch_calls.store.blobs import Blobs
from batch_calls.store.database import Database
from batch_calls.store.workflow import Workflow
from batch_calls.telephony.base import (
    CallNotPlaced,
    CallRequest,
    DispatchUnknown,
    Provider,
    ProviderNotConfigured,
)

# A round with recipient-local windows reads at most this many pages of due recipients.
MAX_PAGES_PER_ROUND = 10
_DUE_STATUSES = frozenset({RecipientStatus.PENDING, RecipientStatus.WAITING_RETRY})
_RUNNABLE = frozenset({BatchStatus.INITIATED, BatchStatus.SCHEDULED, BatchStatus.RUNNING})


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Rounds:
    database: Database
    attempts: Attempts
    blobs: Blobs
    workflow: Workflow
    # The telephony provider by name; None: the deployment's default.
    provider: Callable[[str | None], Provider]
    notifications: Notifications
    clock: Callable[[], datetime] = _utc_now
    sleep: Callable[[float], None] = time.sleep  # pacing waits (fractions of a second)


def round_payload(batch: Batch, round_number: int) -> dict[str, Any]:
    return {"workspace_id": batch.workspace_id, "batch_id": batch.batch_id, "round": round_number}


def advance(rounds: Rounds, batch: Batch) -> str:
    """What a batch with no running round does next; returns what it did (for logs)."""
    now = rounds.clock()
    if batch.status not in _RUNNABLE or batch.active_round is not None:
        return "nothing: not runnable or a round is running"
    if batch.loaded_parts < batch.parts:
        return "nothing: recipients still loading"
    next_round = batch.round + 1
    name = execution_name(batch.batch_id, next_round)
    scheduled_at = batch.settings.scheduled_at
    if batch.status is BatchStatus.SCHEDULED and scheduled_at is not None and scheduled_at > now:
        rounds.workflow.schedule(name, scheduled_at, round_payload(batch, next_round))
        return "scheduled the first round"
    if batch.counts["pending"] == 0:
        if batch.counts["in_progress"] == 0:
            completed = rounds.database.complete_batch(batch.workspace_id, batch.batch_id, now)
            if completed is not None:
                rounds.notifications.batch_status_changed(completed, BatchStatus.RUNNING)
            return "completed"
        return "nothing: waiting for live calls"
    if batch.counts["in_progress"] >= batch.settings.max_concurrent_calls:
        return "nothing: every slot is taken; the next outcome advances"
    earliest = rounds.attempts.earliest_due(batch.workspace_id, batch.batch_id)
    if earliest is None:
        return "nothing: nobody due"
    due_at = max(earliest.due_at or now, now)
    reason = rules.waiting_reason(due_at, earliest.retry_at)
    opening = rules.batch_opening(batch.settings.calling_window, due_at)
    if opening is None:
        return "nothing: the calling window never opens"
    if opening > due_at:
        due_at, reason = opening, rules.CALLING_WINDOW
    if due_at <= now:
        rounds.workflow.start(name, round_payload(batch, next_round))
        return f"started round {next_round}"
    if batch.next_round_at is not None and due_at < batch.next_round_at:
        # Someone became due before the round already scheduled: schedule it earlier
        # (a schedule of the same name would otherwise stand).
        rounds.workflow.unschedule(name)
    rounds.workflow.schedule(name, due_at, round_payload(batch, next_round))
    rounds.database.set_waiting(batch.workspace_id, batch.batch_id, due_at, reason)
    return f"scheduled round {next_round} at {due_at.isoformat()} ({reason})"


def reset_window_waits(rounds: Rounds, workspace_id: str, batch_id: str) -> int:
    """The batch's calling window changed: everyone waiting for an opening of the old
    one is due again at the end of its retry wait (or now), and the next round is
    planned afresh (the one scheduled for the old opening is withdrawn)."""
    reset = sum(
        rounds.attempts.undefer(workspace_id, batch_id, due)
        for due in rounds.attempts.waiting(workspace_id, batch_id)
        if due.due_at is not None and due.due_at != due.retry_at
    )
    batch = rounds.database.get_batch(workspace_id, batch_id)
    if batch is not None and batch.active_round is None:
        rounds.workflow.unschedule(execution_name(batch_id, batch.round + 1))
        advance(rounds, batch)
    return reset


def prepare_round(
    rounds: Rounds, workspace_id: str, batch_id: str, round_number: int
) -> dict[str, Any]:
    """Claim the round and write its manifest: who is due now, at most a few times the
    concurrency (bounded rounds pick up retries, pauses and changes promptly)."""
    now = rounds.clock()
    not_owned = {"count": 0, "owned": False, "bucket": "", "key": "", "max_concurrency": 1}
    current = rounds.database.get_batch(workspace_id, batch_id)
    if current is None:
        return not_owned
    scheduled_at = current.settings.scheduled_at
    if current.status is BatchStatus.SCHEDULED and scheduled_at is not None and scheduled_at > now:
        # Fired early (the scheduler's precision is a minute): never dial before
        # scheduled_at; the next round is scheduled for it instead.
        later = round_number + 1
        rounds.workflow.schedule(
            execution_name(batch_id, later), scheduled_at, round_payload(current, later)
        )
        return not_owned
    batch = rounds.database.begin_round(workspace_id, batch_id, round_number, now)
    if batch is None:
        return not_owned
    if batch.previous_status is not BatchStatus.RUNNING:
        rounds.notifications.batch_status_changed(batch, batch.previous_status)
    items = [
        {
            "workspace_id": workspace_id,
            "batch_id": batch_id,
            "part": r.part,
            "row": r.row,
            "attempts": r.attempts,
        }
        for r in _callable_now(rounds, batch, now)
    ]
    key = rounds.blobs.put_manifest(workspace_id, batch_id, round_number, items)
    return {
        "count": len(items),
        "owned": True,
        "bucket": rounds.blobs.bucket,
        "key": key,
        "max_concurrency": batch.settings.max_concurrent_calls,
    }


def _callable_now(rounds: Rounds, batch: Batch, now: datetime) -> list[Due]:
    """Up to a round's worth of due recipients whose calling window is open now. With
    each recipient's local time, those whose window is closed are moved to its opening
    as they are met (a bounded number a round), so no later round reads them again."""
    limit = round_size(batch.settings.max_concurrent_calls)
    window = batch.settings.calling_window
    if rules.batch_opening(window, now) != now:
        return []  # the batch-wide window is closed: FinishRound schedules its opening
    if window is None or not window.recipient_local_time:
        return rounds.attempts.due(batch.workspace_id, batch.batch_id, now, limit)
    chosen: list[Due] = []
    page: dict[str, Any] | None = None
    for _ in range(MAX_PAGES_PER_ROUND):
        due, page = rounds.attempts.due_page(batch.workspace_id, batch.batch_id, now, limit, page)
        for recipient in due:
            is_open, opening = rules.window_check(
                window, recipient.phone_number, recipient.variables, now
            )
            if is_open:
                chosen.append(recipient)
            else:
                rules.defer_or_skip(
                    rounds.attempts, batch.workspace_id, batch.batch_id, recipient, opening
                )
        if len(chosen) >= limit or page is None:
            break
    return chosen[:limit]


def finish_round(
    rounds: Rounds, workspace_id: str, batch_id: str, round_number: int, owned: bool
) -> str:
    if not owned:
        return "nothing: the round was not this execution's"
    batch = rounds.database.end_round(workspace_id, batch_id, round_number)
    if batch is None:
        return "nothing: the round was ended by a pause or a cancel"
    return advance(rounds, batch)


def dial(rounds: Rounds, item: dict[str, Any], task_token: str) -> str:
    """Check the calling rules, claim the attempt, take a call start (pacing), check the
    rules again at that moment, then place the call; never a second call for one
    attempt. A recipient not called is put back, and no attempt is counted."""
    workspace_id, batch_id = str(item["workspace_id"]), str(item["batch_id"])
    recipient = DueRecipient(int(item["part"]), int(item["row"]), int(item["attempts"]))
    attempt = recipient.attempts + 1
    this_call = call_id(batch_id, recipient.part, recipient.row, attempt)
    if rounds.attempts.call(this_call) is not None:
        # A retried invocation of a claimed attempt: whether the first one reached the
        # provider is unknown, so its callback or the timeout's reconciliation decides.
        return "already claimed"
    batch = rounds.database.get_batch(workspace_id, batch_id)
    target = rounds.database.get_recipient(workspace_id, batch_id, recipient.part, recipient.row)
    refused = "no batch" if batch is None else _refusal(rounds, batch, recipient, target)
    if batch is None or refused is not None:
        rounds.workflow.answer(task_token, {"dialled": False})
        return f"not claimed: {refused}"
    caller = rules.caller_id(batch.settings, target)
    claimed = rounds.attempts.claim(
        workspace_id,
        batch_id,
        recipient,
        call_id=this_call,
        task_token=task_token,
        now=rounds.clock(),
        caller_id=caller,
    )
    if not claimed:
        if rounds.attempts.call(this_call) is not None:
            return "already claimed"
        rounds.workflow.answer(task_token, {"dialled": False})  # paused, no slot, or moved
        return "not claimed"
    call = rounds.attempts.call(this_call)
    assert call is not None
    batch = rounds.database.get_batch(workspace_id, batch_id)
    if batch is None or batch.status is not BatchStatus.RUNNING:
        return _put_back(rounds, call, "the batch stopped")  # paused or cancelled meanwhile
    # Read once: its pace is taken now, its provider places the call below.
    workspace = rounds.database.get_workspace(workspace_id)
    second = _call_start(rounds, batch, workspace)
    if second is None:
        return _put_back(rounds, call, "no call start free (pacing)")
    if second != rules.UNPACED:  # it waited for its start: is the window still open?
        is_open, opening = rules.window_check(
            batch.settings.calling_window, target.phone_number, target.variables, rounds.clock()
        )
        if not is_open:
            put_back = _put_back(rounds, call, "the window closed while it waited")
            rules.defer_or_skip(rounds.attempts, workspace_id, batch_id, recipient, opening)
            return put_back
    if not rules.within(second, rounds.clock):
        return _put_back(rounds, call, "its call start passed")
    agent = rounds.database.get_agent(workspace_id, batch.settings.agent_id)
    request = CallRequest(
        call_id=this_call,
        idempotency_key=idempotency_key(batch_id, recipient.part, recipient.row, attempt),
        to=target.phone_number,
        from_number=caller,
        agent_id=batch.settings.agent_id,
        variables=target.variables,
        batch_id=batch_id,
        attempt=attempt,
        agent_version=agent.published_version if agent else None,
        prompt=agent.render(target.variables) if agent else "",
    )
    try:
        provider = rounds.provider(workspace.telephony_provider if workspace else None)
        placed = provider.place_call(request)
    except (CallNotPlaced, ProviderNotConfigured) as refused:
        record(rounds, call, Outcome.FAILED, str(refused))
        return "not placed"
    except DispatchUnknown as unknown:
        # The provider may have the call: never dial again; the Dial task's timeout
        # reconciles it by asking the provider (architecture.md section 5).
        return f"dispatch unknown, left to reconciliation: {unknown}"
    rounds.attempts.mark_placed(call, provider.name, placed.provider_call_id)
    monitoring.count(monitoring.CALLS_STARTED)
    return "placed"


def _workspace_provider(rounds: Rounds, workspace_id: str, name: str | None) -> Provider:
    """The provider `name` (the one that placed a call), else the one the workspace
    chose, else the default."""
    if name is None:
        workspace = rounds.database.get_workspace(workspace_id)
        name = workspace.telephony_provider if workspace else None
    return rounds.provider(name)


def _put_back(rounds: Rounds, call: CallRecord, why: str) -> str:
    """Undo a claim whose call is not placed (it was never an attempt)."""
    rounds.attempts.release(call)
    if call.task_token:
        rounds.workflow.answer(call.task_token, {"dialled": False})
    return f"put back: {why}"


def _call_start(rounds: Rounds, batch: Batch, workspace: Workspace | None) -> int | None:
    """A call start of the batch's and the workspace's pace (see calling_rules)."""
    limits = (
        batch.settings.max_calls_per_second,
        None if workspace is None else workspace.max_calls_per_second,
    )
    return rules.reserve_call_start(
        rounds.attempts,
        batch.workspace_id,
        batch.batch_id,
        limits,
        clock=rounds.clock,
        sleep=rounds.sleep,
    )


def _refusal(
    rounds: Rounds, batch: Batch, recipient: DueRecipient, target: Recipient
) -> str | None:
    """Why this recipient may not be called at this moment (None: it may). A suppressed
    number is skipped; outside its window it is due again at the opening."""
    workspace_id, batch_id = batch.workspace_id, batch.batch_id
    if batch.status is not BatchStatus.RUNNING:
        return "the batch is not running"
    if target.status not in _DUE_STATUSES or target.attempts != recipient.attempts:
        return "the recipient moved"
    if rounds.database.is_suppressed(workspace_id, target.phone_number):
        rounds.attempts.skip(workspace_id, batch_id, recipient, rules.SUPPRESSED)
        return "suppressed"
    is_open, opening = rules.window_check(
        batch.settings.calling_window, target.phone_number, target.variables, rounds.clock()
    )
    if not is_open:
        rules.defer_or_skip(rounds.attempts, workspace_id, batch_id, recipient, opening)
        return "outside the calling window"
    return None


def record(rounds: Rounds, call: CallRecord, outcome: Outcome, reported: str | None = None) -> bool:
    """Record an attempt's outcome (first) and release its Dial task (then)."""
    now = rounds.clock()
    batch = rounds.database.get_batch(call.workspace_id, call.batch_id)
    if batch is None:
        return False
    decision = decide(outcome, call.attempt, batch.settings.retry_config, now)
    window = batch.settings.calling_window
    if decision.next_attempt_at is not None and window is not None:
        # A retry that falls outside the window waits for its next opening.
        target = rounds.database.get_recipient(
            call.workspace_id, call.batch_id, call.part, call.row
        )
        due_at = rules.due_after_retry_wait(
            window, target.phone_number, target.variables, decision.next_attempt_at
        )
        decision = dataclasses.replace(decision, due_at=due_at)
    cancelled = batch.status is BatchStatus.CANCELLED
    recorded = rounds.attempts.record_outcome(
        call, reported or str(outcome), decision, now, cancelled=cancelled
    )
    if call.task_token:
        rounds.workflow.answer(call.task_token, {"outcome": reported or str(outcome)})
    if recorded:
        rounds.notifications.call_ended(
            batch,
            call,
            outcome=outcome,
            reported=reported or str(outcome),
            status=status_after(decision, cancelled=cancelled),
            next_attempt_at=decision.next_attempt_at,
            ended_at=now,
        )
        fresh = rounds.database.get_batch(call.workspace_id, call.batch_id)
        if fresh is not None and fresh.active_round is None:
            advance(rounds, fresh)  # a call of a stopped round, or the last one
    return recorded


# Where the round workflow puts a failed Dial's error (statemachines/batch_round.asl.json),
# and how long a recipient whose Dial failed before claiming waits before its next try.
DIAL_ERROR = "dial_error"
DIAL_ERROR_PAUSE = timedelta(minutes=5)
# The Dial task's own timeouts: the Lambda may simply not have run yet (no claim).
_DIAL_TIMEOUTS = frozenset({"States.Timeout", "States.HeartbeatTimeout"})


def _dial_raised(item: dict[str, Any]) -> bool:
    """Whether Reconcile was reached because the Dial Lambda failed (not timed out)."""
    error = item.get(DIAL_ERROR)
    return isinstance(error, dict) and error.get("Error") not in _DIAL_TIMEOUTS


def reconcile(rounds: Rounds, item: dict[str, Any]) -> str:
    """The Dial task timed out or failed (its Lambda raised): ask the provider, or record
    failed with outcome unknown, so the slot is always freed (invariant 6). A Dial that
    failed before claiming placed no call: the recipient is due again after a pause; one
    that claimed but never reached the provider is unknown to it, so failed/unknown; one
    that placed the call is found by its call id."""
    batch_id = str(item["batch_id"])
    recipient = DueRecipient(int(item["part"]), int(item["row"]), int(item["attempts"]))
    call = rounds.attempts.call(
        call_id(batch_id, recipient.part, recipient.row, recipient.attempts + 1)
    )
    if call is None and _dial_raised(item):
        # The Dial failed before claiming: the recipient is still due. Due again after a
        # pause, so a Dial that fails every time (a bug, a broken setting) costs a round
        # every few minutes, not a hot loop of rounds; the alarm on reconciliations tells.
        monitoring.count(monitoring.RECONCILIATIONS)
        until = rounds.clock() + DIAL_ERROR_PAUSE
        rounds.attempts.defer(str(item["workspace_id"]), batch_id, recipient, until)
        return "the dial failed before calling: due again after a pause"
    if call is None or call.outcome is not None:
        return "nothing to reconcile"
    monitoring.count(monitoring.RECONCILIATIONS)
    try:
        provider = _workspace_provider(rounds, call.workspace_id, call.provider)
        known = provider.lookup(call.call_id, call.provider_call_id)
    except (DispatchUnknown, ProviderNotConfigured):
        known = None  # the provider cannot be asked: the slot is freed all the same
    if known is None:
        record(rounds, call, Outcome.FAILED, UNKNOWN_OUTCOME)
        return "recorded as failed, outcome unknown"
    if known.outcome is None:
        # The provider says the call is still live: its slot stays taken (invariant 2)
        # until the callback records the end; the Map slot is free for the round to end.
        return "still live at the provider"
    record(rounds, call, known.outcome)
    return f"reconciled as {known.outcome}"
