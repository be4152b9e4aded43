"""DynamoDB: the single table of architecture.md section 4.

Every key of a workspace's items starts with `WS#{workspace}`: a caller can only name
items of its own workspace, so one tenant cannot address another's data.
"""

import base64
import binascii
import functools
import json
import operator
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from batch_calls.domain.batch import (
    FINAL_BATCH_STATUSES,
    Batch,
    BatchSettings,
    BatchStatus,
    Recipient,
    RecipientStatus,
)
from batch_calls.domain.records import InvalidCursor
from batch_calls.domain.workspace import Agent, Workspace
from batch_calls.store import transactions as tx
from batch_calls.store.keys import (
    ANALYTICS,
    META,
    RECIPIENT_PREFIX,
    TTL_ATTRIBUTE,
    batch_pk,
    batches_index_pk,
    due_key,
    recipient_sk,
    workspace_pk,
)

_CURSOR = re.compile(r"^R#\d{3}#\d{7}$")
SUPPRESSED_PREFIX = "SUPPRESSED#"


def _to_item(value: Any) -> Any:
    """JSON-mode model data to DynamoDB values (numbers as Decimal, no empty sets)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_item(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_to_item(v) for v in value]
    return value


def _from_item(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_item(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_item(v) for v in value]
    return value


def _unexpired(item: Mapping[str, Any], now: datetime) -> bool:
    """An item the table's TTL has not removed yet may have expired already."""
    expires = item.get(TTL_ATTRIBUTE)
    return expires is None or int(expires) > now.timestamp()


def _strip_keys(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in _from_item(dict(item)).items() if k not in _KEY_ATTRIBUTES}


_KEY_ATTRIBUTES = frozenset({"PK", "SK", "GSI1PK", "GSI1SK", "due_pk", "due_key", TTL_ATTRIBUTE})


# Parts of the transactions in store/attempts.py that move a batch's counters with its
# recipients: the batch item's writes all live in this module.


def take_unit(pk: str) -> dict[str, Any]:
    """A claim's part: a pending recipient becomes a live call, only while the batch runs
    below its concurrency (the semaphore of invariant 2)."""
    return tx.update(
        pk,
        META,
        "SET counts.in_progress = counts.in_progress + :one, "
        "counts.pending = counts.pending - :one",
        "#status = :running AND counts.in_progress < settings.max_concurrent_calls",
        {":one": 1, ":running": str(BatchStatus.RUNNING)},
    )


def move_counts(pk: str, deltas: dict[str, int]) -> dict[str, Any]:
    """Counter moves on the batch item; they always hold with the recipients' moves."""
    expression = "SET " + ", ".join(f"counts.{name} = counts.{name} + :{name}" for name in deltas)
    return tx.update(pk, META, expression, None, {f":{name}": d for name, d in deltas.items()})


def add_analytics(
    pk: str, counters: Mapping[str, int | float], data_fields: frozenset[str], currency: str | None
) -> dict[str, Any]:
    """ADDs to the batch's analytics item (domain/results.py): counters, and the
    post-call data field names seen (a string set: the report's data.<name> columns)."""
    names = {f"#a{i}": name for i, name in enumerate(counters)}
    values: dict[str, Any] = {f":a{i}": Decimal(str(d)) for i, d in enumerate(counters.values())}
    expression = "ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(names)))
    if data_fields:
        expression += ", data_fields :fields"
        values[":fields"] = set(data_fields)
    if currency:
        expression = f"SET cost_currency = if_not_exists(cost_currency, :currency) {expression}"
        values[":currency"] = currency
    return tx.update(pk, ANALYTICS, expression, None, values, names=names)


class Database:
    def __init__(self, table_name: str, resource: Any = None) -> None:
        self.table = (resource or boto3.resource("dynamodb")).Table(table_name)

    # Workspaces -----------------------------------------------------------------

    def put_workspace(self, workspace: Workspace) -> None:
        item = _to_item(workspace.model_dump(mode="json"))
        self.table.put_item(
            Item={"PK": workspace_pk(workspace.workspace_id), "SK": "CONFIG", **item}
        )

    def get_workspace(self, workspace_id: str) -> Workspace | None:
        item = self._get(workspace_pk(workspace_id), "CONFIG")
        return None if item is None else Workspace.model_validate(item)

    def put_api_key(self, workspace_id: str, key_hash: str, created_at: datetime) -> None:
        self.table.put_item(
            Item={
                "PK": f"APIKEY#{key_hash}",
                "SK": META,
                "workspace_id": workspace_id,
                "created_at": created_at.isoformat(),
            },
            ConditionExpression=Attr("PK").not_exists(),
        )

    def workspace_of_key(self, key_hash: str) -> str | None:
        item = self._get(f"APIKEY#{key_hash}", META)
        return None if item is None else str(item["workspace_id"])

    def put_caller_number(self, workspace_id: str, e164: str) -> None:
        """The number under the workspace, and the workspace under the number (who owns it)."""
        self.table.put_item(
            Item={"PK": workspace_pk(workspace_id), "SK": f"NUMBER#{e164}", "e164": e164}
        )
        self.table.put_item(
            Item={"PK": f"CALLER#{e164}", "SK": f"WORKSPACE#{workspace_id}", "e164": e164}
        )

    def caller_number_workspaces(self, e164: str) -> list[str]:
        """The workspaces the caller number was added to."""
        query = {"KeyConditionExpression": Key("PK").eq(f"CALLER#{e164}")}
        return [str(item["SK"]).removeprefix("WORKSPACE#") for item in self._query_all(query)]

    def caller_numbers(self, workspace_id: str) -> list[str]:
        query = {
            "KeyConditionExpression": Key("PK").eq(workspace_pk(workspace_id))
            & Key("SK").begins_with("NUMBER#")
        }
        return [str(item["e164"]) for item in self._query_all(query)]

    def has_caller_number(self, workspace_id: str, e164: str) -> bool:
        return self._get(workspace_pk(workspace_id), f"NUMBER#{e164}") is not None

    # Suppression list: numbers never to call (one item each, under the workspace) --

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
        """Add numbers; how many were new. A number listed already keeps its first source
        and expiry, unless that expiry has passed (then it is listed anew), or this
        listing is `permanent` (an opt-out): then it never expires. `expires` is also the
        table's TTL, which removes the item some time after."""
        added = 0
        for e164 in dict.fromkeys(numbers):
            item: dict[str, str | int] = {
                "PK": workspace_pk(workspace_id),
                "SK": SUPPRESSED_PREFIX + e164,
                "phone_number": e164,
                "source": source,
                "added_at": now.isoformat(),
            }
            if expires is not None:
                item[TTL_ATTRIBUTE] = int(expires.timestamp())
            try:
                self.table.put_item(
                    Item=item,
                    ConditionExpression=Attr("PK").not_exists()
                    | Attr(TTL_ATTRIBUTE).lte(int(now.timestamp())),
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                if permanent:
                    self.table.update_item(
                        Key={"PK": item["PK"], "SK": item["SK"]},
                        UpdateExpression=f"REMOVE {TTL_ATTRIBUTE}",
                    )
            else:
                added += 1
        return added

    def unsuppress(self, workspace_id: str, e164: str) -> bool:
        response = self.table.delete_item(
            Key={"PK": workspace_pk(workspace_id), "SK": SUPPRESSED_PREFIX + e164},
            ReturnValues="ALL_OLD",
        )
        return "Attributes" in response

    def is_suppressed(self, workspace_id: str, e164: str, now: datetime) -> bool:
        key = {"PK": workspace_pk(workspace_id), "SK": SUPPRESSED_PREFIX + e164}
        item = self.table.get_item(Key=key, ConsistentRead=True).get("Item")
        return item is not None and _unexpired(item, now)

    def suppressed_numbers(self, workspace_id: str, now: datetime) -> set[str]:
        query = {
            "KeyConditionExpression": Key("PK").eq(workspace_pk(workspace_id))
            & Key("SK").begins_with(SUPPRESSED_PREFIX),
            "ProjectionExpression": f"phone_number, {TTL_ATTRIBUTE}",
        }
        return {
            str(item["phone_number"]) for item in self._query_all(query) if _unexpired(item, now)
        }

    def list_suppressed(
        self, workspace_id: str, cursor: str | None, limit: int, prefix: str = ""
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the suppression list in number order (the numbers starting with
        `prefix`), and the next page's cursor."""
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(workspace_pk(workspace_id))
            & Key("SK").begins_with(SUPPRESSED_PREFIX + prefix),
            "Limit": limit,
        }
        if cursor is not None:
            sort_key = _decode(cursor)
            if not sort_key.startswith(SUPPRESSED_PREFIX + prefix):
                raise InvalidCursor(cursor)
            query["ExclusiveStartKey"] = {"PK": workspace_pk(workspace_id), "SK": sort_key}
        response = self.table.query(**query)
        last = response.get("LastEvaluatedKey")
        entries = [
            {
                **{k: item[k] for k in ("phone_number", "source", "added_at")},
                "expires_at": None
                if TTL_ATTRIBUTE not in item
                else datetime.fromtimestamp(int(item[TTL_ATTRIBUTE]), UTC).isoformat(),
            }
            for item in response["Items"]
        ]
        return entries, None if last is None else _encode_cursor(str(last["SK"]))

    def active_batch_ids(self, workspace_id: str) -> list[str]:
        """Batches that may still call someone."""
        query: dict[str, Any] = {
            "IndexName": "GSI1",
            "KeyConditionExpression": Key("GSI1PK").eq(batches_index_pk(workspace_id)),
            "FilterExpression": Attr("status").is_in(
                [str(s) for s in BatchStatus if s not in FINAL_BATCH_STATUSES]
            ),
            "ProjectionExpression": "batch_id",
        }
        return [str(item["batch_id"]) for item in self._query_all(query)]

    def put_agent(self, workspace_id: str, agent: Agent) -> None:
        item = _to_item(agent.model_dump(mode="json"))
        self.table.put_item(
            Item={"PK": workspace_pk(workspace_id), "SK": f"AGENT#{agent.agent_id}", **item}
        )

    def get_agent(self, workspace_id: str, agent_id: str) -> Agent | None:
        item = self._get(workspace_pk(workspace_id), f"AGENT#{agent_id}")
        return None if item is None else Agent.model_validate(item)

    def agent_ids(self, workspace_id: str) -> list[str]:
        query = {
            "KeyConditionExpression": Key("PK").eq(workspace_pk(workspace_id))
            & Key("SK").begins_with("AGENT#"),
            "ProjectionExpression": "SK",
        }
        return [str(item["SK"]).removeprefix("AGENT#") for item in self._query_all(query)]

    # Batches --------------------------------------------------------------------

    def create_batch(self, batch: Batch) -> bool:
        """False when a batch with this id exists already."""
        try:
            self.table.put_item(
                Item=self._batch_item(batch), ConditionExpression=Attr("PK").not_exists()
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def batch_item_bytes(self, batch: Batch) -> int:
        """About how large the batch's item is (its JSON, a little more than DynamoDB
        counts), to refuse one over domain.records.MAX_ITEM_BYTES before anything is written."""
        return len(json.dumps(self._batch_item(batch), default=str).encode())

    def get_batch(self, workspace_id: str, batch_id: str) -> Batch | None:
        item = self._get(batch_pk(workspace_id, batch_id), META)
        return None if item is None else Batch.model_validate(item)

    def list_batches(
        self,
        workspace_id: str,
        status: BatchStatus | None,
        offset: int,
        limit: int,
        tag: str | None = None,
    ) -> tuple[list[Batch], int]:
        """One page of the workspace's batches, newest first, and how many match."""
        query: dict[str, Any] = {
            "IndexName": "GSI1",
            "KeyConditionExpression": Key("GSI1PK").eq(batches_index_pk(workspace_id)),
            "ScanIndexForward": False,
        }
        conditions = []
        if status is not None:
            conditions.append(Attr("status").eq(str(status)))
        if tag is not None:
            conditions.append(Attr("settings.tags").contains(tag))
        if conditions:
            query["FilterExpression"] = functools.reduce(operator.and_, conditions)
        matching = list(self._query_all(query))
        page = matching[offset : offset + limit]
        return [Batch.model_validate(_strip_keys(item)) for item in page], len(matching)

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
        """Move the batch to `to` if its status is one of `allowed_from`; None if not."""
        values: dict[str, Any] = {":to": str(to), ":now": now.isoformat()}
        assignments = ["#status = :to", "updated_at = :now"]
        if settings is not None:
            values[":settings"] = _to_item(settings.model_dump(mode="json"))
            assignments.append("settings = :settings")
        for name, value in {"started_at": started_at, "finished_at": finished_at}.items():
            if value is not None:
                values[f":{name}"] = value.isoformat()
                assignments.append(f"{name} = :{name}")
        allowed = [str(status) for status in allowed_from]
        values |= {f":from{index}": status for index, status in enumerate(allowed)}
        condition = "attribute_exists(PK) AND #status IN ({})".format(
            ", ".join(f":from{index}" for index in range(len(allowed)))
        )
        expression = "SET " + ", ".join(assignments) + (" REMOVE active_round" if end_round else "")
        return self._update_batch(workspace_id, batch_id, expression, condition, values)

    def begin_round(
        self, workspace_id: str, batch_id: str, round_number: int, now: datetime
    ) -> Batch | None:
        """Make `round_number` the running round, once: None if the batch may not run
        now, another round is running, or this round already ran (a duplicated fire)."""
        return self._update_batch(
            workspace_id,
            batch_id,
            "SET previous_status = #status, #status = :running, #round = :n, active_round = :n, "
            "updated_at = :now, "
            "started_at = if_not_exists(started_at, :now) REMOVE next_round_at, waiting_for",
            "#status IN (:initiated, :scheduled, :running) AND #round < :n "
            "AND attribute_not_exists(active_round)",
            {
                ":n": round_number,
                ":now": now.isoformat(),
                ":running": str(BatchStatus.RUNNING),
                ":initiated": str(BatchStatus.INITIATED),
                ":scheduled": str(BatchStatus.SCHEDULED),
            },
        )

    def set_waiting(
        self, workspace_id: str, batch_id: str, at: datetime, reason: str
    ) -> Batch | None:
        """Record when the next round is scheduled and why, while no round runs."""
        return self._update_batch(
            workspace_id,
            batch_id,
            "SET next_round_at = :at, waiting_for = :reason",
            "attribute_exists(PK) AND attribute_not_exists(active_round)",
            {":at": at.isoformat(), ":reason": reason},
        )

    def end_round(self, workspace_id: str, batch_id: str, round_number: int) -> Batch | None:
        return self._update_batch(
            workspace_id,
            batch_id,
            "REMOVE active_round",
            "active_round = :n",
            {":n": round_number},
        )

    def complete_batch(self, workspace_id: str, batch_id: str, now: datetime) -> Batch | None:
        """running -> completed, only when nobody is waiting and no call is live."""
        return self._update_batch(
            workspace_id,
            batch_id,
            "SET #status = :completed, finished_at = :now, updated_at = :now",
            "#status = :running AND counts.pending = :zero AND counts.in_progress = :zero "
            "AND attribute_not_exists(active_round) AND loaded_parts = parts",
            {
                ":completed": str(BatchStatus.COMPLETED),
                ":running": str(BatchStatus.RUNNING),
                ":now": now.isoformat(),
                ":zero": 0,
            },
        )

    def _update_batch(
        self,
        workspace_id: str,
        batch_id: str,
        expression: str,
        condition: str,
        values: dict[str, Any],
    ) -> Batch | None:
        """One conditional update of the batch item: the new item, or None when the
        condition does not hold. `#name` placeholders stand for the attribute `name`."""
        names = {f"#{name}": name for name in re.findall(r"#(\w+)", expression + condition)}
        try:
            response = self.table.update_item(
                Key={"PK": batch_pk(workspace_id, batch_id), "SK": META},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return Batch.model_validate(_strip_keys(response["Attributes"]))

    def add_part(
        self, batch: Batch, accepted: int, skipped: int, variables: list[str], columns: list[str]
    ) -> Batch | None:
        """Count a further contact file of a draft batch; None if it left draft or
        another file was counted first."""
        return self._update_batch(
            batch.workspace_id,
            batch.batch_id,
            "SET parts = parts + :one, counts.pending = counts.pending + :accepted, "
            "counts.skipped = counts.skipped + :skipped, variables = :variables, "
            "#columns = :columns",
            "#status = :draft AND parts = :parts",
            {
                ":one": 1,
                ":accepted": accepted,
                ":skipped": skipped,
                ":variables": variables,
                ":columns": columns,
                ":draft": str(BatchStatus.DRAFT),
                ":parts": batch.parts,
            },
        )

    def mark_part_loaded(self, workspace_id: str, batch_id: str, part: int) -> None:
        """Record that a part's recipient items are written (parts load in order)."""
        try:
            self.table.update_item(
                Key={"PK": batch_pk(workspace_id, batch_id), "SK": META},
                UpdateExpression="SET loaded_parts = :part",
                ConditionExpression="loaded_parts < :part",
                ExpressionAttributeValues={":part": part},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def _batch_item(self, batch: Batch) -> dict[str, Any]:
        item = _to_item(batch.model_dump(mode="json"))
        return {
            "PK": batch_pk(batch.workspace_id, batch.batch_id),
            "SK": META,
            "GSI1PK": batches_index_pk(batch.workspace_id),
            "GSI1SK": f"{batch.created_at.isoformat()}#{batch.batch_id}",
            **item,
        }

    def add_rerun(self, workspace_id: str, batch_id: str, rerun_id: str) -> Batch | None:
        """Note on a batch that `rerun_id` re-runs it (the link both ways: the re-run
        holds rerun_of from its creation)."""
        return self._update_batch(
            workspace_id,
            batch_id,
            "SET reruns = list_append(if_not_exists(reruns, :none), :rerun)",
            "attribute_exists(PK)",
            {":none": [], ":rerun": [rerun_id]},
        )

    def analytics(self, workspace_id: str, batch_id: str) -> dict[str, Any]:
        """The batch's analytics counters (`add_analytics`, with each outcome): one
        item, whatever the batch's size. Empty before the first outcome."""
        return self._get(batch_pk(workspace_id, batch_id), ANALYTICS) or {}

    # Recipients -----------------------------------------------------------------

    def put_recipients(
        self, workspace_id: str, batch_id: str, recipients: Iterable[Recipient]
    ) -> int:
        """Write recipient items (25 a request, unprocessed items retried)."""
        pk = batch_pk(workspace_id, batch_id)
        written = 0
        with self.table.batch_writer() as writer:
            for recipient in recipients:
                item = _to_item(recipient.model_dump(mode="json"))
                if recipient.status is RecipientStatus.PENDING:
                    item["due_pk"] = pk  # in the sparse due index until dialled
                    item["due_key"] = due_key(None, recipient.part, recipient.row)
                writer.put_item(
                    Item={"PK": pk, "SK": recipient_sk(recipient.part, recipient.row), **item}
                )
                written += 1
        return written

    def get_recipient(self, workspace_id: str, batch_id: str, part: int, row: int) -> Recipient:
        item = self._get(batch_pk(workspace_id, batch_id), recipient_sk(part, row))
        if item is None:
            raise LookupError(f"no recipient {part}/{row} in {batch_id}")
        return Recipient.model_validate(item)

    def list_recipients(
        self,
        workspace_id: str,
        batch_id: str,
        status: RecipientStatus | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Recipient], str | None]:
        """A page of recipients in file order and the cursor of the next page."""
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(batch_pk(workspace_id, batch_id))
            & Key("SK").begins_with(RECIPIENT_PREFIX),
        }
        if status is not None:
            query["FilterExpression"] = Attr("status").eq(str(status))
        if cursor is not None:
            query["ExclusiveStartKey"] = {
                "PK": batch_pk(workspace_id, batch_id),
                "SK": _decode_cursor(cursor),
            }
        found: list[Recipient] = []
        while True:
            query["Limit"] = max(limit - len(found), 1)
            response = self.table.query(**query)
            found += [Recipient.model_validate(_strip_keys(i)) for i in response["Items"]]
            last = response.get("LastEvaluatedKey")
            if last is None:
                return found, None
            if len(found) >= limit:
                return found, _encode_cursor(str(last["SK"]))
            query["ExclusiveStartKey"] = last

    def all_recipients(self, workspace_id: str, batch_id: str) -> Iterator[Recipient]:
        """Every recipient in file order, a page (1 MB) at a time: never the whole batch
        in memory."""
        query = {
            "KeyConditionExpression": Key("PK").eq(batch_pk(workspace_id, batch_id))
            & Key("SK").begins_with(RECIPIENT_PREFIX),
        }
        for item in self._query_all(query):
            yield Recipient.model_validate(_strip_keys(item))

    # Helpers --------------------------------------------------------------------

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"PK": pk, "SK": sk}, ConsistentRead=True).get("Item")
        return None if item is None else _strip_keys(item)

    def _query_all(self, query: dict[str, Any]) -> Iterable[dict[str, Any]]:
        while True:
            response = self.table.query(**query)
            yield from response["Items"]
            if "LastEvaluatedKey" not in response:
                return
            query = {**query, "ExclusiveStartKey": response["LastEvaluatedKey"]}


def _encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    """Only the sort key travels in a cursor; the partition is always the caller's."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor(cursor) from None


def _decode_cursor(cursor: str) -> str:
    sort_key = _decode(cursor)
    if not _CURSOR.match(sort_key):
        raise InvalidCursor(cursor)
    return sort_key
