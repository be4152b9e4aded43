"""The dialling ledger: every recipient transition is one conditional DynamoDB
transaction that also moves the batch's counters (architecture.md section 4).

A transition whose expected current state does not hold is a no-op that returns False,
which is what makes every handler safe to run twice (invariants 1 and 4). The batch's
`counts.in_progress` is the number of live calls and the concurrency semaphore
(invariant 2): a claim only succeeds while it is below `max_concurrent_calls`.
"""

import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from batch_calls.domain.batch import BatchStatus, RecipientStatus
from batch_calls.domain.calls import Decision, status_after
from batch_calls.domain.results import CallFacts
from batch_calls.store.keys import (
    ALWAYS,
    ANALYTICS,
    DUE_INDEX,
    LIVE,
    META,
    MOMENT_FORMAT,
    WATCH_INDEX,
    batch_pk,
    call_pk,
    contact_sk,
    due_key,
    due_until,
    moment,
    provider_call_pk,
    recipient_sk,
    slot_sk,
    watch_partitions,
    watch_pk,
    workspace_pk,
)

_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize
_LIVE = (RecipientStatus.DIALING, RecipientStatus.IN_PROGRESS)
_WAITING = (RecipientStatus.PENDING, RecipientStatus.WAITING_RETRY)
_TRANSACTION_LIMIT = 100
PACE_PREFIX = "PACE#"
PACE_RETENTION_SECONDS = 3600  # counters of past seconds expire (the table's TTL)
# A transaction cancelled for a conflict with another one, or throttled, is tried again
# after a jittered wait, at most this many times; only a failed condition means "no".
_TRANSACTION_TRIES = 8
_RETRIED_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
     "RequestLimitExceeded"}
)  # fmt: skip


class TransactionRefused(Exception):
    """A transaction DynamoDB kept cancelling for conflicts or throttling."""


class Claim(Enum):
    """What came of a claim: the recipient is ours, or why not."""

    CLAIMED = "claimed"
    BATCH_REFUSED = "batch_refused"  # not running, or every concurrency slot is taken
    WORKSPACE_FULL = "workspace_full"  # the workspace's limit across its batches
    SLOT_SPENT = "slot_spent"  # the slot placed its share of calls
    RECIPIENT_MOVED = "recipient_moved"  # another slot claimed it, or it changed
    CONTACT_CHANGED = "contact_changed"  # another call to the number was claimed meanwhile


@dataclass(frozen=True)
class ContactCalls:
    """A number's placed calls a contact limit still counts, as read (`revision` makes
    the claim that adds one fail if another claim added one meanwhile)."""

    calls: tuple[datetime, ...]
    revision: int


@dataclass(frozen=True)
class ContactUpdate:
    """A claim's change to a number's history: `calls` instead of what was `read`."""

    number: str
    read: ContactCalls
    calls: tuple[datetime, ...]


@dataclass(frozen=True)
class WorkspaceLive:
    """The workspace's live calls, and the batches waiting for a unit: batch id ->
    (its rank, lower first; until when its wait counts, epoch seconds)."""

    calls: int
    waiting: dict[str, tuple[str, float]]


@dataclass(frozen=True)
class SlotRef:
    """One slot of a run: the loop that dials the batch's recipients one after another."""

    workspace_id: str
    batch_id: str
    round: int
    slot: int


@dataclass(frozen=True)
class SlotState:
    call_id: str | None  # the call it claimed last
    calls: int  # how many it claimed


@dataclass(frozen=True)
class DueRecipient:
    part: int
    row: int
    attempts: int


@dataclass(frozen=True)
class Due(DueRecipient):
    """A recipient in the due index, with what its calling rules are checked on."""

    phone_number: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    due_at: datetime | None = None  # None: due since always (never deferred)
    retry_at: datetime | None = None  # when its retry wait ends, if it waits for one
    waiting_for: str | None = None  # why it was deferred past its retry wait, if it was

    @classmethod
    def of(cls, item: dict[str, Any]) -> "Due":
        when = str(item["due_key"]).split("#", 1)[0]
        retry = item.get("next_attempt_at")
        return cls(
            int(item["part"]),
            int(item["row"]),
            int(item.get("attempts", 0)),
            str(item.get("phone_number", "")),
            {str(k): str(v) for k, v in (item.get("variables") or {}).items()},
            None if when == ALWAYS else datetime.strptime(when, MOMENT_FORMAT).replace(tzinfo=UTC),
            None if retry is None else datetime.fromisoformat(str(retry)),
            None if item.get("waiting_for") is None else str(item["waiting_for"]),
        )


@dataclass(frozen=True)
class Analytics:
    """What one outcome adds to its batch's analytics item (domain.results)."""

    counters: dict[str, int | float] = field(default_factory=dict)
    data_fields: frozenset[str] = frozenset()


_NO_ANALYTICS = Analytics()
_NO_FACTS = CallFacts()


@dataclass(frozen=True)
class CallRecord:
    """The CALL# item: finds a recipient from a provider webhook."""

    call_id: str
    workspace_id: str
    batch_id: str
    part: int
    row: int
    attempt: int
    task_token: str | None
    provider_call_id: str | None
    outcome: str | None
    provider: str | None = None  # the telephony provider that placed it


@dataclass(frozen=True)
class AuditedCall:
    """A placed call and the rules its claim checked (`logic/calling_rules.audit`)."""

    call_id: str
    attempt: int
    started_at: str
    outcome: str | None
    audit: dict[str, Any]


# BatchGetItem reads at most this many items a request.
_BATCH_GET_LIMIT = 100


class Attempts:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        # Transactions need the low-level client; queries read easier through the table.
        self.client = boto3.client("dynamodb")
        self.table = boto3.resource("dynamodb").Table(table_name)

    # -- what is due --------------------------------------------------------------------

    def due(self, workspace_id: str, batch_id: str, now: datetime, limit: int) -> list[Due]:
        """Recipients pending or whose retry is due, earliest first, file order within."""
        return self.due_page(workspace_id, batch_id, now, limit)[0]

    def due_page(
        self,
        workspace_id: str,
        batch_id: str,
        now: datetime,
        limit: int,
        page: dict[str, Any] | None = None,
    ) -> tuple[list[Due], dict[str, Any] | None]:
        """A page of `due`, and where the next one starts (None: no more)."""
        query: dict[str, Any] = {
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": Key("due_pk").eq(batch_pk(workspace_id, batch_id))
            & Key("due_key").lte(due_until(now)),
            "Limit": limit,
        }
        if page is not None:
            query["ExclusiveStartKey"] = page
        response = self.table.query(**query)
        return [Due.of(item) for item in response["Items"]], response.get("LastEvaluatedKey")

    def earliest_due(self, workspace_id: str, batch_id: str) -> Due | None:
        """The next recipient to become due, None when nobody waits."""
        response = self.table.query(
            IndexName=DUE_INDEX,
            KeyConditionExpression=Key("due_pk").eq(batch_pk(workspace_id, batch_id)),
            Limit=1,
        )
        items = response["Items"]
        return Due.of(items[0]) if items else None

    def waiting(self, workspace_id: str, batch_id: str) -> Iterator[Due]:
        """Everyone still waiting for a call (for cancellation and suppression)."""
        query: dict[str, Any] = {
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": Key("due_pk").eq(batch_pk(workspace_id, batch_id)),
        }
        while True:
            response = self.table.query(**query)
            yield from (Due.of(item) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -- transitions --------------------------------------------------------------------

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
        """pending|waiting_retry -> dialing(attempt), a unit of the batch's and of the
        workspace's concurrency taken, the call item created (watched until
        `watch_until`, with the `audit` of the rules it was checked against) and the
        slot pointed at it, all or nothing; only while the batch is running with a free
        unit of both.

        `contact` records this call in the number's history for the contact limits,
        only if nobody changed that history since it was read: two claims can never
        both take a number's last allowed call."""
        attempt = recipient.attempts + 1
        pk = batch_pk(workspace_id, batch_id)
        contact_items = [] if contact is None else [self._contact_update(workspace_id, contact)]
        refused = self._transact_reasons(
            [
                _update(
                    pk,
                    META,
                    "SET counts.in_progress = counts.in_progress + :one, "
                    "counts.pending = counts.pending - :one",
                    "#status = :running AND counts.in_progress < settings.max_concurrent_calls",
                    {":one": 1, ":running": str(BatchStatus.RUNNING)},
                ),
                _update(
                    pk,
                    recipient_sk(recipient.part, recipient.row),
                    "SET #status = :dialing, attempts = :attempt, call_id = :call, "
                    "last_attempt_at = :now, caller_id = :caller "
                    "REMOVE due_pk, due_key, next_attempt_at, waiting_for, waiting_until",
                    "#status IN (:pending, :waiting) AND attempts = :previous",
                    {
                        ":dialing": str(RecipientStatus.DIALING),
                        ":attempt": attempt,
                        ":previous": recipient.attempts,
                        ":call": call_id,
                        ":caller": caller_id,
                        ":now": now.isoformat(),
                        ":pending": str(RecipientStatus.PENDING),
                        ":waiting": str(RecipientStatus.WAITING_RETRY),
                    },
                ),
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": _item(
                            {
                                "PK": call_pk(call_id),
                                "SK": META,
                                "workspace_id": workspace_id,
                                "batch_id": batch_id,
                                "part": recipient.part,
                                "row": recipient.row,
                                "attempt": attempt,
                                "task_token": task_token,
                                "started_at": now.isoformat(),
                                "watch_pk": watch_pk(call_id),
                                "watch_until": moment(watch_until),
                                **({"audit": audit} if audit else {}),
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                _update(
                    pk,
                    slot_sk(slot.round, slot.slot),
                    "SET call_id = :call ADD calls :one",
                    "(attribute_not_exists(calls) AND :one <= :limit) OR calls < :limit",
                    {":call": call_id, ":one": 1, ":limit": slot_limit},
                ),
                _update(
                    workspace_pk(workspace_id),
                    LIVE,
                    "ADD calls :one",
                    "attribute_not_exists(calls) OR calls < :limit",
                    {":one": 1, ":limit": workspace_limit},
                ),
                *contact_items,
            ]
        )
        if refused is None:
            return Claim.CLAIMED
        if refused[0]:
            return Claim.BATCH_REFUSED
        if refused[3]:
            return Claim.SLOT_SPENT
        if refused[4]:
            return Claim.WORKSPACE_FULL
        return Claim.CONTACT_CHANGED if refused[5:] and refused[5] else Claim.RECIPIENT_MOVED

    def contact_calls(self, workspace_id: str, e164: str) -> ContactCalls:
        response = self.client.get_item(
            TableName=self.table_name,
            Key=_item({"PK": workspace_pk(workspace_id), "SK": contact_sk(e164)}),
            ConsistentRead=True,
        )
        item = {k: _deserialize(v) for k, v in response.get("Item", {}).items()}
        calls = tuple(datetime.fromisoformat(str(call)) for call in item.get("calls") or ())
        return ContactCalls(calls, int(item.get("revision", 0)))

    def _contact_update(self, workspace_id: str, contact: ContactUpdate) -> dict[str, Any]:
        return _update(
            workspace_pk(workspace_id),
            contact_sk(contact.number),
            "SET calls = :calls, revision = :next",
            "attribute_not_exists(revision) OR revision = :read",
            {
                ":calls": [call.isoformat() for call in contact.calls],
                ":next": contact.read.revision + 1,
                ":read": contact.read.revision,
            },
        )

    def mark_placed(self, call: CallRecord, provider: str, provider_call_id: str) -> None:
        """dialing -> in_progress once the provider has the call; from then on the
        provider's id finds the call too (events that carry only theirs)."""
        self._transact(
            [
                {
                    "Put": {
                        "Item": _item(
                            {
                                "PK": provider_call_pk(provider, provider_call_id),
                                "SK": META,
                                "call_id": call.call_id,
                            }
                        )
                    }
                },
                _update(
                    call_pk(call.call_id),
                    META,
                    "SET provider_call_id = :provider_call_id, provider = :provider",
                    "attribute_exists(PK)",
                    {":provider_call_id": provider_call_id, ":provider": provider},
                ),
                _update(
                    batch_pk(call.workspace_id, call.batch_id),
                    recipient_sk(call.part, call.row),
                    "SET #status = :in_progress",
                    "#status = :dialing AND attempts = :attempt",
                    {
                        ":in_progress": str(RecipientStatus.IN_PROGRESS),
                        ":dialing": str(RecipientStatus.DIALING),
                        ":attempt": call.attempt,
                    },
                ),
            ]
        )

    def release(self, call: CallRecord) -> bool:
        """Undo a claim whose call was never placed (the batch stopped meanwhile)."""
        pk = batch_pk(call.workspace_id, call.batch_id)
        return self._transact(
            [
                _update(
                    pk,
                    recipient_sk(call.part, call.row),
                    "SET #status = :pending, attempts = :previous, due_pk = :pk, due_key = :due "
                    "REMOVE call_id",
                    "#status = :dialing AND attempts = :attempt",
                    {
                        ":pending": str(RecipientStatus.PENDING),
                        ":dialing": str(RecipientStatus.DIALING),
                        ":attempt": call.attempt,
                        ":previous": call.attempt - 1,
                        ":pk": pk,
                        ":due": due_key(None, call.part, call.row),
                    },
                ),
                _counters(pk, {"in_progress": -1, "pending": 1}),
                _workspace_live(call.workspace_id, -1),
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": _item({"PK": call_pk(call.call_id), "SK": META}),
                    }
                },
            ]
        )

    def defer(
        self,
        workspace_id: str,
        batch_id: str,
        recipient: DueRecipient,
        until: datetime,
        reason: str,
    ) -> bool:
        """A due recipient that may not be called now (its calling window is closed, a
        contact limit is reached): due again `until`, and shown waiting for `reason`
        (its status, attempts and retry time stay as they are)."""
        return self._due_at(
            workspace_id,
            batch_id,
            recipient,
            until,
            expression="SET due_key = :due, waiting_for = :reason, waiting_until = :until",
            values={":reason": reason, ":until": until.isoformat()},
        )

    def undefer(self, workspace_id: str, batch_id: str, recipient: Due) -> bool:
        """A recipient waiting for a window's opening: due again at the end of its retry
        wait (or now), so the next round checks it against the window as it is now."""
        return self._due_at(
            workspace_id,
            batch_id,
            recipient,
            recipient.retry_at,
            expression="SET due_key = :due REMOVE waiting_for, waiting_until",
            values={},
        )

    def _due_at(
        self,
        workspace_id: str,
        batch_id: str,
        recipient: DueRecipient,
        when: datetime | None,
        *,
        expression: str,
        values: dict[str, Any],
    ) -> bool:
        """Moves a pending or waiting recipient in the due index (None: due now); False
        when it changed since it was read."""
        return self._transact(
            [
                _update(
                    batch_pk(workspace_id, batch_id),
                    recipient_sk(recipient.part, recipient.row),
                    expression,
                    "#status IN (:pending, :waiting) AND attempts = :attempts",
                    {
                        ":due": due_key(when, recipient.part, recipient.row),
                        ":pending": str(RecipientStatus.PENDING),
                        ":waiting": str(RecipientStatus.WAITING_RETRY),
                        ":attempts": recipient.attempts,
                        **values,
                    },
                )
            ]
        )

    def skip(self, workspace_id: str, batch_id: str, recipient: DueRecipient, reason: str) -> bool:
        """pending|waiting_retry -> skipped with `reason` (a suppressed number, a
        window that never opens): it will not be called."""
        pk = batch_pk(workspace_id, batch_id)
        return self._transact(
            [
                _update(
                    pk,
                    recipient_sk(recipient.part, recipient.row),
                    "SET #status = :skipped, skip_reason = :reason "
                    "REMOVE due_pk, due_key, next_attempt_at",
                    "#status IN (:pending, :waiting)",
                    {
                        ":skipped": str(RecipientStatus.SKIPPED),
                        ":reason": reason,
                        ":pending": str(RecipientStatus.PENDING),
                        ":waiting": str(RecipientStatus.WAITING_RETRY),
                    },
                ),
                _counters(pk, {"pending": -1, "skipped": 1}),
            ]
        )

    def record_outcome(
        self,
        call: CallRecord,
        outcome: str,
        decision: Decision,
        ended_at: datetime,
        *,
        cancelled: bool,
        facts: CallFacts = _NO_FACTS,
        connected: bool = False,
        analytics: Analytics = _NO_ANALYTICS,
    ) -> bool:
        """The attempt's outcome, once: the recipient leaves its live state for a final
        status or waiting_retry, and the slot is freed. A cancelled batch retries nobody.
        The call's facts go on the call item and the recipient (its duration only from
        a `connected` attempt: the report's duration is the last conversation's), and
        the batch's analytics counters move in the same transaction."""
        status = status_after(decision, cancelled=cancelled)
        pk = batch_pk(call.workspace_id, call.batch_id)
        values: dict[str, Any] = {
            ":status": str(status),
            ":outcome": outcome,
            ":attempt": call.attempt,
            ":dialing": str(RecipientStatus.DIALING),
            ":in_progress": str(RecipientStatus.IN_PROGRESS),
        }
        expression = "SET #status = :status, last_outcome = :outcome"
        if status is RecipientStatus.WAITING_RETRY and decision.next_attempt_at is not None:
            expression += ", next_attempt_at = :next, due_pk = :pk, due_key = :due"
            values |= {
                ":next": decision.next_attempt_at.isoformat(),
                ":pk": pk,
                ":due": due_key(decision.due_at or decision.next_attempt_at, call.part, call.row),
            }
        facts_set = _fact_values(facts, connected)
        names = {f"#f_{name}": name for name in facts_set}
        expression += "".join(f", #f_{name} = :f_{name}" for name in facts_set)
        values |= {f":f_{name}": value for name, value in facts_set.items()}
        if facts.cost is not None:
            expression += " ADD #f_cost :f_cost"
            names["#f_cost"] = "cost"
            values[":f_cost"] = Decimal(str(facts.cost))
        call_facts = _fact_values(facts, connected=True, with_cost=True)
        counter = "pending" if status is RecipientStatus.WAITING_RETRY else status.value
        return self._transact(
            [
                _update(
                    call_pk(call.call_id),
                    META,
                    "SET outcome = :outcome, ended_at = :ended"
                    + "".join(f", #f_{name} = :f_{name}" for name in call_facts)
                    + " REMOVE watch_pk, watch_until",
                    "attribute_exists(PK) AND attribute_not_exists(outcome)",
                    {":outcome": outcome, ":ended": ended_at.isoformat(),
                     **{f":f_{name}": value for name, value in call_facts.items()}},
                    names={f"#f_{name}": name for name in call_facts},
                ),
                _update(
                    pk,
                    recipient_sk(call.part, call.row),
                    expression,
                    "#status IN (:dialing, :in_progress) AND attempts = :attempt",
                    values,
                    names=names,
                ),
                _counters(pk, {"in_progress": -1, counter: 1}),
                _workspace_live(call.workspace_id, -1),
                *([_analytics(pk, analytics, facts.cost_currency)] if analytics.counters else []),
            ]
        )  # fmt: skip

    def cancel_waiting(
        self, workspace_id: str, batch_id: str, recipients: Iterable[DueRecipient]
    ) -> int:
        """pending|waiting_retry -> cancelled, in transactions of 99 plus the counters."""
        pk = batch_pk(workspace_id, batch_id)
        cancelled = 0
        chunk: list[DueRecipient] = []
        for recipient in [*recipients, None]:
            if recipient is not None:
                chunk.append(recipient)
            if chunk and (recipient is None or len(chunk) == _TRANSACTION_LIMIT - 1):
                cancelled += self._cancel_chunk(pk, chunk)
                chunk = []
        return cancelled

    def _cancel_chunk(self, pk: str, chunk: list[DueRecipient]) -> int:
        updates = [
            _update(
                pk,
                recipient_sk(r.part, r.row),
                "SET #status = :cancelled REMOVE due_pk, due_key, next_attempt_at",
                "#status IN (:pending, :waiting)",
                {
                    ":cancelled": str(RecipientStatus.CANCELLED),
                    ":pending": str(RecipientStatus.PENDING),
                    ":waiting": str(RecipientStatus.WAITING_RETRY),
                },
            )
            for r in chunk
        ]
        counters = _counters(pk, {"pending": -len(chunk), "cancelled": len(chunk)})
        if self._transact([*updates, counters]):
            return len(chunk)
        # One of them moved meanwhile (a claim won the race): go one by one.
        return sum(
            self._transact([update, _counters(pk, {"pending": -1, "cancelled": 1})])
            for update in updates
        )

    # -- pacing -------------------------------------------------------------------------

    def reserve_start(
        self,
        workspace_id: str,
        batch_id: str,
        second: int,
        batch_limit: int | None,
        workspace_limit: int | None,
    ) -> bool:
        """Take one call start in the clock second `second` (epoch) from the batch's and
        the workspace's pace, both or neither: one counter item per scope and second."""
        scopes = [
            (pk, limit)
            for pk, limit in (
                (batch_pk(workspace_id, batch_id), batch_limit),
                (workspace_pk(workspace_id), workspace_limit),
            )
            if limit is not None
        ]
        return not scopes or self._transact(
            [
                _update(
                    pk,
                    f"{PACE_PREFIX}{second}",
                    "ADD starts :one SET expires_at = :expires",
                    "attribute_not_exists(starts) OR starts < :limit",
                    {":one": 1, ":limit": limit, ":expires": second + PACE_RETENTION_SECONDS},
                )
                for pk, limit in scopes
            ]
        )

    # -- the workspace's concurrency ----------------------------------------------------

    def workspace_live(self, workspace_id: str) -> WorkspaceLive:
        response = self.client.get_item(
            TableName=self.table_name,
            Key=_item({"PK": workspace_pk(workspace_id), "SK": LIVE}),
            ConsistentRead=True,
        )
        item = {k: _deserialize(v) for k, v in response.get("Item", {}).items()}
        waiting = {
            str(batch): (str(entry["rank"]), float(entry["until"]))
            for batch, entry in (item.get("waiting") or {}).items()
        }
        return WorkspaceLive(int(item.get("calls", 0)), waiting)

    def wait_for_unit(self, workspace_id: str, batch_id: str, rank: str, until: datetime) -> None:
        """Note that `batch_id` waits for a unit of the workspace's concurrency."""
        self.client.update_item(
            TableName=self.table_name,
            Key=_item({"PK": workspace_pk(workspace_id), "SK": LIVE}),
            UpdateExpression="SET waiting = if_not_exists(waiting, :empty)",
            ExpressionAttributeValues=_item({":empty": {}}),
        )
        self.client.update_item(
            TableName=self.table_name,
            Key=_item({"PK": workspace_pk(workspace_id), "SK": LIVE}),
            UpdateExpression="SET waiting.#batch = :entry",
            ExpressionAttributeNames={"#batch": batch_id},
            ExpressionAttributeValues=_item(
                {":entry": {"rank": rank, "until": int(until.timestamp())}}
            ),
        )

    def stop_waiting_for_unit(self, workspace_id: str, batch_id: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_item({"PK": workspace_pk(workspace_id), "SK": LIVE}),
                UpdateExpression="REMOVE waiting.#batch",
                ConditionExpression="attribute_exists(waiting.#batch)",
                ExpressionAttributeNames={"#batch": batch_id},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    # -- slots and watches ------------------------------------------------------------

    def slot(self, slot: SlotRef) -> SlotState:
        response = self.client.get_item(
            TableName=self.table_name,
            Key=_item({"PK": batch_pk(slot.workspace_id, slot.batch_id),
                       "SK": slot_sk(slot.round, slot.slot)}),
            ConsistentRead=True,
        )  # fmt: skip
        item = {k: _deserialize(v) for k, v in response.get("Item", {}).items()}
        return SlotState(item.get("call_id"), int(item.get("calls", 0)))

    def watch(self, call: CallRecord, task_token: str, until: datetime) -> bool:
        """A live call's outcome now answers `task_token`, and it is watched until
        `until`; False when its outcome is already recorded."""
        return self._transact(
            [
                _update(
                    call_pk(call.call_id),
                    META,
                    "SET task_token = :token, watch_pk = :shard, watch_until = :until",
                    "attribute_exists(PK) AND attribute_not_exists(outcome)",
                    {":token": task_token, ":shard": watch_pk(call.call_id),
                     ":until": moment(until)},
                )
            ]
        )  # fmt: skip

    def live_calls(self) -> int:
        """How many placed calls have no outcome yet: every one is in the WATCH index
        from its claim until its outcome is recorded."""
        live = 0
        for partition in watch_partitions():
            page: dict[str, Any] = {}
            while True:
                response = self.table.query(
                    IndexName=WATCH_INDEX,
                    KeyConditionExpression=Key("watch_pk").eq(partition),
                    Select="COUNT",
                    **page,
                )
                live += int(response["Count"])
                if "LastEvaluatedKey" not in response:
                    break
                page = {"ExclusiveStartKey": response["LastEvaluatedKey"]}
        return live

    def unwatched(self, now: datetime, limit: int) -> list[CallRecord]:
        """Calls whose outcome is unknown and whose watch ran out before `now`."""
        found: list[CallRecord] = []
        for partition in watch_partitions():
            response = self.table.query(
                IndexName=WATCH_INDEX,
                KeyConditionExpression=Key("watch_pk").eq(partition)
                & Key("watch_until").lt(moment(now)),
                Limit=limit,
            )
            found += [
                call
                for item in response["Items"]
                if (call := self.call(str(item["PK"]).removeprefix("CALL#"))) is not None
            ]
        return found[:limit]

    def audited_calls(self, call_ids: list[str]) -> Iterator[AuditedCall]:
        """The calls among `call_ids` that were claimed (a released one is gone), with
        the audit their claim kept, in the order asked, 100 reads at a time."""
        for start in range(0, len(call_ids), _BATCH_GET_LIMIT):
            chunk = call_ids[start : start + _BATCH_GET_LIMIT]
            keys = [_item({"PK": call_pk(call_id), "SK": META}) for call_id in chunk]
            found: dict[str, dict[str, Any]] = {}
            request: dict[str, Any] = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for raw in response["Responses"].get(self.table_name, []):
                    item = {k: _deserialize(v) for k, v in raw.items()}
                    found[str(item["PK"]).removeprefix("CALL#")] = item
                request = response.get("UnprocessedKeys") or {}
            for call_id in chunk:
                if call_id in found:
                    item = found[call_id]
                    yield AuditedCall(
                        call_id,
                        int(item["attempt"]),
                        str(item.get("started_at", "")),
                        None if item.get("outcome") is None else str(item["outcome"]),
                        dict(item.get("audit") or {}),
                    )

    def call(self, call_id: str) -> CallRecord | None:
        response = self.client.get_item(
            TableName=self.table_name,
            Key=_item({"PK": call_pk(call_id), "SK": META}),
            ConsistentRead=True,
        )
        if "Item" not in response:
            return None
        item = {k: _deserialize(v) for k, v in response["Item"].items()}
        return CallRecord(
            call_id=call_id,
            workspace_id=str(item["workspace_id"]),
            batch_id=str(item["batch_id"]),
            part=int(item["part"]),
            row=int(item["row"]),
            attempt=int(item["attempt"]),
            task_token=item.get("task_token"),
            provider_call_id=item.get("provider_call_id"),
            outcome=item.get("outcome"),
            provider=item.get("provider"),
        )

    def call_by_provider_id(self, provider: str, provider_call_id: str) -> CallRecord | None:
        response = self.client.get_item(
            TableName=self.table_name,
            Key=_item({"PK": provider_call_pk(provider, provider_call_id), "SK": META}),
            ConsistentRead=True,
        )
        if "Item" not in response:
            return None
        return self.call(str(_deserialize(response["Item"]["call_id"])))

    # -- helpers --------------------------------------------------------------------------

    def _transact(self, items: list[dict[str, Any]]) -> bool:
        """All or nothing; False when a condition does not hold."""
        return self._transact_reasons(items) is None

    def _transact_reasons(self, items: list[dict[str, Any]]) -> list[bool] | None:
        """None when written; else, per item, whether its condition failed. A
        cancellation for a conflict or throttling is tried again (architecture.md
        section 10: only ConditionalCheckFailed means "no")."""
        for item in items:
            next(iter(item.values()))["TableName"] = self.table_name
        for attempt in range(_TRANSACTION_TRIES):
            try:
                self.client.transact_write_items(TransactItems=items)
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                codes = [
                    reason.get("Code", "None")
                    for reason in error.response.get("CancellationReasons", [])
                ]
                if "ConditionalCheckFailed" in codes:
                    return [code == "ConditionalCheckFailed" for code in codes]
                if not set(codes) & _RETRIED_REASONS:
                    raise
                time.sleep(random.uniform(0, 0.05 * 2**attempt))  # jittered backoff
                continue
            return None
        raise TransactionRefused(f"cancelled {_TRANSACTION_TRIES} times for conflicts")


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serialize(v) for k, v in values.items()}


def _update(
    pk: str,
    sk: str,
    expression: str,
    condition: str,
    values: dict[str, Any],
    *,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    names = dict(names or {})
    if "#status" in expression + condition:
        names["#status"] = "status"
    update: dict[str, Any] = {
        "Key": _item({"PK": pk, "SK": sk}),
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": _item(values),
    }
    if names:
        update["ExpressionAttributeNames"] = names
    return {"Update": update}


def _fact_values(facts: CallFacts, connected: bool, *, with_cost: bool = False) -> dict[str, Any]:
    """The attributes an attempt's facts set (those it has); the cost only on the call
    item (the recipient adds its attempts' costs up)."""
    values: dict[str, Any] = {
        "answered_by": None if facts.answered_by is None else str(facts.answered_by),
        "ended_reason": facts.ended_reason,
        "recording_url": facts.recording_url,
        "transcript_url": facts.transcript_url,
        "cost_currency": facts.cost_currency,
        "data": dict(facts.data) or None,
    }
    if connected and facts.duration_seconds is not None:
        values["duration_seconds"] = Decimal(str(facts.duration_seconds))
    if with_cost and facts.cost is not None:
        values["cost"] = Decimal(str(facts.cost))
    return {name: value for name, value in values.items() if value is not None}


def _analytics(pk: str, analytics: "Analytics", currency: str | None) -> dict[str, Any]:
    """ADDs to the batch's analytics item: counters, and the post-call data field names
    seen (a string set: the report's data.<name> columns)."""
    names = {f"#a{i}": name for i, name in enumerate(analytics.counters)}
    values: dict[str, Any] = {
        f":a{i}": Decimal(str(delta)) for i, delta in enumerate(analytics.counters.values())
    }
    expression = "ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(names)))
    if analytics.data_fields:
        expression += ", data_fields :fields"
        values[":fields"] = set(analytics.data_fields)
    if currency:
        expression = f"SET cost_currency = if_not_exists(cost_currency, :currency) {expression}"
        values[":currency"] = currency
    return {
        "Update": {
            "Key": _item({"PK": pk, "SK": ANALYTICS}),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": _item(values),
        }
    }


def _workspace_live(workspace_id: str, delta: int) -> dict[str, Any]:
    """The workspace's live calls move with the batch's `in_progress`."""
    return {
        "Update": {
            "Key": _item({"PK": workspace_pk(workspace_id), "SK": LIVE}),
            "UpdateExpression": "ADD calls :delta",
            "ExpressionAttributeValues": _item({":delta": delta}),
        }
    }


def _counters(pk: str, deltas: dict[str, int]) -> dict[str, Any]:
    """Counter moves on the batch item; they always hold with the recipient's move."""
    parts = [f"counts.{name} = counts.{name} + :{name}" for name in deltas]
    return {
        "Update": {
            "Key": _item({"PK": pk, "SK": META}),
            "UpdateExpression": "SET " + ", ".join(parts),
            "ExpressionAttributeValues": _item(
                {f":{name}": delta for name, delta in deltas.items()}
            ),
        }
    }
