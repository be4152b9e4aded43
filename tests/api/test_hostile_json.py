"""JSON bodies that try to break the parser: a 400 naming the problem on every JSON route,
never a 5xx nor Python's own message."""

import pytest

from batch_calls.logic.admin import NewWorkspace
from local.api_gateway import LocalApiGateway
from tests.api.client import Client

HUGE_INTEGER = b'{"agentId": "agt_demo", "options": {"maxConcurrentCalls": ' + b"9" * 5000 + b"}}"
DEEP = b"[" * 100_000 + b"]" * 100_000
INFINITE = b'{"max_concurrent_calls": 1e999}'


@pytest.fixture(scope="module")
def draft(client_for_module: Client) -> str:
    reply = client_for_module.create({"start": "false"})
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


@pytest.fixture(scope="module")
def client_for_module(gateway: LocalApiGateway, tenant: NewWorkspace) -> Client:
    return Client(gateway.url, tenant.api_key)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (HUGE_INTEGER, "integer of more than 64 digits"),
        (DEEP, "nested too deeply"),
        (INFINITE, "number too large"),
        (b'{"name": NaN}', "NaN"),
        # Half a character: DynamoDB (and moto, with a 502) cannot store it.
        (b'{"name": "\\ud800"}', "lone surrogate"),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/batch-calls"),
        ("PATCH", "/batch-calls/{draft}"),
        ("POST", "/batch-calls/{draft}/contacts"),
        ("POST", "/suppression-list"),
    ],
)
def test_every_json_route_refuses_hostile_json_with_a_400(
    client_for_module: Client, draft: str, method: str, path: str, *, body: bytes, problem: str
) -> None:
    reply = client_for_module.request(
        method, path.format(draft=draft), body=body, content_type="application/json"
    )
    assert reply.status == 400, (reply.status, reply.body)
    assert reply.body["field"] == "body"
    assert problem in reply.body["message"]
    assert "sys.set_int_max_str_digits" not in reply.body["message"]
