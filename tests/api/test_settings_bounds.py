"""Every setting is bounded where it is described (domain.batch.BatchSettings), whichever
shape sends it: lengths, list sizes, control characters, strict types, no empty window,
no unknown field. Each is a 400 naming the field as the caller sent it, and stores
nothing."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.client import Client, multipart

JSON_BASE = {
    "agent_id": "agt_demo",
    "from_phone_number": "+912234567890",
    "contacts": [{"phoneNumber": "9876543210", "customer_name": "Priya"}],
}


def _total(client: Client) -> int:
    return int(client.request("GET", "/batch-calls?limit=1").body["meta"]["total"])


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"name": "May\x00Campaign"}, "name", "control characters"),
        ({"name": "May\x1b[31mCampaign"}, "name", "control characters"),
        ({"name": "May\r\nInjected: yes"}, "name", "control characters"),
        ({"name": "x" * 201}, "name", "200"),
        ({"agent_id": "agt\x00demo"}, "agent_id", "control characters"),
        ({"retry_config": {"max_retries": True}}, "retry_config.max_retries", "integer"),
        ({"retry_config": {"retry_on_busy": "yes"}}, "retry_config.retry_on_busy", "boolean"),
        ({"max_concurrent_calls": True}, "max_concurrent_calls", "integer"),
        ({"max_concurrent_calls": "5"}, "max_concurrent_calls", "integer"),
        ({"priority": 2.5}, "priority", "integer"),
        ({"dedupe": "false"}, "dedupe", "boolean"),
        ({"calling_window": {}}, "calling_window", "empty"),
        (
            {
                "calling_window": {
                    "start": "09:00",
                    "end": "17:00",
                    "blackout_dates": ["2026-12-25"] * 367,
                }
            },
            "calling_window.blackout_dates",
            "366",
        ),
        (
            {"calling_window": {"start": "09:00", "end": "17:00", "days": [True]}},
            "calling_window.days[0]",
            "integer",
        ),
        ({"tags": ["x"] * 21}, "tags", "20"),
        ({"tags": ["t" * 65]}, "tags[0]", "64"),
        ({"tags": ["ok", "bad\nline"]}, "tags[1]", "control characters"),
        ({"from_phone_numbers": ["+1" + "4" * 40]}, "from_phone_numbers[0]", "32"),
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA"),
        ({"max_concurent_calls": 5}, "max_concurent_calls", "did you mean max_concurrent_calls?"),
        ({"start": "no"}, "start", "true or false"),
    ],
)
def test_a_json_create_out_of_bounds_is_a_400_naming_the_field(
    client: Client, change: dict[str, Any], field: str, says: str
) -> None:
    before = _total(client)
    reply = client.request("POST", "/batch-calls", json_body={**JSON_BASE, **change})
    assert reply.status == 400, reply.body
    assert (reply.body["error"], reply.body["field"]) == ("invalid_request", field), reply.body
    assert reply.body["message"].startswith(f"{field}: ")
    assert says in reply.body["message"]
    assert _total(client) == before


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"max_concurent_calls": "5"}, "max_concurent_calls", "did you mean max_concurrent_calls?"),
        ({"name": "a\x1bb"}, "name", "control characters"),
        ({"retry_config": '{"max_retries": true}'}, "retry_config.max_retries", "integer"),
        ({"calling_window": "{}"}, "calling_window", "empty"),
        ({"priority": "11"}, "priority", "10"),
        ({"dedupe": "maybe"}, "dedupe", "true or false"),
    ],
)
def test_a_form_out_of_bounds_is_a_400_naming_the_field(
    client: Client, fields: dict[str, str], field: str, says: str
) -> None:
    reply = client.create(fields)
    assert reply.status == 400, reply.body
    assert reply.body["field"] == field, reply.body
    assert says in reply.body["message"]


def test_the_form_defaults_are_the_descriptions(client: Client) -> None:
    batch = client.create().body
    assert batch["max_concurrent_calls"] == 1
    assert batch["retry_config"]["max_retries"] == 0
    assert (batch["priority"], batch["tags"], batch["timezone"]) == (5, [], None)
    assert (batch["on_invalid_rows"], batch["dedupe"]) == ("reject", True)


def test_a_form_without_agent_id_is_refused(client: Client) -> None:
    body, content_type = multipart(
        {"from_phone_number": "+912234567890"}, {"file": ("c.csv", b"phone_number\n9876543210\n")}
    )
    reply = client.request("POST", "/batch-calls", body=body, content_type=content_type)
    assert (reply.status, reply.body["field"]) == (400, "agent_id")


def test_a_scheduled_at_without_offset_is_read_in_the_batchs_timezone(client: Client) -> None:
    day = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    reply = client.create(
        {"scheduled_at": f"{day}T09:00:00", "timezone": "Asia/Kolkata", "start": "false"}
    )
    assert reply.status == 201, reply.body
    assert reply.body["scheduled_at"] == f"{day}T03:30:00.000Z"
    window = json.dumps({"start": "09:00", "end": "17:00"})
    zoned = client.create({"calling_window": window, "timezone": "Asia/Kolkata"}).body
    assert zoned["calling_window"]["timezone"] == "Asia/Kolkata"


def test_patch_names_the_fields_as_sent(client: Client) -> None:
    batch = client.create({"start": "false"}).body
    path = f"/batch-calls/{batch['id']}"
    another = client.request("PATCH", path, json_body={"from_phone_numbers": ["+14155550199"]})
    assert (another.status, another.body["field"]) == (400, "from_phone_numbers"), another.body
    misspelt = client.request("PATCH", path, json_body={"max_concurrent_call": 2})
    assert misspelt.body["field"] == "max_concurrent_call"
    assert "did you mean max_concurrent_calls?" in misspelt.body["message"]
    fixed = client.request("PATCH", path, json_body={"agent_id": "agt_demo"})
    assert (fixed.status, fixed.body["field"]) == (400, "agent_id")
    tagged = client.request("PATCH", path, json_body={"tags": ["later"], "priority": 9})
    assert (tagged.status, tagged.body["tags"], tagged.body["priority"]) == (200, ["later"], 9)


def test_json_contacts_are_named_by_their_index(client: Client) -> None:
    contacts = [{"phoneNumber": "9876543210", "customer_name": "A"}, "not a contact"]
    reply = client.request("POST", "/batch-calls", json_body={**JSON_BASE, "contacts": contacts})
    assert reply.status == 400, reply.body
    assert "contacts[1]" in json.dumps(reply.body)


def test_json_contacts_that_fail_validation_are_named_by_index(client: Client) -> None:
    contacts = [
        {"phoneNumber": "9876543210", "customer_name": "A"},
        {"phoneNumber": "12345", "customer_name": "B"},
    ]
    reply = client.request("POST", "/batch-calls", json_body={**JSON_BASE, "contacts": contacts})
    assert reply.status == 400, reply.body
    assert reply.body["message"] == "1 of 2 contacts failed validation (the first: contacts[1])"
    assert reply.body["errors"][0]["contacts"] == [1]
