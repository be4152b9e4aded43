"""The S3 drop: a file under incoming/ becomes the same batch the API would create."""

import json
from typing import Any

from batch_calls.handlers import wiring
from batch_calls.logic.admin import NewWorkspace
from local.aws import EmbeddedAws
from tests.api.client import CSV, Client
from tests.local.support import wait_until

METADATA = {"agent-id": "agt_demo", "from-phone-number": "+912234567890", "name": "Dropped"}


def _drop(aws: EmbeddedAws, key: str, body: bytes, metadata: dict[str, str]) -> None:
    aws.client("s3").put_object(Bucket=wiring.blobs().bucket, Key=key, Body=body, Metadata=metadata)


def _dropped_batches(client: Client) -> list[dict[str, object]]:
    batches = client.request("GET", "/batch-calls?limit=100").body["data"]
    return [b for b in batches if b["name"] == "Dropped"]


def test_a_dropped_file_creates_one_batch_even_when_delivered_twice(
    aws: EmbeddedAws, tenant: NewWorkspace, client: Client
) -> None:
    key = f"incoming/{tenant.workspace.workspace_id}/contacts.csv"
    _drop(aws, key, CSV.encode(), METADATA)
    batch = wait_until(lambda: _dropped_batches(client))[0]
    assert batch["total_leads"] == 3
    assert batch["from_phone_number"] == "+912234567890"

    # The same notification again (SQS delivers at least once).
    queue = aws.resources["DropQueue"].url
    head = aws.client("s3").head_object(Bucket=wiring.blobs().bucket, Key=key)
    event = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"object": {"key": key, "etag": head["ETag"].strip('"')}},
    }
    aws.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(event))
    wait_until(lambda: not _queue_busy(aws, queue), timeout=15)
    assert len(_dropped_batches(client)) == 1


def _rejection(aws: EmbeddedAws, key: str) -> dict[str, Any]:
    s3 = aws.client("s3")
    bucket = wiring.blobs().bucket

    def rejection() -> dict[str, Any] | None:
        try:
            body = s3.get_object(Bucket=bucket, Key=f"rejected/{key}.errors.json")["Body"]
        except s3.exceptions.NoSuchKey:
            return None
        return dict(json.loads(body.read()))

    return wait_until(rejection, timeout=15)


def test_a_rejected_drop_gets_the_apis_400_body_beside_it(
    aws: EmbeddedAws, tenant: NewWorkspace
) -> None:
    metadata = {**METADATA, "workspace-id": tenant.workspace.workspace_id}
    _drop(aws, "incoming/bad-list.csv", b"phone_number,customer_name\n12345,A\n", metadata)
    body = _rejection(aws, "bad-list.csv")
    assert body["error"] == "validation_failed"
    assert body["errors"][0]["reason"] == "invalid_phone_number"
    assert body["errors"][0]["rows"] == [2]


def test_drop_metadata_is_read_by_the_settings_description(
    aws: EmbeddedAws, tenant: NewWorkspace, client: Client
) -> None:
    folder = f"incoming/{tenant.workspace.workspace_id}"
    typed = {**METADATA, "name": "Dropped", "priority": "8", "tags": "a,b", "dedupe": "false"}
    _drop(aws, f"{folder}/typed.csv", CSV.encode(), typed)
    batch = wait_until(lambda: [b for b in _dropped_batches(client) if b["priority"] == 8])[0]
    assert (batch["tags"], batch["dedupe"]) == (["a", "b"], False)

    _drop(aws, f"{folder}/misspelt.csv", CSV.encode(), {**METADATA, "max-concurent-calls": "5"})
    body = _rejection(aws, f"{tenant.workspace.workspace_id}/misspelt.csv")
    assert body["field"] == "max-concurent-calls"
    assert body["message"].endswith("did you mean max-concurrent-calls?")


def _queue_busy(aws: EmbeddedAws, queue: str) -> bool:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return any(int(value) for value in attributes.values())
