"""A create (or change) that is refused stores nothing: no S3 object, no item, no schedule."""

import datetime
import json
import os

import boto3

from batch_calls.handlers import wiring
from batch_calls.logic.admin import NewWorkspace
from tests.api.client import Client

# 50,000 local dates: an item far over DynamoDB's 400 KB.
DATES = [str(datetime.date(2000, 1, 1) + datetime.timedelta(days=day)) for day in range(50_000)]
HUGE_WINDOW = {"timezone": "UTC", "blackout_dates": DATES}


def stored(workspace_id: str) -> tuple[list[str], list[str]]:
    """The workspace's S3 keys and its batches' ids."""
    s3 = boto3.client("s3")
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=os.environ["BUCKET_NAME"]):
        keys += [obj["Key"] for obj in page.get("Contents", []) if workspace_id in obj["Key"]]
    batches, _ = wiring.database().list_batches(workspace_id, None, 0, 1000)
    return sorted(keys), sorted(batch.batch_id for batch in batches)


def test_refused_creates_leave_no_file_and_no_batch(client: Client, tenant: NewWorkspace) -> None:
    workspace_id = tenant.workspace.workspace_id
    before = stored(workspace_id)
    as_form = client.create({"calling_window": json.dumps(HUGE_WINDOW)})
    as_json = client.request(
        "POST",
        "/batch-calls",
        json_body={
            "agent_id": "agt_demo",
            "from_phone_number": "+912234567890",
            "calling_window": HUGE_WINDOW,
            "contacts": [{"phoneNumber": "+14155550101", "customer_name": "Jo"}],
        },
    )
    for reply in (as_form, as_json):
        assert reply.status == 400, (reply.status, reply.body)
        assert reply.body.get("field", "").startswith("calling_window"), reply.body
    assert stored(workspace_id) == before


def test_a_refused_change_leaves_the_batch_as_it_was(client: Client) -> None:
    batch = client.create({"start": "false"}).body
    path = f"/batch-calls/{batch['id']}"
    reply = client.request("PATCH", path, json_body={"calling_window": HUGE_WINDOW})
    assert reply.status == 400, (reply.status, reply.body)
    assert reply.body["field"].startswith("calling_window")
    assert client.request("GET", path).body["calling_window"] == batch["calling_window"]
