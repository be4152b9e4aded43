"""GET /openapi.json: public, valid OpenAPI 3.1, every route with each status it answers
and that status's body, the multipart create, and the two ways to send the API key."""

from typing import Any

import pytest
import schemathesis

from batch_calls.logic.settings import CHANGEABLE_FIELDS
from local.api_gateway import LocalApiGateway
from tests.api.client import Client

AUTH = {401, 403}
# Every operation, with every status it can answer besides the authorizer's.
OPERATIONS: dict[tuple[str, str], set[int]] = {
    ("post", "/batch-calls"): {201, 400, 404, 409, 413, 415},
    ("post", "/batch-calls/validate"): {200, 400, 404, 413, 415},
    ("get", "/batch-calls"): {200, 400},
    ("post", "/batch-calls/uploads"): {201},
    ("get", "/batch-calls/{batch_id}"): {200, 404},
    ("patch", "/batch-calls/{batch_id}"): {200, 400, 404, 409, 413, 415},
    ("get", "/batch-calls/{batch_id}/recipients"): {200, 400, 404},
    ("get", "/batch-calls/{batch_id}/report"): {200, 303, 400, 404},
    ("get", "/batch-calls/{batch_id}/audit"): {200, 303, 400, 404},
    ("post", "/batch-calls/{batch_id}/contacts"): {200, 400, 404, 409, 413, 415},
    ("get", "/batch-calls/{batch_id}/analytics"): {200, 404},
    ("post", "/batch-calls/{batch_id}/rerun"): {201, 400, 404, 413, 415},
    **{
        ("post", f"/batch-calls/{{batch_id}}/{action}"): {200, 404, 409}
        for action in ("start", "pause", "resume", "cancel")
    },
    ("post", "/suppression-list"): {200, 400, 415},
    ("get", "/suppression-list"): {200, 400},
    ("post", "/suppression-list/upload"): {200, 400, 413, 415},
    ("delete", "/suppression-list/{phone_number}"): {200, 400, 404},
    ("post", "/api/v1/batch"): {201, 400, 404},
    ("get", "/api/v1/batch/{batch_id}/status"): {200, 400, 404},
    ("post", "/api/call/createBatch"): {201, 400, 403, 404, 409},
    ("post", "/api/call/addContacts"): {200, 400, 403, 404, 409},
    ("post", "/api/call/startBatch"): {200, 400, 403, 404, 409},
    ("post", "/api/call/updateBatch"): {200, 400, 403, 404, 409},
    ("get", "/api/call/batches/{user_id}"): {200, 400, 403, 404, 409},
    ("get", "/phone-numbers"): {200},
    ("get", "/me"): {200, 404},
}


@pytest.fixture(scope="module")
def document(gateway: LocalApiGateway) -> dict[str, Any]:
    reply = Client(gateway.url, None).request("GET", "/openapi.json")
    assert reply.status == 200, reply.body
    return dict(reply.body)


def _schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or the component its $ref names."""
    if "$ref" not in schema:
        return schema
    name = schema["$ref"].removeprefix("#/components/schemas/")
    return dict(document["components"]["schemas"][name])


def test_the_document_is_public_json_and_valid_openapi_3_1(gateway: LocalApiGateway) -> None:
    reply = Client(gateway.url, None).request("GET", "/openapi.json")  # no API key
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.body["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(reply.body).validate()  # against the OpenAPI 3.1 schema


def test_every_route_is_listed_with_every_status_it_answers(document: dict[str, Any]) -> None:
    listed = {
        (method, path): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    assert set(listed) == {*OPERATIONS, ("get", "/openapi.json")}
    for key, statuses in OPERATIONS.items():
        responses = listed[key]["responses"]
        assert set(responses) == {str(status) for status in statuses | AUTH}, key
        for status, response in responses.items():
            assert response["description"], (key, status)
            if key[1].endswith(("/report", "/audit")) and status in {"200", "303"}:
                continue  # a CSV, or a redirect to it: below
            body = _schema(document, response["content"]["application/json"]["schema"])
            assert body.get("type") == "object" or "anyOf" in body, (key, status)


@pytest.mark.parametrize("csv", ["report", "audit"])
def test_the_report_and_the_audit_are_csv_or_a_redirect(document: dict[str, Any], csv: str) -> None:
    responses = document["paths"][f"/batch-calls/{{batch_id}}/{csv}"]["get"]["responses"]
    assert set(responses["200"]["content"]) == {"text/csv", "application/json"}  # ?as=url
    link = _schema(document, responses["200"]["content"]["application/json"]["schema"])
    assert set(link["required"]) == {"url", "expires_at"}
    assert "Location" in responses["303"]["headers"]


def test_success_bodies_are_the_views_with_every_field_required(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    batch = schemas["BatchView"]
    assert batch["additionalProperties"] is False
    assert set(batch["required"]) == set(batch["properties"])
    assert {"id", "status", "total_leads", "counts", "links", "retry_config"} <= set(
        batch["required"]
    )
    nullable = {
        name
        for name, field in batch["properties"].items()
        if {"type": "null"} in field.get("anyOf", [])
    }
    assert nullable == {
        "scheduled_at",
        "started_at",
        "finished_at",
        "calling_window",
        "webhooks",
        "max_calls_per_second",
        "next_attempt_at",
        "waiting_for",
        "rerun_of",
        "timezone",
        "compliance_profile",
    }
    assert set(schemas["Counts"]["required"]) == {
        "total",
        "pending",
        "in_progress",
        "completed",
        "no_answer",
        "voicemail",
        "failed",
        "skipped",
        "cancelled",
    }
    assert set(schemas["BatchLinks"]["required"]) == {"self", "recipients", "report", "analytics"}
    assert set(schemas["PageMeta"]["required"]) == {"page", "limit", "total", "totalPages"}
    assert set(schemas["RecipientList"]["required"]) == {"data", "next_cursor"}
    assert set(schemas["Upload"]["required"]) == {
        "upload_id",
        "url",
        "fields",
        "max_bytes",
        "expires_at",
    }
    paths = document["paths"]
    created = paths["/batch-calls"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"] == {"$ref": "#/components/schemas/CreatedBatch"}
    assert set(schemas["CreatedBatch"]["required"]) == {*batch["required"], "warnings"}


def test_errors_document_their_shape(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert set(schemas["ApiError"]["required"]) == {"error", "message"}
    assert schemas["ApiError"]["additionalProperties"] is True
    rejected = schemas["ValidationFailedError"]
    assert set(rejected["required"]) == {
        "error",
        "message",
        "total_rows",
        "invalid_rows",
        "errors",
        "warnings",
    }
    create_400 = document["paths"]["/batch-calls"]["post"]["responses"]["400"]
    options = create_400["content"]["application/json"]["schema"]["anyOf"]
    assert {"$ref": "#/components/schemas/ValidationFailedError"} in options
    # Powertools' 422 never happens here: request validation errors are this API's 400.
    assert "HTTPValidationError" not in schemas


def test_create_takes_multipart_form_data_with_a_file(document: dict[str, Any]) -> None:
    create = document["paths"]["/batch-calls"]["post"]
    form = _schema(document, create["requestBody"]["content"]["multipart/form-data"]["schema"])
    fields = form["properties"]
    assert fields["file"] == {**fields["file"], "type": "string", "format": "binary"}
    assert {"agent_id", "upload_id", "from_phone_number", "scheduled_at", "start"} <= set(fields)
    assert fields["max_concurrent_calls"]["type"] == "integer"
    # A form cannot send null: optional fields are simply left out.
    assert all("null" not in str(field) for field in fields.values())
    header = create["parameters"][0]
    assert (header["in"], header["name"].lower()) == ("header", "idempotency-key")


def test_patch_documents_the_changeable_settings(document: dict[str, Any]) -> None:
    patch = document["paths"]["/batch-calls/{batch_id}"]["patch"]
    body = patch["requestBody"]["content"]["application/json"]["schema"]
    assert body["additionalProperties"] is False
    assert set(body["properties"]) == CHANGEABLE_FIELDS


def test_the_api_key_goes_in_x_api_key_or_as_a_bearer_token(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert {k: schemes["apiKey"][k] for k in ("type", "in", "name")} == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }
    assert {k: schemes["bearer"][k] for k in ("type", "scheme")} == {
        "type": "http",
        "scheme": "bearer",
    }
    assert document["security"] == [{"apiKey": []}, {"bearer": []}]
    assert document["paths"]["/openapi.json"]["get"]["security"] == []


def test_every_body_is_a_named_schema_with_its_fields_described(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert not [name for name in schemas if name.startswith("Body_")]  # generated names
    create = document["paths"]["/batch-calls"]["post"]["requestBody"]["content"]
    assert create["multipart/form-data"]["schema"] == {"$ref": "#/components/schemas/BatchForm"}
    assert create["application/json"]["schema"]["anyOf"] == [
        {"$ref": "#/components/schemas/OurBatchRequest"},
        {"$ref": "#/components/schemas/DialgenBatchRequest"},
    ]
    form = schemas["BatchForm"]
    assert form["required"] == ["agent_id"]
    assert form["examples"][0]["name"] == "May Follow-Up Campaign"  # seed 000's
    assert all(field.get("description") for name, field in form["properties"].items())
    for name in ("OurBatchRequest", "DialgenBatchRequest", "NexusCreateBatch"):
        assert schemas[name]["examples"], name
        assert schemas[name]["additionalProperties"] is False, name
    assert set(schemas["DialgenBatchRequest"]["required"]) == {"agentId", "contacts"}
    assert set(schemas["NexusCreateBatch"]["required"]) == {"batchName", "callingNumbers"}
    options = schemas["DialgenOptions"]["properties"]
    assert {"priority", "scheduledStartTime", "timezone", "tags", "retryStrategy"} <= set(options)
    seed_routes = [path for path in document["paths"] if path.startswith("/api/")]
    for path in seed_routes:
        for operation in document["paths"][path].values():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                assert list(body["schema"]) == ["$ref"], path
