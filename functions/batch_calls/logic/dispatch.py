"""Continuous dispatch (architecture.md section 2b): the slots of a run.

A run of statemachines/batch_round.asl.json has max_concurrent_calls slots. Each slot
is a loop: its Dial task claims the next due recipient, places the call and waits for
the outcome's callback, and the moment that callback answers it dials again. So a slot
freed by an ended call starts the next due call at once, and one long or lost call holds
only its own slot.

A Dial invocation that places no call ends with one of the signals below; its class
name is the error name the workflow routes on, so the Lambda never answers its own task
token (moto's interpreter sees such an answer only at the task's timeout, AWS at once;
docs/decisions.md). A call whose outcome does not come within the watch period is
reconciled by asking the provider; one still live is watched again, never cut and never
redialled. A call nobody watches any more (its run was stopped by a pause or a cancel,
or its reconciliation failed) is found by the periodic `sweep`.
"""

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from batch_calls import monitoring
from batch_calls.domain import compliance
from batch_calls.domain.batch import (
    MAX_PRIORITY,
    Batch,
    BatchStatus,
    Outcome,
    Profile,
    Recipient,
    RecipientStatus,
)
from batch_calls.domain.calls import UNKNOWN_OUTCOME, call_id, idempotency_key
from batch_calls.domain.compliance import ContactLimit, Guardrails
from batch_calls.domain.records import CallRecord, Claim, ContactUpdate, Due, SlotRef
from batch_calls.domain.workspace import Workspace
from batch_calls.logic import calling_rules as rules
from batch_calls.logic.rounds import record
from batch_calls.logic.services import Services
from batch_calls.telephony.base import (
    CallNotPlaced,
    CallRequest,
    DispatchUnknown,
    Provider,
    ProviderNotConfigured,
)

logger = logging.getLogger(__name__)

# A slot claims at most this many calls; then it ends and the next run starts at once.
# Each call costs a child execution about ten history events: far under 25,000.
SLOT_CALL_LIMIT = 1000
# A slot whose next recipient is due within this time naps until then; one due later
# ends the slot (the next run is scheduled for it), unless another call of the batch is
# live, when it naps this long and looks again (the run is open anyway).
NAP_HORIZON = timedelta(seconds=60)
# How many due recipients a Dial reads to choose from; slots start at different ones so
# that slots freed at the same moment rarely race for the same recipient.
CANDIDATES = 25
# A paced call is placed only this long before its clock second ends: the request must
# reach the provider within the second it was counted in.
PLACE_MARGIN_SECONDS = 0.25
# A recipient whose Dial failed before its call was claimed is due again after this, so
# a recipient that breaks every Dial (a bug, a broken setting) costs a call every few
# minutes, not a hot loop; the alarm on reconciliations tells.
DIAL_ERROR_PAUSE = timedelta(minutes=5)
# The sweep reconciles a call only this long after its slot would have: a slot that is
# alive always reconciles its own call first.
SWEEP_GRACE = timedelta(minutes=2)
# A batch that found the workspace's concurrency full counts as waiting for a unit this
# long after its last try (its slots try every few seconds while they wait).
WORKSPACE_WAIT = timedelta(seconds=15)
_DUE_STATUSES = frozenset({RecipientStatus.PENDING, RecipientStatus.WAITING_RETRY})


class SlotSignal(Exception):
    """A Dial that placed no call; the workflow routes on the class name."""

    is_answer = True  # an answer to the workflow, not a failure (for the logs)


class NextCall(SlotSignal):
    """Nothing to wait for: dial the next recipient now."""


class Nap(SlotSignal):
    """Nobody is due yet; the message is when to look again, in the workflow's time."""

    def __init__(self, until: datetime) -> None:
        whole = until.replace(microsecond=0) + timedelta(seconds=1)  # never early
        super().__init__(whole.strftime("%Y-%m-%dT%H:%M:%SZ"))


class SlotDone(SlotSignal):
    """This slot has nothing more to do in this run."""


class Paced(SlotSignal):
    """No call start was free within the pacing look-ahead (nothing was claimed)."""


class NoFreeSlot(SlotSignal):
    """Every concurrency slot of the batch holds a live call (of an earlier run)."""


def slot_of(payload: dict[str, Any]) -> SlotRef:
    return SlotRef(
        str(payload["workspace_id"]),
        str(payload["batch_id"]),
        int(payload["round"]),
        int(payload["slot"]),
    )


# -- the Dial task -------------------------------------------------------------------


def dial(services: Services, slot: SlotRef, task_token: str) -> str:
    """Claim the next due recipient and place its call, or raise why not."""
    batch = services.database.get_batch(slot.workspace_id, slot.batch_id)
    if batch is None or batch.status is not BatchStatus.RUNNING:
        raise SlotDone("the batch is not running")
    if batch.active_round != slot.round:
        raise SlotDone("this run was stopped")
    if slot.slot >= batch.settings.max_concurrent_calls:
        raise SlotDone("the batch's concurrency was lowered")
    now = services.clock()
    opening = rules.batch_opening(batch.settings.calling_window, now)
    if opening is None:
        raise SlotDone("the calling window never opens")
    if opening > now:
        _idle(services, batch, opening)
    candidates = services.attempts.due(slot.workspace_id, slot.batch_id, now, CANDIDATES)
    if not candidates:
        # Nobody of this batch is due: it waits for no unit of the workspace either.
        services.pacing.stop_waiting_for_unit(slot.workspace_id, slot.batch_id)
        earliest = services.attempts.earliest_due(slot.workspace_id, slot.batch_id)
        if earliest is None:
            raise SlotDone("nobody is waiting")
        _idle(services, batch, max(earliest.due_at or now, now))
    workspace = services.database.get_workspace(slot.workspace_id)
    turn = _Turn(services, batch, workspace, slot, task_token)
    _yield_to_better_batches(turn)
    start = slot.slot % len(candidates)
    for candidate in candidates[start:] + candidates[:start]:
        result = _try(turn, candidate)
        if result is not None:
            return result
    raise NextCall("every candidate was taken or moved")


@dataclass(frozen=True)
class _Turn:
    """One Dial invocation: what it read once and uses for every candidate."""

    services: Services
    batch: Batch
    workspace: Workspace | None
    slot: SlotRef
    task_token: str

    @property
    def profile(self) -> Profile:
        """The compliance profile the batch calls under: its workspace's, or its own."""
        own = Profile.NONE if self.workspace is None else self.workspace.compliance_profile
        return compliance.in_force(own, self.batch.settings.compliance_profile)

    @property
    def workspace_limit(self) -> int:
        """The workspace's concurrency across all its batches."""
        limit = self.batch.settings.max_concurrent_calls
        return limit if self.workspace is None else self.workspace.max_concurrent_calls

    @property
    def rank(self) -> str:
        """Who gets a freed unit of the workspace first: the higher priority, then the
        older batch (text that sorts lowest first)."""
        settings, batch = self.batch.settings, self.batch
        return f"{MAX_PRIORITY - settings.priority:02d}#{batch.created_at.isoformat()}"


def _yield_to_better_batches(turn: _Turn) -> None:
    """While a batch ranked before this one waits for a unit of the workspace's
    concurrency, this one takes none (NoFreeSlot, and it waits too)."""
    live = turn.services.pacing.workspace_live(turn.batch.workspace_id)
    now = turn.services.clock().timestamp()
    better = [
        batch_id
        for batch_id, (rank, until) in live.waiting.items()
        if batch_id != turn.batch.batch_id and until > now and rank < turn.rank
    ]
    if better:
        _wait_for_unit(turn)
        raise NoFreeSlot(f"batches ranked first wait for the workspace's slots: {better}")


def _wait_for_unit(turn: _Turn) -> None:
    until = turn.services.clock() + WORKSPACE_WAIT
    turn.services.pacing.wait_for_unit(
        turn.batch.workspace_id, turn.batch.batch_id, turn.rank, until
    )


def _idle(services: Services, batch: Batch, due_at: datetime) -> None:
    """Nobody is due now; the next one at `due_at`: nap, or end the slot."""
    wait = due_at - services.clock()
    if wait > NAP_HORIZON:
        if batch.counts["in_progress"] == 0:
            raise SlotDone("nobody is due soon: the next run is scheduled")
        wait = NAP_HORIZON
    raise Nap(services.engine_clock() + max(wait, timedelta(0)))


def _try(turn: _Turn, due: Due) -> str | None:
    """Call `due` if it may be called now: what happened, or None to try the next one."""
    services, batch = turn.services, turn.batch
    try:
        target = services.database.get_recipient(
            batch.workspace_id, batch.batch_id, due.part, due.row
        )
        if target.status not in _DUE_STATUSES or target.attempts != due.attempts:
            return None  # claimed by another slot (the due index lags the table)
        checked = _refused(turn, due, target)
        if checked is None:
            return None
        second = _call_start(services, batch, turn.workspace)
        if second is None:
            raise Paced("no call start free")
        if second != rules.UNPACED:
            checked = _refused(turn, due, target)  # it waited: a window may have closed
            if checked is None:
                return None
    except SlotSignal:
        raise
    except Exception:
        # Nothing is claimed yet: this recipient waits a while, the slot goes on.
        logger.exception("dial failed before claiming; the recipient is due again later")
        monitoring.count(monitoring.RECONCILIATIONS)
        services.attempts.defer(
            batch.workspace_id,
            batch.batch_id,
            due,
            services.clock() + DIAL_ERROR_PAUSE,
            rules.DIAL_ERROR,
        )
        raise NextCall("the dial failed before claiming") from None
    return _claim_and_call(turn, due, target, second, checked)


@dataclass(frozen=True)
class _Checked:
    """What a recipient was checked against before its claim (kept as its audit), and
    the change its call makes to its number's history (None: no contact limit)."""

    guardrails: Guardrails
    hours: list[rules.Hours]
    limits: tuple[ContactLimit, ...]
    contact: ContactUpdate | None


def _refused(turn: _Turn, due: Due, target: Recipient) -> _Checked | None:
    """None when this recipient may not be called at this moment: a suppressed number,
    or one without the consent its profile requires, is skipped; outside any of its
    windows (the batch's, its compliance profile's hours) it is due again when all are
    open; over a contact limit, when the limit frees. Else what it was checked against."""
    services, batch = turn.services, turn.batch
    workspace_id, batch_id = batch.workspace_id, batch.batch_id
    now = services.clock()
    if services.database.is_suppressed(workspace_id, target.phone_number, now):
        services.attempts.skip(workspace_id, batch_id, due, rules.SUPPRESSED)
        return None
    guardrails = rules.guardrails(
        turn.profile, target.phone_number, now, batch.settings.observe_federal_holidays
    )
    if guardrails.needs_consent and not compliance.has_consent(target.variables):
        services.attempts.skip(workspace_id, batch_id, due, rules.NO_CONSENT)
        return None
    hours = rules.hours(
        batch.settings.calling_window, guardrails, target.phone_number, target.variables
    )
    is_open, opening = rules.window_check(hours, now)
    if not is_open:
        rules.defer_or_skip(services.attempts, workspace_id, batch_id, due, opening)
        return None
    limits = rules.contact_limits(turn.workspace, guardrails)
    contact = None
    if limits:
        history = services.attempts.contact_calls(workspace_id, target.phone_number)
        frees = compliance.frees_at(history.calls, limits, now)
        if frees is not None:
            services.attempts.defer(workspace_id, batch_id, due, frees, rules.CONTACT_LIMIT)
            return None
        kept = compliance.kept_calls((*history.calls, now), limits, now)
        contact = ContactUpdate(target.phone_number, history, kept)
    return _Checked(guardrails, hours, limits, contact)


def _claim_and_call(
    turn: _Turn, due: Due, target: Recipient, second: int, checked: _Checked
) -> str | None:
    """Claim the attempt, then place the call: never a second call for one attempt."""
    services, batch, workspace = turn.services, turn.batch, turn.workspace
    attempt = target.attempts + 1
    this_call = call_id(batch.batch_id, target.part, target.row, attempt)
    caller = rules.caller_id(batch.settings, target)
    now = services.clock()
    claimed = services.attempts.claim(
        batch.workspace_id,
        batch.batch_id,
        due,
        call_id=this_call,
        task_token=turn.task_token,
        now=now,
        caller_id=caller,
        slot=turn.slot,
        watch_until=_watched_until(now, services),
        workspace_limit=turn.workspace_limit,
        slot_limit=SLOT_CALL_LIMIT,
        contact=checked.contact,
        audit=rules.audit(
            turn.profile,
            checked.guardrails,
            checked.hours,
            limits=checked.limits,
            contact=checked.contact,
            now=now,
        ),
    )
    if claimed in (Claim.RECIPIENT_MOVED, Claim.CONTACT_CHANGED):
        return None  # the next candidate; this one is due still, and checked again
    if claimed is Claim.SLOT_SPENT:
        raise SlotDone("this slot placed its share of calls; the next run goes on")
    if claimed is Claim.WORKSPACE_FULL:
        _wait_for_unit(turn)
        raise NoFreeSlot("every unit of the workspace's concurrency holds a live call")
    if claimed is Claim.BATCH_REFUSED:
        fresh = services.database.get_batch(batch.workspace_id, batch.batch_id)
        if fresh is None or fresh.status is not BatchStatus.RUNNING:
            raise SlotDone("the batch stopped")
        raise NoFreeSlot("every concurrency slot holds a live call")
    call = CallRecord(
        this_call,
        batch.workspace_id,
        batch.batch_id,
        due.part,
        due.row,
        attempt,
        turn.task_token,
        provider_call_id=None,
        outcome=None,
    )  # as the claim wrote it
    agent = services.database.get_agent(batch.workspace_id, batch.settings.agent_id)
    request = CallRequest(
        call_id=this_call,
        idempotency_key=idempotency_key(batch.batch_id, target.part, target.row, attempt),
        to=target.phone_number,
        from_number=caller,
        agent_id=batch.settings.agent_id,
        variables=target.variables,
        batch_id=batch.batch_id,
        attempt=attempt,
        agent_version=agent.published_version if agent else None,
        prompt=agent.render(target.variables) if agent else "",
        voicemail=batch.settings.voicemail_policy,
    )
    try:
        provider = services.provider(workspace.telephony_provider if workspace else None)
        if not rules.within(second, services.clock, PLACE_MARGIN_SECONDS):
            services.attempts.release(call)  # its call start has passed: never an attempt
            raise NextCall("its call start passed")
        placed = provider.place_call(request)
    except (CallNotPlaced, ProviderNotConfigured) as refused:
        # Recorded without answering the token: this invocation ends with NextCall.
        record(services, dataclasses.replace(call, task_token=None), Outcome.FAILED, str(refused))
        raise NextCall("the provider refused the call") from None
    except DispatchUnknown as unknown:
        # The provider may have the call: never dial again; the watch period's end
        # reconciles it by asking the provider (architecture.md section 5).
        return f"dispatch unknown, left to reconciliation: {unknown}"
    services.attempts.mark_placed(call, provider.name, placed.provider_call_id)
    monitoring.count(monitoring.CALLS_STARTED)
    return "placed"


def _call_start(services: Services, batch: Batch, workspace: Workspace | None) -> int | None:
    """A call start of the batch's and the workspace's pace (see calling_rules)."""
    limits = (
        batch.settings.max_calls_per_second,
        None if workspace is None else workspace.max_calls_per_second,
    )
    return rules.reserve_call_start(
        services.pacing,
        batch.workspace_id,
        batch.batch_id,
        limits,
        clock=services.clock,
        sleep=services.sleep,
    )


# -- watching and reconciling --------------------------------------------------------


def reconcile(services: Services, slot: SlotRef, task_token: str) -> str:
    """The Reconcile task: the slot's call went unanswered for the watch period (or its
    Dial failed). Ask the provider: an ended call is recorded and the slot moves on
    (NextCall); one still live is waited for again on this task's token (invariant 6:
    it holds its own slot, nothing else), never cut, never redialled."""
    call = _slot_call(services, slot)
    if call is None or call.outcome is not None:
        raise NextCall("no call of this slot is live")
    if not reconcile_call(services, call):
        raise NextCall("recorded")
    if not services.attempts.watch(call, task_token, _watched_until(services.clock(), services)):
        raise NextCall("the call ended meanwhile")
    return "still live: watching it again"


def reconcile_call(services: Services, call: CallRecord) -> bool:
    """Ask the provider how `call` went and record it (unknown: failed, outcome
    unknown); True when it is still live."""
    monitoring.count(monitoring.RECONCILIATIONS)
    try:
        provider = _provider(services, call.workspace_id, call.provider)
        known = provider.lookup(call.call_id, call.provider_call_id)
    except (DispatchUnknown, ProviderNotConfigured):
        known = None  # the provider cannot be asked: the slot is freed all the same
    if known is None:
        record(services, call, Outcome.FAILED, UNKNOWN_OUTCOME)
        return False
    if known.outcome is None:
        return True
    record(services, call, known.outcome, facts=known.facts())
    return False


def sweep(services: Services, limit: int = 100) -> int:
    """Reconcile the calls nobody watches any more: their run was stopped (pause,
    cancel) or their reconciliation failed. A call still live is watched again by the
    sweep itself, so no recipient stays dialing or in_progress for ever (invariant 9).

    Also reports the deployment's live calls (a gauge for the dashboard), once a minute
    as the sweep runs."""
    swept = 0
    now = services.clock()
    for call in services.attempts.unwatched(now, limit):
        if reconcile_call(services, call) and call.task_token:
            services.attempts.watch(call, call.task_token, now + services.call_watch)
        swept += 1
    monitoring.count(monitoring.LIVE_CALLS, services.attempts.live_calls())
    return swept


def _watched_until(now: datetime, services: Services) -> datetime:
    """When the sweep may take over a call a live slot is waiting for."""
    return now + services.call_watch + SWEEP_GRACE


def _slot_call(services: Services, slot: SlotRef) -> CallRecord | None:
    state = services.attempts.slot(slot)
    return None if state.call_id is None else services.attempts.call(state.call_id)


def _provider(services: Services, workspace_id: str, name: str | None) -> Provider:
    """The provider `name` (the one that placed a call), else the one the workspace
    chose, else the default."""
    if name is None:
        workspace = services.database.get_workspace(workspace_id)
        name = workspace.telephony_provider if workspace else None
    return services.provider(name)
