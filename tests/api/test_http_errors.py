"""How the API answers a request it cannot read: told from the request (its Content-Type,
the route's declared body), never from an exception's words."""

from tests.api.client import Client

SEND_JSON = "send the body as a JSON object with Content-Type: application/json"
SEND_FILE_OR_JSON = "send multipart/form-data (a file) or application/json (contacts)"


def test_a_multipart_body_without_its_boundary_is_a_400_that_names_it(client: Client) -> None:
    for content_type in ("multipart/form-data", "multipart/form-data; charset=utf-8"):
        reply = client.request(
            "POST", "/batch-calls", body=b"--x\r\nnot a part", content_type=content_type
        )
        assert (reply.status, reply.body.get("field")) == (400, "body"), reply.body
        assert "boundary" in reply.body["message"]


def test_a_json_body_that_is_not_utf8_is_a_400(client: Client) -> None:
    reply = client.request(
        "POST", "/batch-calls", body=b'{"name": "\xff\xfe"}', content_type="application/json"
    )
    assert (reply.status, reply.body["message"]) == (
        400,
        "body: is not UTF-8 text, as JSON must be",
    )


def test_a_body_of_another_type_is_told_what_the_route_reads(client: Client) -> None:
    for method, path, told in (
        ("POST", "/batch-calls", SEND_FILE_OR_JSON),  # a form or JSON
        ("PATCH", "/batch-calls/batch_x", SEND_JSON),
        ("POST", "/batch-calls/batch_x/rerun", SEND_JSON),
        ("POST", "/suppression-list", SEND_JSON),
    ):
        reply = client.request(method, path, body=b"hello", content_type="text/plain")
        assert (reply.status, reply.body["error"]) == (415, "unsupported_media_type"), path
        assert reply.body["message"] == told, path


def test_a_seed_route_says_it_in_the_seeds_shape(client: Client) -> None:
    reply = client.request("POST", "/api/v1/batch", body=b"hello", content_type="text/plain")
    assert (reply.status, reply.body["success"]) == (415, False)
    assert reply.body["message"] == SEND_JSON
