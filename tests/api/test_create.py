"""Creating batches through the local API: multipart, JSON, uploads, drafts, idempotency."""

import re
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.client import CSV, Client, multipart
from tests.local.support import wait_until


def _batch_count(client: Client) -> int:
    return int(client.request("GET", "/batch-calls?limit=1").body["meta"]["total"])


def test_seed_000_curl_creates_a_batch_with_the_seeds_fields(client: Client) -> None:
    reply = client.create(
        {
            "name": "May Follow-Up Campaign",
            "max_concurrent_calls": "10",
            "retry_config": '{\n  "max_retries": 2,\n  "retry_interval_minutes": 60\n}',
        }
    )
    assert reply.status == 201, reply.body
    batch = reply.body
    assert batch["id"].startswith("batch_")
    assert batch["name"] == "May Follow-Up Campaign"
    assert batch["status"] == "initiated"
    assert batch["total_leads"] == 3
    assert (batch["completed"], batch["failed"], batch["skipped"]) == (0, 0, 0)
    assert batch["agent_id"] == "agt_demo"
    assert batch["created_at"].endswith("Z")
    assert batch["max_concurrent_calls"] == 10
    assert batch["retry_config"]["max_retries"] == 2
    assert batch.pop("warnings") == []  # the upload's, in the create response only
    assert client.request("GET", f"/batch-calls/{batch['id']}").body == batch


def test_recipients_are_loaded_after_the_response_with_their_variables(client: Client) -> None:
    batch = client.create().body
    path = f"/batch-calls/{batch['id']}/recipients"
    rows = wait_until(lambda: client.request("GET", path).body["data"])
    assert [(r["row"], r["phone_number"], r["status"]) for r in rows] == [
        (2, "+919876543210", "pending"),
        (3, "+919123456789", "pending"),
        (4, "+14155550101", "pending"),
    ]
    assert rows[0]["variables"] == {"customer_name": "Priya Sharma", "loan_amount": "500000"}
    assert rows[0]["attempts_made"] == 0


def test_a_scheduled_batch_starts_scheduled(client: Client) -> None:
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    batch = client.create({"scheduled_at": later}).body
    assert batch["status"] == "scheduled"
    assert batch["scheduled_at"].startswith(later[:16])


def test_invalid_rows_get_the_contracts_400_and_nothing_is_stored(client: Client) -> None:
    before = _batch_count(client)
    reply = client.create(csv="phone_number,customer_name\n12345,A\n+44 20 7946 0958,B\n")
    assert reply.status == 400
    assert reply.body["error"] == "validation_failed"
    assert reply.body["message"] == "2 of 2 rows failed validation"
    reasons = {e["reason"]: e for e in reply.body["errors"]}
    assert reasons["invalid_phone_number"]["rows"] == [2]
    assert reasons["unsupported_country"]["countries"] == ["GB"]
    assert _batch_count(client) == before


def test_skip_mode_stores_invalid_rows_as_skipped(client: Client) -> None:
    batch = client.create(
        {"on_invalid_rows": "skip"}, csv="phone_number,customer_name\n12345,A\n9876543210,B\n"
    ).body
    assert (batch["total_leads"], batch["skipped"], batch["counts"]["pending"]) == (2, 1, 1)
    path = f"/batch-calls/{batch['id']}/recipients?status=skipped"
    rows = wait_until(lambda: client.request("GET", path).body["data"])
    assert [(r["row"], r["skip_reason"]) for r in rows] == [(2, "invalid_phone_number")]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"max_concurrent_calls": "0"}, "max_concurrent_calls"),
        ({"max_concurrent_calls": "ten"}, "max_concurrent_calls"),
        ({"max_concurrent_calls": "21"}, "max_concurrent_calls"),  # the workspace allows 20
        ({"agent_id": "agt_nobody"}, "agent_id"),
        ({"from_phone_number": "+14155550199"}, "from_phone_number"),  # another workspace's
        ({"from_phone_number": "12"}, "from_phone_number"),
        ({"scheduled_at": "2020-01-01T00:00:00Z"}, "scheduled_at"),
        ({"scheduled_at": "2030-01-01T09:00:00"}, "scheduled_at"),  # no offset
        ({"scheduled_at": "next tuesday"}, "scheduled_at"),
        ({"retry_config": "{not json"}, "retry_config"),
        ({"retry_config": '{"max_retries": 99}'}, "retry_config.max_retries"),
        ({"retry_config": '{"retries": 2}'}, "retry_config.retries"),
        ({"calling_window": '{"timezone": "Mars/Olympus"}'}, "calling_window.timezone"),
        ({"on_invalid_rows": "ignore"}, "on_invalid_rows"),
    ],
)
def test_every_bad_field_is_a_400_naming_it(
    client: Client, fields: dict[str, str], field: str
) -> None:
    before = _batch_count(client)
    reply = client.create(fields)
    assert reply.status == 400, reply.body
    assert reply.body["error"] == "invalid_request"
    assert reply.body["field"] == field
    assert reply.body["message"].startswith(field)
    assert _batch_count(client) == before


def test_prompt_variables_without_a_column_are_named(client: Client) -> None:
    reply = client.create(csv="phone_number,name\n9876543210,Priya\n")
    assert reply.status == 400
    assert reply.body["error"] == "missing_variables"
    assert reply.body["missing"] == ["customer_name"]


def test_validate_checks_the_create_request_and_stores_nothing(client: Client) -> None:
    before = _batch_count(client)
    preview = client.create(path="/batch-calls/validate")
    assert preview.status == 200, preview.body
    assert preview.body["valid"] is True
    assert (preview.body["total_rows"], preview.body["accepted_rows"]) == (3, 3)
    assert preview.body["variables"] == ["customer_name", "loan_amount"]
    assert preview.body["agent_placeholders"] == ["customer_name"]
    assert preview.body["countries"] == {"IN": 2, "US": 1}
    # The create request's 400s, word for word.
    bad_file = "phone_number,customer_name\n12345,A\n"
    rejected = client.create(csv=bad_file, path="/batch-calls/validate")
    assert rejected.status == 400
    assert rejected.body == client.create(csv=bad_file).body
    bad_field = client.create({"max_concurrent_calls": "0"}, path="/batch-calls/validate")
    assert (bad_field.status, bad_field.body["field"]) == (400, "max_concurrent_calls")
    assert _batch_count(client) == before


def test_a_file_is_required_unless_staging_a_draft(client: Client) -> None:
    body, content_type = multipart({"agent_id": "agt_demo", "from_phone_number": "+912234567890"})
    reply = client.request("POST", "/batch-calls", body=body, content_type=content_type)
    assert (reply.status, reply.body["field"]) == (400, "file")


def test_json_contacts_in_seed_003_shape(client: Client) -> None:
    reply = client.request(
        "POST",
        "/batch-calls",
        json_body={
            "agentId": "agt_demo",
            "fromPhoneNumber": "+14155550100",
            "contacts": [
                {"phoneNumber": "+14155550101", "customer_name": "Jane", "metadata": {"score": 80}},
                {"phoneNumber": "(650) 555-0199", "customer_name": "John", "company": None},
            ],
            "options": {
                "scheduledStartTime": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                "retryStrategy": {"maxAttempts": 3, "noAnswerDelay": 3600000, "busyDelay": 300000},
                "tags": ["q4"],
            },
        },
    )
    assert reply.status == 201, reply.body
    batch = reply.body
    assert (batch["status"], batch["total_leads"]) == ("scheduled", 2)
    assert batch["retry_config"]["max_retries"] == 2
    assert batch["retry_config"]["no_answer_wait_minutes"] == 60
    assert batch["retry_config"]["busy_wait_minutes"] == 5
    assert batch["variables"] == ["customer_name", "score", "company"]


def test_staged_batch_draft_add_contacts_then_start(client: Client) -> None:
    body, content_type = multipart(
        {"agent_id": "agt_demo", "from_phone_number": "+912234567890", "start": "false"}
    )
    draft = client.request("POST", "/batch-calls", body=body, content_type=content_type).body
    assert (draft["status"], draft["total_leads"]) == ("draft", 0)
    path = f"/batch-calls/{draft['id']}"
    assert client.request("POST", f"{path}/start").status == 409  # nothing to call yet

    for csv in (CSV, "phone_number,customer_name\n9988776655,Asha\n"):
        files = {"file": ("more.csv", csv.encode())}
        body, content_type = multipart({}, files)
        added = client.request("POST", f"{path}/contacts", body=body, content_type=content_type)
        assert added.status == 200, added.body
    assert added.body["total_leads"] == 4
    started = client.request("POST", f"{path}/start")
    assert (started.status, started.body["status"]) == (200, "initiated")

    rows = wait_until(
        lambda: (
            (data := client.request("GET", f"{path}/recipients").body["data"])
            and len(data) == 4
            and data
        )
    )
    assert [(r["part"], r["row"]) for r in rows] == [(1, 2), (1, 3), (1, 4), (2, 2)]
    body, content_type = multipart({}, {"file": ("late.csv", CSV.encode())})
    late = client.request("POST", f"{path}/contacts", body=body, content_type=content_type)
    assert (late.status, late.body["error"]) == (409, "invalid_state")


def test_idempotency_key_returns_the_first_response_and_refuses_another_body(
    client: Client,
) -> None:
    headers = {"Idempotency-Key": "create-" + datetime.now(UTC).isoformat()}
    first = client.create({"name": "Once"}, headers=headers)
    again = client.create({"name": "Once"}, headers=headers)
    assert first.status == again.status == 201
    assert again.body["id"] == first.body["id"]
    different = client.create({"name": "Something else"}, headers=headers)
    assert different.status == 409
    assert "Idempotency-Key" in different.body["message"]


def test_large_files_go_through_a_presigned_upload(client: Client) -> None:
    upload = client.request("POST", "/batch-calls/uploads")
    assert upload.status == 201, upload.body
    post = upload.body
    # Times are written as everywhere in the API: UTC, milliseconds, "Z".
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", post["expires_at"])
    body, content_type = multipart(post["fields"], {"file": ("contacts.csv", CSV.encode())})
    request = urllib.request.Request(
        post["url"], data=body, method="POST", headers={"Content-Type": content_type}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status in (200, 204)

    form, content_type = multipart(
        {
            "agent_id": "agt_demo",
            "from_phone_number": "+912234567890",
            "upload_id": post["upload_id"],
        }
    )
    created = client.request("POST", "/batch-calls", body=form, content_type=content_type)
    assert created.status == 201, created.body
    assert created.body["total_leads"] == 3

    form, content_type = multipart(
        {"agent_id": "agt_demo", "from_phone_number": "+912234567890", "upload_id": "upl_nothing"}
    )
    missing = client.request("POST", "/batch-calls", body=form, content_type=content_type)
    assert (missing.status, missing.body["field"]) == (400, "upload_id")


def test_a_body_too_large_for_lambda_gets_api_gateways_413_documented_with_the_upload_flow(
    client: Client,
) -> None:
    """The function never sees such a request, in AWS as here: the answer is API
    Gateway's own, and the API's document says what to do instead."""
    reply = client.create(csv=b"phone_number\n" + b"9876543210\n" * 500_000)  # 5.5 MB
    assert (reply.status, reply.body) == (413, {"message": "Request Too Long"})
    document = client.request("GET", "/openapi.json").body
    answer = document["paths"]["/batch-calls"]["post"]["responses"]["413"]["description"]
    assert "Request Too Long" in answer and "/batch-calls/uploads" in answer


def test_the_caller_number_defaults_to_the_workspaces_only_number(other_client: Client) -> None:
    body, content_type = multipart(
        {"agent_id": "agt_demo"}, {"file": ("c.csv", b"phone_number,customer_name\n4155550123,A\n")}
    )
    reply = other_client.request("POST", "/batch-calls", body=body, content_type=content_type)
    assert reply.status == 201, reply.body
    assert reply.body["from_phone_number"] == "+14155550199"
