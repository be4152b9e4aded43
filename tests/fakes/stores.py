"""In-memory fakes of the table's ports (logic/ports.py): Database, Attempts, Pacing.

They share one `Table`, as the real stores share one DynamoDB table: a claim moves the
batch's counters with its recipient, and a read through the Database sees it. Each
transition checks what the real store's conditional write checks and changes all or
nothing; tests/unit/test_fakes_contract.py runs the same scenarios against these and
the moto-backed stores, so the two cannot drift apart.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from batch_calls.domain.batch import (
    FINAL_BATCH_STATUSES,
    Batch,
    BatchSettings,
    BatchStatus,
    Recipient,
    RecipientStatus,
)
from batch_calls.domain.calls import Decision, status_after
from batch_calls.domain.records import (
    Analytics,
    AuditedCall,
    CallRecord,
    Claim,
    ContactCalls,
    ContactUpdate,
    Due,
    DueRecipient,
    InvalidCursor,
    SlotRef,
    SlotState,
    WorkspaceLive,
)
from batch_calls.domain.results import CallFacts
from batch_calls.domain.workspace import Agent, Workspace

_WAITING = (RecipientStatus.PENDING, RecipientStatus.WAITING_RETRY)
_LIVE = (RecipientStatus.DIALING, RecipientStatus.IN_PROGRESS)
_FACTS = ("answered_by", "ended_reason", "recording_url", "transcript_url", "cost_currency")

BatchKey = tuple[str, str]  # (workspace, batch)
RowKey = tuple[int, int]  # (part, row)


@dataclass
class Call:
    """A call item: its record, and what the ledger keeps beside it."""

    record: CallRecord
    started_at: datetime
    watch_until: datetime | None
    audit: dict[str, Any]


@dataclass
class Table:
    """Everything the fakes keep: one instance per test, shared by the three fakes."""

    workspaces: dict[str, Workspace] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)
    caller_numbers: dict[str, set[str]] = field(default_factory=dict)
    agents: dict[str, dict[str, Agent]] = field(default_factory=dict)
    # workspace -> number -> (source, added_at, expires)
    suppressed: dict[str, dict[str, tuple[str, datetime, datetime | None]]] = field(
        default_factory=dict
    )
    batches: dict[BatchKey, Batch] = field(default_factory=dict)
    analytics: dict[BatchKey, dict[str, Any]] = field(default_factory=dict)
    recipients: dict[BatchKey, dict[RowKey, Recipient]] = field(default_factory=dict)
    # The due index: who is pending or waiting for a retry, and from when (None: always).
    due: dict[BatchKey, dict[RowKey, datetime | None]] = field(default_factory=dict)
    calls: dict[str, Call] = field(default_factory=dict)
    provider_calls: dict[tuple[str, str], str] = field(default_factory=dict)
    slots: dict[SlotRef, SlotState] = field(default_factory=dict)
    contacts: dict[tuple[str, str], ContactCalls] = field(default_factory=dict)
    # The workspace's live calls (absent until its first claim, as the LIVE item's
    # attribute: no limit holds against it) and the batches waiting for a unit.
    live_calls: dict[str, int] = field(default_factory=dict)
    unit_waits: dict[str, dict[str, tuple[str, float]]] = field(default_factory=dict)
    pace: dict[tuple[str, int], int] = field(default_factory=dict)

    def move_counts(self, key: BatchKey, deltas: dict[str, int]) -> None:
        batch = self.batches[key]
        counts = {name: value + deltas.get(name, 0) for name, value in batch.counts.items()}
        self.batches[key] = batch.model_copy(update={"counts": counts})

    def move_live(self, workspace_id: str, delta: int) -> None:
        self.live_calls[workspace_id] = self.live_calls.get(workspace_id, 0) + delta


def _updated(batch: Batch, **changes: Any) -> Batch:
    return batch.model_copy(update=changes)


class FakeDatabase:
    def __init__(self, table: Table) -> None:
        self.table = table

    # Workspaces -------------------------------------------------------------------------

    def put_workspace(self, workspace: Workspace) -> None:
        self.table.workspaces[workspace.workspace_id] = workspace

    def get_workspace(self, workspace_id: str) -> Workspace | None:
        return self.table.workspaces.get(workspace_id)

    def put_api_key(self, workspace_id: str, key_hash: str, created_at: datetime) -> None:
        if key_hash in self.table.api_keys:
            raise ValueError("this key exists already")
        self.table.api_keys[key_hash] = workspace_id

    def workspace_of_key(self, key_hash: str) -> str | None:
        return self.table.api_keys.get(key_hash)

    def put_caller_number(self, workspace_id: str, e164: str) -> None:
        self.table.caller_numbers.setdefault(workspace_id, set()).add(e164)

    def caller_number_workspaces(self, e164: str) -> list[str]:
        return sorted(ws for ws, numbers in self.table.caller_numbers.items() if e164 in numbers)

    def caller_numbers(self, workspace_id: str) -> list[str]:
        return sorted(self.table.caller_numbers.get(workspace_id, ()))

    def has_caller_number(self, workspace_id: str, e164: str) -> bool:
        return e164 in self.table.caller_numbers.get(workspace_id, ())

    def put_agent(self, workspace_id: str, agent: Agent) -> None:
        self.table.agents.setdefault(workspace_id, {})[agent.agent_id] = agent

    def get_agent(self, workspace_id: str, agent_id: str) -> Agent | None:
        return self.table.agents.get(workspace_id, {}).get(agent_id)

    def agent_ids(self, workspace_id: str) -> list[str]:
        return sorted(self.table.agents.get(workspace_id, {}))

    # Suppression list -------------------------------------------------------------------

    def suppress(
        self,
        workspace_id: str,
        numbers: Iterable[str],
        source: str,
        now: datetime,
        *,
        expires: datetime | None = None,
        permanent: bool = False,
    ) -> int:
        listed = self.table.suppressed.setdefault(workspace_id, {})
        added = 0
        for e164 in dict.fromkeys(numbers):
            present = listed.get(e164)
            if present is None or (present[2] is not None and present[2] <= now):
                listed[e164] = (source, now, expires)
                added += 1
            elif permanent:
                listed[e164] = (present[0], present[1], None)
        return added

    def unsuppress(self, workspace_id: str, e164: str) -> bool:
        return self.table.suppressed.get(workspace_id, {}).pop(e164, None) is not None

    def is_suppressed(self, workspace_id: str, e164: str, now: datetime) -> bool:
        return e164 in self.suppressed_numbers(workspace_id, now)

    def suppressed_numbers(self, workspace_id: str, now: datetime) -> set[str]:
        return {
            e164
            for e164, (_, _, expires) in self.table.suppressed.get(workspace_id, {}).items()
            if expires is None or expires > now
        }

    def list_suppressed(
        self, workspace_id: str, cursor: str | None, limit: int, prefix: str = ""
    ) -> tuple[list[dict[str, Any]], str | None]:
        if cursor is not None and not cursor.startswith(f"after:{prefix}"):
            raise InvalidCursor(cursor)
        after = None if cursor is None else cursor.removeprefix("after:")
        listed = self.table.suppressed.get(workspace_id, {})
        numbers = sorted(
            e164 for e164 in listed if e164.startswith(prefix) and (after is None or e164 > after)
        )
        page = numbers[:limit]
        entries = [
            {
                "phone_number": e164,
                "source": source,
                "added_at": added.isoformat(),
                # The table keeps the expiry as its TTL: whole epoch seconds.
                "expires_at": None
                if expires is None
                else expires.astimezone(UTC).replace(microsecond=0).isoformat(),
            }
            for e164 in page
            for source, added, expires in [listed[e164]]
        ]
        more = len(numbers) > limit
        return entries, f"after:{page[-1]}" if more else None

    # Batches ----------------------------------------------------------------------------

    def active_batch_ids(self, workspace_id: str) -> list[str]:
        return [
            batch_id
            for (ws, batch_id), batch in self.table.batches.items()
            if ws == workspace_id and batch.status not in FINAL_BATCH_STATUSES
        ]

    def create_batch(self, batch: Batch) -> bool:
        key = (batch.workspace_id, batch.batch_id)
        if key in self.table.batches:
            return False
        self.table.batches[key] = batch
        return True

    def batch_item_bytes(self, batch: Batch) -> int:
        return len(json.dumps(batch.model_dump(mode="json")).encode())

    def get_batch(self, workspace_id: str, batch_id: str) -> Batch | None:
        return self.table.batches.get((workspace_id, batch_id))

    def list_batches(
        self,
        workspace_id: str,
        status: BatchStatus | None,
        offset: int,
        limit: int,
        tag: str | None = None,
    ) -> tuple[list[Batch], int]:
        matching = sorted(
            (
                batch
                for (ws, _), batch in self.table.batches.items()
                if ws == workspace_id
                and (status is None or batch.status is status)
                and (tag is None or tag in (batch.settings.tags or ()))
            ),
            key=lambda batch: (batch.created_at.isoformat(), batch.batch_id),
            reverse=True,
        )
        return matching[offset : offset + limit], len(matching)

    def transition_batch(
        self,
        workspace_id: str,
        batch_id: str,
        *,
        allowed_from: Iterable[BatchStatus],
        to: BatchStatus,
        now: datetime,
        settings: BatchSettings | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        end_round: bool = False,
    ) -> Batch | None:
        batch = self.get_batch(workspace_id, batch_id)
        if batch is None or batch.status not in set(allowed_from):
            return None
        changes: dict[str, Any] = {"status": to, "updated_at": now}
        if settings is not None:
            changes["settings"] = settings
        if started_at is not None:
            changes["started_at"] = started_at
        if finished_at is not None:
            changes["finished_at"] = finished_at
        if end_round:
            changes["active_round"] = None
        return self._put(_updated(batch, **changes))

    def begin_round(
        self, workspace_id: str, batch_id: str, round_number: int, now: datetime
    ) -> Batch | None:
        batch = self.get_batch(workspace_id, batch_id)
        runnable = {BatchStatus.INITIATED, BatchStatus.SCHEDULED, BatchStatus.RUNNING}
        if (
            batch is None
            or batch.status not in runnable
            or batch.round >= round_number
            or batch.active_round is not None
        ):
            return None
        return self._put(
            _updated(
                batch,
                previous_status=batch.status,
                status=BatchStatus.RUNNING,
                round=round_number,
                active_round=round_number,
                updated_at=now,
                started_at=batch.started_at or now,
                next_round_at=None,
                waiting_for=None,
            )
        )

    def set_waiting(
        self, workspace_id: str, batch_id: str, at: datetime, reason: str
    ) -> Batch | None:
        batch = self.get_batch(workspace_id, batch_id)
        if batch is None or batch.active_round is not None:
            return None
        return self._put(_updated(batch, next_round_at=at, waiting_for=reason))

    def end_round(self, workspace_id: str, batch_id: str, round_number: int) -> Batch | None:
        batch = self.get_batch(workspace_id, batch_id)
        if batch is None or batch.active_round != round_number:
            return None
        return self._put(_updated(batch, active_round=None))

    def complete_batch(self, workspace_id: str, batch_id: str, now: datetime) -> Batch | None:
        batch = self.get_batch(workspace_id, batch_id)
        if (
            batch is None
            or batch.status is not BatchStatus.RUNNING
            or batch.counts["pending"] != 0
            or batch.counts["in_progress"] != 0
            or batch.active_round is not None
            or batch.loaded_parts != batch.parts
        ):
            return None
        return self._put(
            _updated(batch, status=BatchStatus.COMPLETED, finished_at=now, updated_at=now)
        )

    def add_part(
        self, batch: Batch, accepted: int, skipped: int, variables: list[str], columns: list[str]
    ) -> Batch | None:
        current = self.get_batch(batch.workspace_id, batch.batch_id)
        if current is None or current.status is not BatchStatus.DRAFT:
            return None
        if current.parts != batch.parts:
            return None
        counts = dict(current.counts)
        counts["pending"] += accepted
        counts["skipped"] += skipped
        return self._put(
            _updated(
                current,
                parts=current.parts + 1,
                counts=counts,
                variables=variables,
                columns=columns,
            )
        )

    def mark_part_loaded(self, workspace_id: str, batch_id: str, part: int) -> None:
        batch = self.get_batch(workspace_id, batch_id)
        if batch is not None and batch.loaded_parts < part:
            self._put(_updated(batch, loaded_parts=part))

    def add_rerun(self, workspace_id: str, batch_id: str, rerun_id: str) -> Batch | None:
        batch = self.get_batch(workspace_id, batch_id)
        if batch is None:
            return None
        return self._put(_updated(batch, reruns=[*batch.reruns, rerun_id]))

    def analytics(self, workspace_id: str, batch_id: str) -> dict[str, Any]:
        return dict(self.table.analytics.get((workspace_id, batch_id), {}))

    def _put(self, batch: Batch) -> Batch:
        self.table.batches[batch.workspace_id, batch.batch_id] = batch
        return batch

    # Recipients -------------------------------------------------------------------------

    def put_recipients(
        self, workspace_id: str, batch_id: str, recipients: Iterable[Recipient]
    ) -> int:
        rows = self.table.recipients.setdefault((workspace_id, batch_id), {})
        due = self.table.due.setdefault((workspace_id, batch_id), {})
        written = 0
        for recipient in recipients:
            rows[recipient.part, recipient.row] = recipient
            if recipient.status is RecipientStatus.PENDING:
                due[recipient.part, recipient.row] = None
            written += 1
        return written

    def get_recipient(self, workspace_id: str, batch_id: str, part: int, row: int) -> Recipient:
        found = self.table.recipients.get((workspace_id, batch_id), {}).get((part, row))
        if found is None:
            raise LookupError(f"no recipient {part}/{row} in {batch_id}")
        return found

    def list_recipients(
        self,
        workspace_id: str,
        batch_id: str,
        status: RecipientStatus | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Recipient], str | None]:
        after: RowKey = (0, 0)
        if cursor is not None:
            try:
                part, row = (int(n) for n in cursor.split(":"))
            except ValueError:
                raise InvalidCursor(cursor) from None
            after = (part, row)
        rows = self.table.recipients.get((workspace_id, batch_id), {})
        matching = [
            rows[key]
            for key in sorted(rows)
            if key > after and (status is None or rows[key].status is status)
        ]
        page = matching[:limit]
        more = len(matching) > limit
        return page, f"{page[-1].part}:{page[-1].row}" if more else None

    def all_recipients(self, workspace_id: str, batch_id: str) -> Iterator[Recipient]:
        rows = self.table.recipients.get((workspace_id, batch_id), {})
        return iter([rows[key] for key in sorted(rows)])


class FakeAttempts:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- what is due ---------------------------------------------------------------------

    def due(self, workspace_id: str, batch_id: str, now: datetime, limit: int) -> list[Due]:
        return [
            due
            for due in self.waiting(workspace_id, batch_id)
            if due.due_at is None or due.due_at <= now
        ][:limit]

    def earliest_due(self, workspace_id: str, batch_id: str) -> Due | None:
        return next(self.waiting(workspace_id, batch_id), None)

    def waiting(self, workspace_id: str, batch_id: str) -> Iterator[Due]:
        key = (workspace_id, batch_id)
        index = self.table.due.get(key, {})
        order = sorted(
            index, key=lambda row: (index[row] is not None, index[row] or datetime.min, row)
        )
        return iter([self._due(key, row, index[row]) for row in order])

    def _due(self, key: BatchKey, row: RowKey, when: datetime | None) -> Due:
        recipient = self.table.recipients[key][row]
        return Due(
            recipient.part,
            recipient.row,
            recipient.attempts,
            recipient.phone_number,
            dict(recipient.variables),
            when,
            recipient.next_attempt_at,
            recipient.waiting_for,
        )

    # -- transitions ---------------------------------------------------------------------

    def claim(
        self,
        workspace_id: str,
        batch_id: str,
        recipient: DueRecipient,
        *,
        call_id: str,
        task_token: str,
        now: datetime,
        caller_id: str,
        slot: SlotRef,
        watch_until: datetime,
        workspace_limit: int,
        slot_limit: int,
        contact: ContactUpdate | None = None,
        audit: dict[str, Any] | None = None,
    ) -> Claim:
        key = (workspace_id, batch_id)
        batch = self.table.batches[key]
        target = self._recipient(key, recipient.part, recipient.row)
        state = self.table.slots.get(slot, SlotState(None, 0))
        live = self.table.live_calls.get(workspace_id)
        if (
            batch.status is not BatchStatus.RUNNING
            or batch.counts["in_progress"] >= batch.settings.max_concurrent_calls
        ):
            return Claim.BATCH_REFUSED
        if state.calls >= slot_limit:
            return Claim.SLOT_SPENT
        if live is not None and live >= workspace_limit:
            return Claim.WORKSPACE_FULL
        if contact is not None:
            history = self.table.contacts.get((workspace_id, contact.number))
            if history is not None and history.revision != contact.read.revision:
                return Claim.CONTACT_CHANGED
        if (
            target is None
            or target.status not in _WAITING
            or target.attempts != recipient.attempts
            or call_id in self.table.calls
        ):
            return Claim.RECIPIENT_MOVED
        attempt = recipient.attempts + 1
        self.table.move_counts(key, {"in_progress": 1, "pending": -1})
        self._set(
            key,
            target,
            status=RecipientStatus.DIALING,
            attempts=attempt,
            call_id=call_id,
            last_attempt_at=now,
            caller_id=caller_id,
            next_attempt_at=None,
            waiting_for=None,
            waiting_until=None,
        )
        self.table.due[key].pop((target.part, target.row), None)
        record = CallRecord(
            call_id,
            workspace_id,
            batch_id,
            target.part,
            target.row,
            attempt,
            task_token,
            provider_call_id=None,
            outcome=None,
        )
        self.table.calls[call_id] = Call(record, now, watch_until, dict(audit or {}))
        self.table.slots[slot] = SlotState(call_id, state.calls + 1)
        self.table.move_live(workspace_id, 1)
        if contact is not None:
            self.table.contacts[workspace_id, contact.number] = ContactCalls(
                contact.calls, contact.read.revision + 1
            )
        return Claim.CLAIMED

    def contact_calls(self, workspace_id: str, e164: str) -> ContactCalls:
        return self.table.contacts.get((workspace_id, e164), ContactCalls((), 0))

    def mark_placed(self, call: CallRecord, provider: str, provider_call_id: str) -> None:
        key = (call.workspace_id, call.batch_id)
        target = self._recipient(key, call.part, call.row)
        stored = self.table.calls.get(call.call_id)
        if (
            stored is None
            or target is None
            or target.status is not RecipientStatus.DIALING
            or target.attempts != call.attempt
        ):
            return
        self.table.provider_calls[provider, provider_call_id] = call.call_id
        stored.record = replace(stored.record, provider_call_id=provider_call_id, provider=provider)
        self._set(key, target, status=RecipientStatus.IN_PROGRESS)

    def release(self, call: CallRecord) -> bool:
        key = (call.workspace_id, call.batch_id)
        target = self._recipient(key, call.part, call.row)
        if (
            target is None
            or target.status is not RecipientStatus.DIALING
            or target.attempts != call.attempt
        ):
            return False
        self._set(
            key, target, status=RecipientStatus.PENDING, attempts=call.attempt - 1, call_id=None
        )
        self.table.due[key][call.part, call.row] = None
        self.table.move_counts(key, {"in_progress": -1, "pending": 1})
        self.table.move_live(call.workspace_id, -1)
        self.table.calls.pop(call.call_id, None)
        return True

    def defer(
        self,
        workspace_id: str,
        batch_id: str,
        recipient: DueRecipient,
        until: datetime,
        reason: str,
    ) -> bool:
        target = self._waiting(workspace_id, batch_id, recipient)
        if target is None:
            return False
        key = (workspace_id, batch_id)
        self.table.due[key][recipient.part, recipient.row] = until
        self._set(key, target, waiting_for=reason, waiting_until=until)
        return True

    def undefer(self, workspace_id: str, batch_id: str, recipient: Due) -> bool:
        target = self._waiting(workspace_id, batch_id, recipient)
        if target is None:
            return False
        key = (workspace_id, batch_id)
        self.table.due[key][recipient.part, recipient.row] = recipient.retry_at
        self._set(key, target, waiting_for=None, waiting_until=None)
        return True

    def skip(self, workspace_id: str, batch_id: str, recipient: DueRecipient, reason: str) -> bool:
        key = (workspace_id, batch_id)
        target = self._recipient(key, recipient.part, recipient.row)
        if target is None or target.status not in _WAITING:
            return False
        self._set(
            key, target, status=RecipientStatus.SKIPPED, skip_reason=reason, next_attempt_at=None
        )
        self.table.due[key].pop((recipient.part, recipient.row), None)
        self.table.move_counts(key, {"pending": -1, "skipped": 1})
        return True

    def record_outcome(
        self,
        call: CallRecord,
        outcome: str,
        decision: Decision,
        ended_at: datetime,
        *,
        cancelled: bool,
        facts: CallFacts = CallFacts(),  # noqa: B008 - frozen
        connected: bool = False,
        analytics: Analytics = Analytics(),  # noqa: B008 - frozen
    ) -> bool:
        key = (call.workspace_id, call.batch_id)
        stored = self.table.calls.get(call.call_id)
        target = self._recipient(key, call.part, call.row)
        if (
            stored is None
            or stored.record.outcome is not None
            or target is None
            or target.status not in _LIVE
            or target.attempts != call.attempt
        ):
            return False
        status = status_after(decision, cancelled=cancelled)
        stored.record = replace(stored.record, outcome=outcome)
        stored.watch_until = None
        changes: dict[str, Any] = {"status": status, "last_outcome": outcome}
        changes |= {
            name: getattr(facts, name) for name in _FACTS if getattr(facts, name) is not None
        }
        if facts.answered_by is not None:
            changes["answered_by"] = str(facts.answered_by)
        if facts.data:
            changes["data"] = dict(facts.data)
        if connected and facts.duration_seconds is not None:
            changes["duration_seconds"] = facts.duration_seconds
        if facts.cost is not None:
            changes["cost"] = (target.cost or 0) + facts.cost
        if status is RecipientStatus.WAITING_RETRY and decision.next_attempt_at is not None:
            changes["next_attempt_at"] = decision.next_attempt_at
            self.table.due[key][call.part, call.row] = decision.due_at or decision.next_attempt_at
        self._set(key, target, **changes)
        counter = "pending" if status is RecipientStatus.WAITING_RETRY else status.value
        self.table.move_counts(key, {"in_progress": -1, counter: 1})
        self.table.move_live(call.workspace_id, -1)
        if analytics.counters:
            added = self.table.analytics.setdefault(key, {})
            for name, delta in analytics.counters.items():
                added[name] = added.get(name, 0) + delta
            if analytics.data_fields:
                added["data_fields"] = set(added.get("data_fields", set())) | analytics.data_fields
            if facts.cost_currency:
                added.setdefault("cost_currency", facts.cost_currency)
        return True

    def cancel_waiting(
        self, workspace_id: str, batch_id: str, recipients: Iterable[DueRecipient]
    ) -> int:
        key = (workspace_id, batch_id)
        cancelled = 0
        for recipient in recipients:
            target = self._recipient(key, recipient.part, recipient.row)
            if target is None or target.status not in _WAITING:
                continue
            self._set(key, target, status=RecipientStatus.CANCELLED, next_attempt_at=None)
            self.table.due[key].pop((recipient.part, recipient.row), None)
            self.table.move_counts(key, {"pending": -1, "cancelled": 1})
            cancelled += 1
        return cancelled

    # -- slots and watches ---------------------------------------------------------------

    def slot(self, slot: SlotRef) -> SlotState:
        return self.table.slots.get(slot, SlotState(None, 0))

    def watch(self, call: CallRecord, task_token: str, until: datetime) -> bool:
        stored = self.table.calls.get(call.call_id)
        if stored is None or stored.record.outcome is not None:
            return False
        stored.record = replace(stored.record, task_token=task_token)
        stored.watch_until = until
        return True

    def live_calls(self) -> int:
        return sum(call.record.outcome is None for call in self.table.calls.values())

    def unwatched(self, now: datetime, limit: int) -> list[CallRecord]:
        return [
            call.record
            for call in self.table.calls.values()
            if call.record.outcome is None
            and call.watch_until is not None
            and call.watch_until < now
        ][:limit]

    def audited_calls(self, call_ids: list[str]) -> Iterator[AuditedCall]:
        for call_id in call_ids:
            stored = self.table.calls.get(call_id)
            if stored is not None:
                yield AuditedCall(
                    call_id,
                    stored.record.attempt,
                    stored.started_at.isoformat(),
                    stored.record.outcome,
                    dict(stored.audit),
                )

    def call(self, call_id: str) -> CallRecord | None:
        stored = self.table.calls.get(call_id)
        return None if stored is None else stored.record

    def call_by_provider_id(self, provider: str, provider_call_id: str) -> CallRecord | None:
        call_id = self.table.provider_calls.get((provider, provider_call_id))
        return None if call_id is None else self.call(call_id)

    # -- helpers -------------------------------------------------------------------------

    def _recipient(self, key: BatchKey, part: int, row: int) -> Recipient | None:
        return self.table.recipients.get(key, {}).get((part, row))

    def _waiting(
        self, workspace_id: str, batch_id: str, recipient: DueRecipient
    ) -> Recipient | None:
        """The recipient if it is still pending or waiting with the attempts read."""
        target = self._recipient((workspace_id, batch_id), recipient.part, recipient.row)
        if target is None or target.status not in _WAITING:
            return None
        return target if target.attempts == recipient.attempts else None

    def _set(self, key: BatchKey, target: Recipient, **changes: Any) -> None:
        self.table.recipients[key][target.part, target.row] = target.model_copy(update=changes)


class FakePacing:
    def __init__(self, table: Table) -> None:
        self.table = table

    def reserve_start(
        self,
        workspace_id: str,
        batch_id: str,
        second: int,
        batch_limit: int | None,
        workspace_limit: int | None,
    ) -> bool:
        scopes = [
            (scope, limit)
            for scope, limit in ((f"{workspace_id}/{batch_id}", batch_limit),
                                 (workspace_id, workspace_limit))
            if limit is not None
        ]  # fmt: skip
        if any(self.table.pace.get((scope, second), 0) >= limit for scope, limit in scopes):
            return False
        for scope, _ in scopes:
            self.table.pace[scope, second] = self.table.pace.get((scope, second), 0) + 1
        return True

    def workspace_live(self, workspace_id: str) -> WorkspaceLive:
        return WorkspaceLive(
            self.table.live_calls.get(workspace_id, 0),
            dict(self.table.unit_waits.get(workspace_id, {})),
        )

    def wait_for_unit(self, workspace_id: str, batch_id: str, rank: str, until: datetime) -> None:
        waits = self.table.unit_waits.setdefault(workspace_id, {})
        waits[batch_id] = (rank, float(int(until.timestamp())))

    def stop_waiting_for_unit(self, workspace_id: str, batch_id: str) -> None:
        self.table.unit_waits.get(workspace_id, {}).pop(batch_id, None)
