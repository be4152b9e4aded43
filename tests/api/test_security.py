"""Keys, tenancy and malformed requests: invariants 7 and 8 of architecture.md."""

import json

import pytest

from batch_calls.domain.workspace import hash_api_key
from batch_calls.handlers import wiring
from batch_calls.logic.admin import NewWorkspace
from local.api_gateway import LocalApiGateway
from tests.api.client import Client


def test_missing_or_unknown_keys_are_401(gateway: LocalApiGateway) -> None:
    for key in (None, "bck_not-a-key"):
        reply = Client(gateway.url, key).request("GET", "/batch-calls")
        assert reply.status == 401


def test_bearer_works_and_x_api_key_wins_over_it(
    gateway: LocalApiGateway, tenant: NewWorkspace, other_tenant: NewWorkspace
) -> None:
    bearer = Client(gateway.url, tenant.api_key).request("GET", "/batch-calls", auth="bearer")
    assert bearer.status == 200
    both = Client(gateway.url, tenant.api_key).request(
        "GET", "/batch-calls", headers={"Authorization": f"Bearer {other_tenant.api_key}"}
    )
    mine = Client(gateway.url, tenant.api_key).request("GET", "/batch-calls")
    assert both.body["meta"]["total"] == mine.body["meta"]["total"]


def test_keys_are_stored_only_as_hashes(tenant: NewWorkspace) -> None:
    items = wiring.database().table.scan()["Items"]
    text = json.dumps(items, default=str)
    assert tenant.api_key not in text
    assert hash_api_key(tenant.api_key) in text


def test_another_workspaces_batch_is_404_and_unchanged(
    client: Client, other_client: Client
) -> None:
    batch = client.create().body
    path = f"/batch-calls/{batch['id']}"
    for method, suffix in (
        ("GET", ""),
        ("GET", "/recipients"),
        ("POST", "/pause"),
        ("POST", "/cancel"),
        ("PATCH", ""),
    ):
        reply = other_client.request(
            method, path + suffix, json_body={} if method == "PATCH" else None
        )
        assert (reply.status, reply.body["error"]) == (404, "not_found")
    after = client.request("GET", path).body
    assert after["status"] not in ("paused", "cancelled")  # the batch runs on by itself
    settings = ("name", "max_concurrent_calls", "retry_config", "calling_window", "agent_id")
    assert {k: after[k] for k in settings} == {k: batch[k] for k in settings}
    listed = other_client.request("GET", "/batch-calls?limit=100").body["data"]
    assert batch["id"] not in [b["id"] for b in listed]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"agentId": "agt_demo", "contacts": "x"}', "application/json"),
        (b"--x\r\nnot a part", "multipart/form-data"),  # no boundary
        (b"garbage", "multipart/form-data; boundary=zzz"),
        (b"\xff\xfe\x00", "multipart/form-data; boundary=zzz"),
        (b"agent_id=agt_demo", "application/x-www-form-urlencoded"),
        (b"hello", "text/plain"),
    ],
)
def test_malformed_bodies_are_4xx_never_5xx(client: Client, body: bytes, content_type: str) -> None:
    reply = client.request("POST", "/batch-calls", body=body, content_type=content_type)
    assert 400 <= reply.status < 500, (reply.status, reply.body)
    assert isinstance(reply.body, dict)
    assert reply.body.get("message")


def test_openapi_document_is_public_and_lists_the_routes(gateway: LocalApiGateway) -> None:
    reply = Client(gateway.url, None).request("GET", "/openapi.json")
    assert reply.status == 200
    paths = reply.body["paths"]
    assert {"/batch-calls", "/batch-calls/{batch_id}", "/batch-calls/{batch_id}/recipients"} <= set(
        paths
    )
    assert "multipart/form-data" in json.dumps(paths["/batch-calls"]["post"])
