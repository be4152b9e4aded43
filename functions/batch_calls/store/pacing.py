"""How fast and how much a workspace dials: call starts per clock second (PACE#
counters, for calls_per_second) and the workspace's live calls across its batches (its
LIVE item: the concurrency limit, and the batches waiting for a unit of it).

The LIVE item's `calls` moves in the same transactions as the batch's `in_progress`
(store/attempts.py takes `take_unit` and `move_live_calls` parts from here)."""

from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from batch_calls.domain.records import WorkspaceLive
from batch_calls.store.keys import LIVE, batch_pk, workspace_pk
from batch_calls.store.transactions import Transactions, item, plain, update

PACE_PREFIX = "PACE#"
PACE_RETENTION_SECONDS = 3600  # counters of past seconds expire (the table's TTL)


def take_unit(workspace_id: str, limit: int) -> dict[str, Any]:
    """A claim's part: one more live call, only below the workspace's limit."""
    return update(
        workspace_pk(workspace_id),
        LIVE,
        "ADD calls :one",
        "attribute_not_exists(calls) OR calls < :limit",
        {":one": 1, ":limit": limit},
    )


def move_live_calls(workspace_id: str, delta: int) -> dict[str, Any]:
    """The workspace's live calls move with the batch's `in_progress`."""
    return update(workspace_pk(workspace_id), LIVE, "ADD calls :delta", None, {":delta": delta})


class Pacing:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self.client = boto3.client("dynamodb")
        self.transactions = Transactions(self.client, table_name)

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
        return not scopes or self.transactions.write(
            [
                update(
                    pk,
                    f"{PACE_PREFIX}{second}",
                    "ADD starts :one SET expires_at = :expires",
                    "attribute_not_exists(starts) OR starts < :limit",
                    {":one": 1, ":limit": limit, ":expires": second + PACE_RETENTION_SECONDS},
                )
                for pk, limit in scopes
            ]
        )

    def workspace_live(self, workspace_id: str) -> WorkspaceLive:
        response = self.client.get_item(
            TableName=self.table_name,
            Key=item({"PK": workspace_pk(workspace_id), "SK": LIVE}),
            ConsistentRead=True,
        )
        live = plain(response.get("Item", {}))
        waiting = {
            str(batch): (str(entry["rank"]), float(entry["until"]))
            for batch, entry in (live.get("waiting") or {}).items()
        }
        return WorkspaceLive(int(live.get("calls", 0)), waiting)

    def wait_for_unit(self, workspace_id: str, batch_id: str, rank: str, until: datetime) -> None:
        """Note that `batch_id` waits for a unit of the workspace's concurrency."""
        self.client.update_item(
            TableName=self.table_name,
            Key=item({"PK": workspace_pk(workspace_id), "SK": LIVE}),
            UpdateExpression="SET waiting = if_not_exists(waiting, :empty)",
            ExpressionAttributeValues=item({":empty": {}}),
        )
        self.client.update_item(
            TableName=self.table_name,
            Key=item({"PK": workspace_pk(workspace_id), "SK": LIVE}),
            UpdateExpression="SET waiting.#batch = :entry",
            ExpressionAttributeNames={"#batch": batch_id},
            ExpressionAttributeValues=item(
                {":entry": {"rank": rank, "until": int(until.timestamp())}}
            ),
        )

    def stop_waiting_for_unit(self, workspace_id: str, batch_id: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=item({"PK": workspace_pk(workspace_id), "SK": LIVE}),
                UpdateExpression="REMOVE waiting.#batch",
                ConditionExpression="attribute_exists(waiting.#batch)",
                ExpressionAttributeNames={"#batch": batch_id},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
