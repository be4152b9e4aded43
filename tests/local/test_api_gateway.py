"""The local API Gateway: proxy events, the REQUEST authorizer, limits and errors."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import uuid
from typing import Any

import pytest

from local.api_gateway import MAX_REQUEST_BYTES, TOO_LONG, LocalApiGateway
from tests.local import fake_handlers

GOOD = {"x-api-key": "good"}


def request(
    gateway: LocalApiGateway,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes, http.client.HTTPResponse]:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), data, response
    finally:
        connection.close()


def echoed(
    gateway: LocalApiGateway,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    auth: dict[str, str] = GOOD,
) -> dict[str, Any]:
    """The proxy event the api function received."""
    status, _, data, _ = request(gateway, method, path, body, {**auth, **(headers or {})})
    assert status == 200, data
    event: dict[str, Any] = json.loads(data)["event"]
    return event


def test_get_with_query_parameters(gateway: LocalApiGateway) -> None:
    event = echoed(gateway, "GET", "/batch-calls/b_1?status=a&status=b&limit=5&empty=")
    assert event["resource"] == "/{proxy+}"
    assert event["path"] == "/batch-calls/b_1"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"proxy": "batch-calls/b_1"}
    assert event["queryStringParameters"] == {"status": "b", "limit": "5", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {
        "status": ["a", "b"],
        "limit": ["5"],
        "empty": [""],
    }
    assert event["headers"]["x-api-key"] == "good"
    assert event["multiValueHeaders"]["x-api-key"] == ["good"]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "local"
    assert context["httpMethod"] == "GET"
    assert context["path"] == "/batch-calls/b_1"
    assert context["resourcePath"] == "/{proxy+}"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert isinstance(context["requestTimeEpoch"], int)
    uuid.UUID(context["requestId"])


def test_absent_query_string_is_none(gateway: LocalApiGateway) -> None:
    event = echoed(gateway, "GET", "/batch-calls")
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


def test_the_authorizer_context_reaches_the_function(gateway: LocalApiGateway) -> None:
    event = echoed(
        gateway, "GET", "/batch-calls", headers={"x-api-key": "", "Authorization": "Bearer good"}
    )
    authorizer = event["requestContext"]["authorizer"]
    assert authorizer["workspace_id"] == "ws_1"
    assert authorizer["principalId"] == "key_good"
    # A REST API passes context values as strings.
    assert authorizer["admin"] == "false"
    assert authorizer["limit"] == "5"
    authorizer_event = fake_handlers.AUTHORIZER_EVENTS[-1]
    assert authorizer_event["type"] == "REQUEST"
    assert authorizer_event["methodArn"].endswith("/local/GET/batch-calls")
    assert authorizer_event["path"] == "/batch-calls"


def test_multipart_binary_part_arrives_base64_and_intact(gateway: LocalApiGateway) -> None:
    file_bytes = bytes(range(256)) * 4 + b"\xff\xfe\x00 end"
    boundary = "----local" + uuid.uuid4().hex
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="agent_id"\r\n\r\n'
            "agent_1\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="leads.xlsx"\r\n'
            "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            "\r\n\r\n"
        ).encode()
        + file_bytes
        + f"\r\n--{boundary}--\r\n".encode()
    )
    event = echoed(
        gateway,
        "POST",
        "/batch-calls",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert event["isBase64Encoded"] is True
    received = base64.b64decode(event["body"])
    assert received == body
    assert file_bytes in received


def test_text_body_arrives_as_text_and_non_utf8_as_base64(gateway: LocalApiGateway) -> None:
    text = json.dumps({"contacts": [{"phoneNumber": "+14155550101", "name": "Zoë"}]})
    event = echoed(
        gateway,
        "POST",
        "/batch-calls",
        body=text.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert (event["body"], event["isBase64Encoded"]) == (text, False)
    latin1 = "phone_number,name\n+14155550101,Zoë\n".encode("cp1252")
    event = echoed(
        gateway, "POST", "/batch-calls", body=latin1, headers={"Content-Type": "text/csv"}
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == latin1


def test_chunked_body_is_read(gateway: LocalApiGateway) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=30)
    try:
        connection.request(
            "POST",
            "/batch-calls",
            body=iter([b'{"a": ', b"1}"]),
            headers={**GOOD, "Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(json.loads(response.read())["event"]["body"]) == {"a": 1}
    finally:
        connection.close()


def test_bad_content_length_is_400(gateway: LocalApiGateway) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=30)
    try:
        connection.putrequest("POST", "/batch-calls")
        connection.putheader("Content-Length", "abc")
        connection.endheaders()
        assert connection.getresponse().status == 400
    finally:
        connection.close()


def test_head_answers_headers_only(gateway: LocalApiGateway) -> None:
    status, headers, data, _ = request(gateway, "HEAD", "/batch-calls", headers=GOOD)
    assert status == 200
    assert data == b""
    assert int(headers["Content-Length"]) > 0


def test_binary_response_is_decoded_with_multi_value_headers(gateway: LocalApiGateway) -> None:
    status, _, data, response = request(gateway, "GET", "/binary", headers=GOOD)
    assert status == 200
    assert data == fake_handlers.BINARY_BODY
    assert response.getheader("Content-Type") == "application/octet-stream"
    assert response.headers.get_all("Set-Cookie") == ["a=1", "b=2"]


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({}, 401, "Unauthorized"),
        ({"x-api-key": "wrong"}, 401, "Unauthorized"),
        (
            {"x-api-key": "deny"},
            403,
            "User is not authorized to access this resource with an explicit deny",
        ),
    ],
)
def test_authorizer_refusals(
    gateway: LocalApiGateway, headers: dict[str, str], status: int, message: str
) -> None:
    got, _, data, _ = request(gateway, "GET", "/batch-calls", headers=headers)
    assert (got, json.loads(data)) == (status, {"message": message})


def test_public_routes_skip_the_authorizer(gateway: LocalApiGateway) -> None:
    before = len(fake_handlers.AUTHORIZER_EVENTS)
    for method, path in [("GET", "/openapi.json"), ("POST", "/provider-events/simulated")]:
        status, _, data, _ = request(gateway, method, path, body=b"{}")
        assert status == 200
        assert "authorizer" not in json.loads(data)["event"]["requestContext"]
    assert len(fake_handlers.AUTHORIZER_EVENTS) == before
    # The pattern is exact: another method or a deeper path still needs a key.
    assert request(gateway, "GET", "/provider-events/simulated")[0] == 401
    assert request(gateway, "POST", "/provider-events/a/b")[0] == 401


def test_body_over_10_mib_is_413_before_anything_runs(gateway: LocalApiGateway) -> None:
    before = len(fake_handlers.AUTHORIZER_EVENTS)
    status, _, data, _ = request(
        gateway,
        "POST",
        "/batch-calls",
        body=b"x" * (MAX_REQUEST_BYTES + 1),
        headers={**GOOD, "Content-Type": "text/csv"},
    )
    assert (status, json.loads(data)) == (413, {"message": "Request Too Long"})
    assert len(fake_handlers.AUTHORIZER_EVENTS) == before


def test_event_over_lambda_6_mb_is_api_gateways_own_413(gateway: LocalApiGateway) -> None:
    """As in AWS: the function never runs, so the answer is the gateway's, not the
    product's (the OpenAPI document's 413 says to use the upload route)."""
    # 5 MB of binary is under API Gateway's 10 MiB but about 6.7 MB once base64-encoded.
    status, _, data, _ = request(
        gateway,
        "POST",
        "/batch-calls",
        body=b"\x00" * 5_000_000,
        headers={**GOOD, "Content-Type": "application/octet-stream"},
    )
    assert (status, json.loads(data)) == (413, TOO_LONG)


def test_handler_exception_is_502(gateway: LocalApiGateway) -> None:
    status, _, data, _ = request(gateway, "GET", "/crash", headers=GOOD)
    assert (status, json.loads(data)) == (502, {"message": "Internal server error"})
    # The server goes on serving.
    assert request(gateway, "GET", "/crash-public")[0] == 502
    assert request(gateway, "GET", "/openapi.json")[0] == 200


def test_a_burst_of_connections_is_taken_not_reset(gateway: LocalApiGateway) -> None:
    """Providers call back in bursts (every slot's call ending at once): 200 connections
    opened before any is served all get their answer."""
    # Each is accepted at once (a full listen queue would leave a connect to the SYN
    # retry a second later, or reset it).
    connections = [
        socket.create_connection(("127.0.0.1", gateway.port), timeout=0.5) for _ in range(200)
    ]
    try:
        for connection in connections:
            connection.settimeout(30)
            connection.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: local\r\n\r\n")
        answers = [connection.recv(64) for connection in connections]
    finally:
        for connection in connections:
            connection.close()
    assert {answer.split(b"\r\n", 1)[0].split(b" ")[1] for answer in answers} == {b"200"}
