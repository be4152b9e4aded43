"""The dialling ledger: every recipient transition is one conditional DynamoDB
transaction that also moves the batch's counters (architecture.md section 4).

A transition whose expected current state does not hold is a no-op that returns False,
which is what makes every handler safe to run twice (invariants 1 and 4). The batch's
`counts.in_progress` is the number of live calls and the concurrency semaphore
(invariant 2): a claim only succeeds while it is below `max_concurrent_calls`.
"""

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key

from batch_calls.domain.batch import RecipientStatus
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
    SlotRef,
    SlotState,
)
from batch_calls.domain.results import CallFacts
from batch_calls.store import database, pacing
from batch_calls.store import transactions as tx
from batch_calls.store.keys import (
    ALWAYS,
    DUE_INDEX,
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

_LIVE = (RecipientStatus.DIALING, RecipientStatus.IN_PROGRESS)
_WAITING = (RecipientStatus.PENDING, RecipientStatus.WAITING_RETRY)


_NO_ANALYTICS = Analytics()
_NO_FACTS = CallFacts()


def _due(item: dict[str, Any]) -> Due:
    """A recipient of the due index, from its item."""
    when = str(item["due_key"]).split("#", 1)[0]
    retry = item.get("next_attempt_at")
    return Due(
        int(item["part"]),
        int(item["row"]),
        int(item.get("attempts", 0)),
        str(item.get("phone_number", "")),
        {str(k): str(v) for k, v in (item.get("variables") or {}).items()},
        None if when == ALWAYS else datetime.strptime(when, MOMENT_FORMAT).replace(tzinfo=UTC),
        None if retry is None else datetime.fromisoformat(str(retry)),
        None if item.get("waiting_for") is None else str(item["waiting_for"]),
    )


# BatchGetItem reads at most this many items a request.
_BATCH_GET_LIMIT = 100


class Attempts:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        # Transactions need the low-level client; queries read easier through the table.
        self.client = boto3.client("dynamodb")
        self.transactions = tx.Transactions(self.client, table_name)
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
        return [_due(item) for item in response["Items"]], response.get("LastEvaluatedKey")

    def earliest_due(self, workspace_id: str, batch_id: str) -> Due | None:
        """The next recipient to become due, None when nobody waits."""
        response = self.table.query(
            IndexName=DUE_INDEX,
            KeyConditionExpression=Key("due_pk").eq(batch_pk(workspace_id, batch_id)),
            Limit=1,
        )
        items = response["Items"]
        return _due(items[0]) if items else None

    def waiting(self, workspace_id: str, batch_id: str) -> Iterator[Due]:
        """Everyone still waiting for a call (for cancellation and suppression)."""
        query: dict[str, Any] = {
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": Key("due_pk").eq(batch_pk(workspace_id, batch_id)),
        }
        while True:
            response = self.table.query(**query)
            yield from (_due(item) for item in response["Items"])
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
        refused = self.transactions.refusals(
            [
                database.take_unit(pk),
                tx.update(
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
                        "Item": tx.item(
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
                tx.update(
                    pk,
                    slot_sk(slot.round, slot.slot),
                    "SET call_id = :call ADD calls :one",
                    "(attribute_not_exists(calls) AND :one <= :limit) OR calls < :limit",
                    {":call": call_id, ":one": 1, ":limit": slot_limit},
                ),
                pacing.take_unit(workspace_id, workspace_limit),
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
            Key=tx.item({"PK": workspace_pk(workspace_id), "SK": contact_sk(e164)}),
            ConsistentRead=True,
        )
        item = tx.plain(response.get("Item", {}))
        calls = tuple(datetime.fromisoformat(str(call)) for call in item.get("calls") or ())
        return ContactCalls(calls, int(item.get("revision", 0)))

    def _contact_update(self, workspace_id: str, contact: ContactUpdate) -> dict[str, Any]:
        return tx.update(
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
        self.transactions.write(
            [
                {
                    "Put": {
                        "Item": tx.item(
                            {
                                "PK": provider_call_pk(provider, provider_call_id),
                                "SK": META,
                                "call_id": call.call_id,
                            }
                        )
                    }
                },
                tx.update(
                    call_pk(call.call_id),
                    META,
                    "SET provider_call_id = :provider_call_id, provider = :provider",
                    "attribute_exists(PK)",
                    {":provider_call_id": provider_call_id, ":provider": provider},
                ),
                tx.update(
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
        return self.transactions.write(
            [
                tx.update(
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
                database.move_counts(pk, {"in_progress": -1, "pending": 1}),
                pacing.move_live_calls(call.workspace_id, -1),
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": tx.item({"PK": call_pk(call.call_id), "SK": META}),
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
        return self.transactions.write(
            [
                tx.update(
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
        return self.transactions.write(
            [
                tx.update(
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
                database.move_counts(pk, {"pending": -1, "skipped": 1}),
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
        return self.transactions.write(
            [
                tx.update(
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
                tx.update(
                    pk,
                    recipient_sk(call.part, call.row),
                    expression,
                    "#status IN (:dialing, :in_progress) AND attempts = :attempt",
                    values,
                    names=names,
                ),
                database.move_counts(pk, {"in_progress": -1, counter: 1}),
                pacing.move_live_calls(call.workspace_id, -1),
                *([database.add_analytics(
                    pk, analytics.counters, analytics.data_fields, facts.cost_currency
                )] if analytics.counters else []),
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
            if chunk and (recipient is None or len(chunk) == tx.TRANSACTION_LIMIT - 1):
                cancelled += self._cancel_chunk(pk, chunk)
                chunk = []
        return cancelled

    def _cancel_chunk(self, pk: str, chunk: list[DueRecipient]) -> int:
        updates = [
            tx.update(
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
        counters = database.move_counts(pk, {"pending": -len(chunk), "cancelled": len(chunk)})
        if self.transactions.write([*updates, counters]):
            return len(chunk)
        # One of them moved meanwhile (a claim won the race): go one by one.
        one = database.move_counts(pk, {"pending": -1, "cancelled": 1})
        return sum(self.transactions.write([update, one]) for update in updates)

    # -- slots and watches ------------------------------------------------------------

    def slot(self, slot: SlotRef) -> SlotState:
        response = self.client.get_item(
            TableName=self.table_name,
            Key=tx.item({"PK": batch_pk(slot.workspace_id, slot.batch_id),
                       "SK": slot_sk(slot.round, slot.slot)}),
            ConsistentRead=True,
        )  # fmt: skip
        item = tx.plain(response.get("Item", {}))
        return SlotState(item.get("call_id"), int(item.get("calls", 0)))

    def watch(self, call: CallRecord, task_token: str, until: datetime) -> bool:
        """A live call's outcome now answers `task_token`, and it is watched until
        `until`; False when its outcome is already recorded."""
        return self.transactions.write(
            [
                tx.update(
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
            keys = [tx.item({"PK": call_pk(call_id), "SK": META}) for call_id in chunk]
            found: dict[str, dict[str, Any]] = {}
            request: dict[str, Any] = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for raw in response["Responses"].get(self.table_name, []):
                    item = tx.plain(raw)
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
            Key=tx.item({"PK": call_pk(call_id), "SK": META}),
            ConsistentRead=True,
        )
        if "Item" not in response:
            return None
        item = tx.plain(response["Item"])
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
            Key=tx.item({"PK": provider_call_pk(provider, provider_call_id), "SK": META}),
            ConsistentRead=True,
        )
        if "Item" not in response:
            return None
        return self.call(str(tx.deserialize(response["Item"]["call_id"])))


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
