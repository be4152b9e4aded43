"""DynamoDB transactions on the single table, and the low-level item format they use.

The store modules that own an item kind (database.py: workspaces, batches and their
counters; attempts.py: recipients, calls, slots, contact histories; pacing.py: call
starts and the workspace's live calls) each build the parts of a transaction that
touch their items; this module only writes them, all or nothing.
"""

import random
import time
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

serialize = TypeSerializer().serialize
deserialize = TypeDeserializer().deserialize

TRANSACTION_LIMIT = 100
# A transaction cancelled for a conflict with another one, or throttled, is tried again
# after a jittered wait, at most this many times; only a failed condition means "no".
_TRANSACTION_TRIES = 8
_RETRIED_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
     "RequestLimitExceeded"}
)  # fmt: skip


class TransactionRefused(Exception):
    """Cancelled for conflicts or throttling every time it was tried."""


def item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: serialize(v) for k, v in values.items()}


def plain(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: deserialize(v) for k, v in raw.items()}


def update(
    pk: str,
    sk: str,
    expression: str,
    condition: str | None,
    values: dict[str, Any],
    *,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One Update part of a transaction; `#status` stands for the attribute `status`."""
    names = dict(names or {})
    if "#status" in expression + (condition or ""):
        names["#status"] = "status"
    part: dict[str, Any] = {
        "Key": item({"PK": pk, "SK": sk}),
        "UpdateExpression": expression,
        "ExpressionAttributeValues": item(values),
    }
    if condition is not None:
        part["ConditionExpression"] = condition
    if names:
        part["ExpressionAttributeNames"] = names
    return {"Update": part}


class Transactions:
    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def write(self, parts: list[dict[str, Any]]) -> bool:
        """All or nothing; False when a condition does not hold."""
        return self.refusals(parts) is None

    def refusals(self, parts: list[dict[str, Any]]) -> list[bool] | None:
        """None when written; else, per part, whether its condition failed. A
        cancellation for a conflict or throttling is tried again (architecture.md
        section 10: only ConditionalCheckFailed means "no")."""
        for part in parts:
            next(iter(part.values()))["TableName"] = self.table_name
        for attempt in range(_TRANSACTION_TRIES):
            try:
                self.client.transact_write_items(TransactItems=parts)
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
