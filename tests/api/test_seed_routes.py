"""Each seed's own request at its own path, answered in its own shape (api-contract.md,
"Seed-compatible routes"): the curls of seeds 000, 003 and 004 with only the host, key,
ids, dates and example numbers changed. The numbers are ones the simulated provider
answers at the first attempt, so each batch runs to completion."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from batch_calls.handlers import wiring
from batch_calls.logic.admin import NewWorkspace
from local.api_gateway import LocalApiGateway
from local.demo import seed_workspace
from tests.api.client import Client, multipart
from tests.local.support import wait_until

# Answered and completed at their first attempt by the simulated provider.
US_NUMBERS = ("+14155550101", "+14155550120", "+14155550137")
INDIA_NATIONAL = "9876500100"


@pytest.fixture(scope="module")
def seeds(gateway: LocalApiGateway) -> NewWorkspace:
    """A workspace of its own, as a new user gets it: two caller numbers, one agent."""
    return seed_workspace(wiring.database(), name="Seeds")


@pytest.fixture
def seeds_client(gateway: LocalApiGateway, seeds: NewWorkspace) -> Client:
    return Client(gateway.url, seeds.api_key)


def _soon() -> str:
    return (datetime.now(UTC) + timedelta(seconds=2)).isoformat(timespec="milliseconds")


def _finished(client: Client, batch_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        batch = client.request("GET", f"/batch-calls/{batch_id}").body
        return batch if batch["status"] == "completed" else None

    return wait_until(probe, timeout=90)


# -- seed 000 (DialNexa) -------------------------------------------------------------------


def test_seed_000_curl_with_from_phone_numbers_alone_runs_to_completion(
    seeds_client: Client,
) -> None:
    csv = f"phone_number,customer_name\n{INDIA_NATIONAL},Priya\n{US_NUMBERS[0]},Jordan\n"
    form = {
        "agent_id": "agt_demo",
        "from_phone_numbers": "+912234567890,+14155550100",
        "name": "May Follow-Up Campaign",
        "max_concurrent_calls": "10",
        "retry_config": '{\n  "max_retries": 2,\n  "retry_interval_minutes": 60\n}',
    }
    body, content_type = multipart(form, {"file": ("contacts.csv", csv.encode())})
    reply = seeds_client.request(
        "POST", "/batch-calls", body=body, content_type=content_type, auth="bearer"
    )
    assert reply.status == 201, reply.body
    assert reply.body["from_phone_number"] == "+912234567890"  # national numbers: India
    assert reply.body["from_phone_numbers"] == ["+912234567890", "+14155550100"]
    assert (reply.body["priority"], reply.body["tags"]) == (5, [])  # the defaults
    batch = _finished(seeds_client, reply.body["id"])
    assert (batch["completed"], batch["failed"]) == (2, 0)


# -- seed 003 (Dialgen) --------------------------------------------------------------------


def _seed_003_body(user_id: str) -> dict[str, Any]:
    return {
        "agentId": "agt_demo",
        "userId": user_id,
        "contacts": [
            {
                "id": "contact_clx789xyz",
                "phoneNumber": US_NUMBERS[1],
                "name": "Jane Doe",
                "email": "jane@example.com",
                "company": "Acme Corp",
                "customer_name": "Jane",
                "metadata": {"lead_score": 80},
            },
            {
                "phoneNumber": US_NUMBERS[2],
                "name": "John Smith",
                "email": "john@example.com",
                "company": None,
                "customer_name": "John",
                "metadata": {"account_id": "A123"},
            },
        ],
        "options": {
            "priority": 7,
            "scheduledStartTime": _soon(),
            "timezone": "UTC",
            "maxCallsPerSecond": 10,
            "retryStrategy": {"maxAttempts": 3, "noAnswerDelay": 3600000, "busyDelay": 300000},
            "webhooks": {"onCallComplete": "https://localhost:9/webhook/dialgen/call-complete"},
            "tags": ["Q4_campaign", "high_priority"],
        },
    }


def test_seed_003_curl_is_accepted_in_its_shape_and_every_option_is_kept(
    seeds_client: Client, seeds: NewWorkspace
) -> None:
    workspace_id = seeds.workspace.workspace_id
    reply = seeds_client.request(
        "POST", "/api/v1/batch", json_body=_seed_003_body(workspace_id), auth="bearer"
    )
    assert reply.status == 201, reply.body
    accepted = reply.body
    assert accepted["success"] is True
    assert accepted["batchId"].startswith("batch_")
    assert accepted["status"] == "scheduled"
    assert accepted["message"]
    batch_id = accepted["batchId"]
    assert accepted["links"]["status"] == f"{seeds_client.base_url}/api/v1/batch/{batch_id}/status"
    assert accepted["links"]["dashboard"] == f"{seeds_client.base_url}/batch-calls/{batch_id}"

    batch = seeds_client.request("GET", f"/batch-calls/{batch_id}").body
    assert batch["priority"] == 7
    assert batch["tags"] == ["Q4_campaign", "high_priority"]
    assert batch["timezone"] == "UTC"
    assert batch["max_calls_per_second"] == 10
    assert batch["retry_config"]["max_retries"] == 2
    assert batch["retry_config"]["no_answer_wait_minutes"] == 60
    assert batch["retry_config"]["busy_wait_minutes"] == 5
    assert batch["webhooks"]["on_call_complete"].endswith("/call-complete")
    assert batch["variables"] == [
        "id",
        "name",
        "email",
        "company",
        "customer_name",
        "lead_score",
        "account_id",
    ]
    tagged = seeds_client.request("GET", "/batch-calls?tag=Q4_campaign").body["data"]
    assert [b["id"] for b in tagged] == [batch_id]
    assert seeds_client.request("GET", "/batch-calls?tag=nothing").body["data"] == []

    finished = _finished(seeds_client, batch_id)
    assert finished["completed"] == 2
    status = seeds_client.request("GET", f"/api/v1/batch/{batch_id}/status", auth="bearer")
    assert status.status == 200, status.body
    assert (status.body["status"], status.body["batchStatus"]) == ("completed", "completed")
    assert status.body["counts"]["completed"] == 2


def test_seed_003_errors_name_the_field_as_sent_in_its_shape(
    seeds_client: Client, seeds: NewWorkspace
) -> None:
    body = _seed_003_body(seeds.workspace.workspace_id)
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"options": {**body["options"], "scheduledStartTime": "2020-01-01T00:00:00Z"}},
            "options.scheduledStartTime",
        ),
        ({"options": {**body["options"], "priority": 11}}, "options.priority"),
        ({"options": {**body["options"], "priority": True}}, "options.priority"),
        ({"options": {**body["options"], "maxConcurentCalls": 2}}, "options.maxConcurentCalls"),
        ({"options": {**body["options"], "tags": ["a\x1bb"]}}, "options.tags[0]"),
        ({"userId": "ws_someone_else"}, "userId"),
        ({"agentID": "agt_demo"}, "agentID"),
    ]
    for change, field in cases:
        reply = seeds_client.request("POST", "/api/v1/batch", json_body={**body, **change})
        assert reply.status == 400, (change, reply.body)
        assert reply.body["success"] is False
        assert reply.body["field"] == field, reply.body
        assert reply.body["message"].startswith(field)
    misspelt = seeds_client.request(
        "POST", "/api/v1/batch", json_body={**body, "options": {"maxConcurentCalls": 2}}
    )
    assert "did you mean maxConcurrentCalls?" in misspelt.body["message"]
    missing = seeds_client.request("GET", "/api/v1/batch/batch_nope/status")
    assert (missing.status, missing.body["success"], missing.body["error"]) == (
        404,
        False,
        "not_found",
    )


def test_seed_003_shape_on_batch_calls_answers_in_ours(
    seeds_client: Client, seeds: NewWorkspace
) -> None:
    body = _seed_003_body(seeds.workspace.workspace_id)
    reply = seeds_client.request("POST", "/batch-calls", json_body=body)
    assert reply.status == 201, reply.body
    assert (reply.body["status"], reply.body["priority"]) == ("scheduled", 7)


# -- seed 004 (Nexus) ----------------------------------------------------------------------


def test_seed_004_stage_add_start_update_and_list(
    seeds_client: Client, seeds: NewWorkspace
) -> None:
    numbers = seeds_client.request("GET", "/phone-numbers").body["data"]
    by_number = {n["number"]: n for n in numbers}
    assert set(by_number) == {"+912234567890", "+14155550100"}
    assert by_number["+14155550100"]["country"] == "US"
    assert seeds_client.request("GET", "/phone-numbers").body["data"] == numbers  # stable ids
    us_id = by_number["+14155550100"]["id"]

    created = seeds_client.request(
        "POST",
        "/api/call/createBatch",
        json_body={
            "batchName": "API Campaign May 2025",
            "callingNumbers": [us_id],
            "retry": 3,
            "delay": 60,
            "timezone": "America/New_York",
            "callingHour": {"start": "00:00", "end": "23:59"},
            "allowedDays": [0, 1, 2, 3, 4, 5, 6],
        },
    )
    assert created.status == 201, created.body
    assert {k: created.body[k] for k in ("message", "status", "code", "errorMessage")} == {
        "message": "Batch created successfully",
        "status": True,
        "code": 201,
        "errorMessage": "",
    }
    batch_id = created.body["data"]
    batch = seeds_client.request("GET", f"/batch-calls/{batch_id}").body
    assert (batch["status"], batch["name"]) == ("draft", "API Campaign May 2025")
    assert batch["from_phone_numbers"] == ["+14155550100"]
    assert batch["retry_config"]["max_retries"] == 3
    assert batch["retry_config"]["retry_interval_minutes"] == 1
    assert batch["calling_window"]["timezone"] == "America/New_York"

    renamed = seeds_client.request(
        "POST",
        "/api/call/updateBatch",
        json_body={"batchId": batch_id, "batchName": "Renamed", "retry": 1},
    )
    assert renamed.status == 200, renamed.body
    assert (renamed.body["data"]["batchName"], renamed.body["data"]["retry"]) == ("Renamed", 1)
    contacts = [{"phoneNumber": n, "customer_name": "Sam"} for n in US_NUMBERS]
    added = seeds_client.request(
        "POST", "/api/call/addContacts", json_body={"batchId": batch_id, "contacts": contacts}
    )
    assert (added.status, added.body["data"]["totalContacts"]) == (200, 3), added.body
    started = seeds_client.request("POST", "/api/call/startBatch", json_body={"batchId": batch_id})
    assert started.status == 200, started.body
    again = seeds_client.request("POST", "/api/call/startBatch", json_body={"batchId": batch_id})
    assert (again.status, again.body["status"], again.body["code"]) == (409, False, 409)

    user_id = seeds.workspace.workspace_id
    listed = seeds_client.request("GET", f"/api/call/batches/{user_id}")
    assert listed.status == 200
    assert batch_id in [b["_id"] for b in listed.body["data"]]
    listed_batch = next(b for b in listed.body["data"] if b["_id"] == batch_id)
    assert listed_batch["callingNumbers"] == [us_id]
    assert (listed_batch["callingHour"], listed_batch["delay"]) == (
        {"start": "00:00", "end": "23:59"},
        60,
    )
    assert _finished(seeds_client, batch_id)["completed"] == 3


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"callingNumbers": ["+14155550100"]}, 400, "batchName"),
        ({"batchName": "x", "callingNumbers": []}, 400, "callingNumbers"),
        ({"batchName": "x"}, 400, "callingNumbers"),
        ({"batchName": "x", "callingNumbers": ["64e5f12345abcdef87654321"]}, 403, None),
        ({"batchName": "x", "callingNumbers": ["+14155550199"]}, 403, None),  # another's
        ({"batchName": "x", "callingNumbers": ["+14155550100"], "retry": True}, 400, "retry"),
        ({"batchName": "x", "callingNumbers": ["+14155550100"], "retries": 3}, 400, "retries"),
        (
            {"batchName": "x", "callingNumbers": ["+14155550100"], "callingHour": {}},
            400,
            "callingHour",
        ),
    ],
)
def test_seed_004_errors_in_its_shape(
    seeds_client: Client,
    other_tenant: NewWorkspace,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    reply = seeds_client.request("POST", "/api/call/createBatch", json_body=body)
    assert reply.status == status, reply.body
    assert (reply.body["status"], reply.body["code"], reply.body["data"]) == (False, status, None)
    assert reply.body["errorMessage"] == reply.body["message"]
    if field is not None:
        assert reply.body["field"] == field
        assert reply.body["message"].startswith(field)


def test_seed_004_lists_only_the_keys_own_user(
    seeds_client: Client, other_tenant: NewWorkspace
) -> None:
    reply = seeds_client.request("GET", f"/api/call/batches/{other_tenant.workspace.workspace_id}")
    assert (reply.status, reply.body["status"]) == (403, False)


def test_me_names_the_workspace_and_its_limits(seeds_client: Client, seeds: NewWorkspace) -> None:
    me = seeds_client.request("GET", "/me").body
    assert me["id"] == me["userId"] == seeds.workspace.workspace_id
    assert (me["name"], me["limits"]["max_concurrent_calls"]) == ("Seeds", 20)
    assert me["agents"] == ["agt_demo"]
    assert (me["limits"]["contact_limits"], me["limits"]["compliance_profile"]) == ([], "none")
