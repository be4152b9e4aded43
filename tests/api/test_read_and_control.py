"""Reading batches and recipients, and pause / resume / cancel / PATCH."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from tests.api.client import Client
from tests.local.support import wait_until


def _created(client: Client, **fields: str) -> dict[str, object]:
    reply = client.create(fields)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def test_list_is_newest_first_with_page_meta_and_status_filter(client: Client) -> None:
    ids = [_created(client, name=f"list {i}")["id"] for i in range(3)]
    page = client.request("GET", "/batch-calls?page=1&limit=2").body
    assert [b["id"] for b in page["data"]] == ids[::-1][:2]
    meta = page["meta"]
    assert (meta["page"], meta["limit"]) == (1, 2)
    assert meta["totalPages"] == -(-meta["total"] // 2)
    second = client.request("GET", "/batch-calls?page=2&limit=2").body
    assert second["data"][0]["id"] == ids[0]

    client.request("POST", f"/batch-calls/{ids[1]}/pause")
    paused = client.request("GET", "/batch-calls?status=paused&limit=100").body["data"]
    assert ids[1] in [b["id"] for b in paused]
    assert all(b["status"] == "paused" for b in paused)


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=101", "limit"), ("page=0", "page"), ("status=lost", "status")],
)
def test_list_parameters_out_of_range_are_400(client: Client, query: str, field: str) -> None:
    reply = client.request("GET", f"/batch-calls?{query}")
    assert (reply.status, reply.body["field"]) == (400, field)


def test_recipients_page_with_a_cursor_in_file_order(client: Client) -> None:
    rows = "".join(f"98765432{i:02d},Name {i}\n" for i in range(25))
    batch = client.create(csv="phone_number,customer_name\n" + rows).body
    path = f"/batch-calls/{batch['id']}/recipients"
    wait_until(lambda: len(client.request("GET", f"{path}?limit=1000").body["data"]) == 25)

    seen: list[int] = []
    cursor = ""
    while True:
        page = client.request("GET", f"{path}?limit=10&cursor={cursor}").body
        seen += [r["row"] for r in page["data"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == list(range(2, 27))

    assert client.request("GET", f"{path}?cursor=bm90LWEtY3Vyc29y").body["field"] == "cursor"
    assert client.request("GET", f"{path}?status=flying").status == 400


def test_pause_resume_cancel_follow_the_lifecycle(client: Client) -> None:
    batch = _created(client)
    path = f"/batch-calls/{batch['id']}"
    assert client.request("POST", f"{path}/resume").status == 409  # not paused
    assert client.request("POST", f"{path}/pause").body["status"] == "paused"
    assert client.request("POST", f"{path}/resume").body["status"] == "running"
    cancelled = client.request("POST", f"{path}/cancel").body
    assert cancelled["status"] == "cancelled"
    assert cancelled["finished_at"] is not None
    for action, done in (
        ("pause", "paused"),
        ("resume", "resumed"),
        ("cancel", "cancelled"),
        ("start", "started"),
    ):
        reply = client.request("POST", f"{path}/{action}")
        assert (reply.status, reply.body["status"]) == (409, "cancelled")
        assert reply.body["message"].startswith(f"a batch can be {done} only when")


def test_a_patch_of_caller_numbers_names_the_field_it_was_sent(client: Client) -> None:
    path = f"/batch-calls/{_created(client)['id']}"
    client.request("POST", f"{path}/pause")
    reply = client.request("PATCH", path, json_body={"from_phone_numbers": ["+14155550123"]})
    assert (reply.status, reply.body["field"]) == (400, "from_phone_numbers")


def test_patch_changes_settings_only_while_paused_or_scheduled(client: Client) -> None:
    batch = _created(client, max_concurrent_calls="2")
    path = f"/batch-calls/{batch['id']}"
    change = {"max_concurrent_calls": 7, "retry_config": {"max_retries": 3}}
    refused = client.request("PATCH", path, json_body=change)
    assert (refused.status, refused.body["error"]) == (409, "invalid_state")

    client.request("POST", f"{path}/pause")
    changed = client.request("PATCH", path, json_body=change)
    assert changed.status == 200, changed.body
    assert changed.body["max_concurrent_calls"] == 7
    assert changed.body["retry_config"]["max_retries"] == 3
    assert changed.body["name"] == batch["name"]

    for bad, field in (
        ({"agent_id": "agt_other"}, "agent_id"),
        ({"max_concurrent_calls": 0}, "max_concurrent_calls"),
        ({"max_concurrent_calls": 500}, "max_concurrent_calls"),
        ({"calling_window": {"start": "25:00"}}, "calling_window.start"),
    ):
        reply = client.request("PATCH", path, json_body=bad)
        assert (reply.status, reply.body["field"]) == (400, field), reply.body
    assert client.request("GET", path).body["max_concurrent_calls"] == 7


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
def test_a_json_route_says_to_send_json(client: Client, content_type: str | None) -> None:
    """A JSON body sent without its Content-Type (curl -d sends a form) is a 415 that says
    what to send, not a 400 about a field named after the JSON text."""
    batch = _created(client)
    path = f"/batch-calls/{batch['id']}"
    client.request("POST", f"{path}/pause")
    body = json.dumps({"max_concurrent_calls": 3}).encode()
    for method, route in (("PATCH", path), ("POST", "/suppression-list")):
        reply = client.request(method, route, body=body, content_type=content_type)
        assert reply.status == 415, (method, reply.body)
        assert reply.body["error"] == "unsupported_media_type"
        assert "application/json" in reply.body["message"]
        assert "multipart" not in reply.body["message"]
    assert client.request("GET", path).body["max_concurrent_calls"] == batch["max_concurrent_calls"]


def test_unknown_batch_is_404(client: Client) -> None:
    for method, path in (
        ("GET", "/batch-calls/batch_nope"),
        ("GET", "/batch-calls/batch_nope/recipients"),
        ("POST", "/batch-calls/batch_nope/pause"),
        ("PATCH", "/batch-calls/batch_nope"),
    ):
        reply = client.request(method, path, json_body={} if method == "PATCH" else None)
        assert (reply.status, reply.body["error"]) == (404, "not_found"), (method, path)


def test_a_batch_paused_before_its_start_resumes_as_scheduled(client: Client) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    batch = _created(client, scheduled_at=later)
    path = f"/batch-calls/{batch['id']}"
    assert client.request("POST", f"{path}/pause").body["status"] == "paused"
    assert client.request("POST", f"{path}/resume").body["status"] == "scheduled"
    assert client.request("GET", path).body["counts"]["in_progress"] == 0


def test_the_suppression_list_is_searched_by_number_prefix(client: Client) -> None:
    numbers = ["+14155550181", "+14155550182", "+12125550183"]
    added = client.request("POST", "/suppression-list", json_body={"phone_numbers": numbers})
    assert added.status == 200, added.body
    search = "/suppression-list?prefix=" + quote("+1415555018")
    assert [e["phone_number"] for e in client.request("GET", search).body["data"]] == numbers[:2]
    first = client.request("GET", f"{search}&limit=1").body
    second = client.request("GET", f"{search}&limit=1&cursor={quote(first['next_cursor'])}").body
    assert [first["data"][0]["phone_number"], second["data"][0]["phone_number"]] == numbers[:2]
    bad = client.request("GET", "/suppression-list?prefix=1415")
    assert (bad.status, bad.body["field"]) == (400, "prefix")
