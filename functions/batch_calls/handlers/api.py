"""The HTTPS API (api-contract.md): Powertools' REST resolver over the batch logic.

Thin by design: each route reads its inputs, calls one logic function and returns its
view. Errors become responses in one place (the exception handlers at the end). Each
route's `responses=` documents every status it answers, with the models of
`api_models`, in the document GET /openapi.json serves.
"""

import hashlib
import json
from functools import cache
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import (
    APIKey,
    APIKeyIn,
    HTTPBearer,
    SecurityScheme,
)
from aws_lambda_powertools.event_handler.openapi.params import (
    Body,
    File,
    Form,
    Header,
    Query,
    UploadFile,
)
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import monitoring, store
from batch_calls.handlers.api_models import (
    AUTH,
    BAD_REQUEST,
    CONFLICT,
    CONTACTS_REJECTED,
    NOT_FOUND,
    TOO_LARGE,
    UNSUPPORTED_MEDIA,
    Analytics,
    ApiError,
    BatchChanges,
    BatchList,
    BatchView,
    CreatedBatch,
    RecipientList,
    RerunRequest,
    SuppressionAdded,
    SuppressionList,
    SuppressionRemoved,
    SuppressionRequest,
    Upload,
    ValidationPreview,
    documented,
    finish_document,
    inline_schema,
)
from batch_calls.handlers.wiring import services
from batch_calls.logic import audit, batches, reports, results, suppression
from batch_calls.logic.batches import Contacts
from batch_calls.logic.errors import (
    Conflict,
    InvalidField,
    RequestError,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from batch_calls.logic.json_batches import json_request

logger = monitoring.logger("api")
app = APIGatewayRestResolver(enable_validation=True)

IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60


def _workspace_id() -> str:
    """Set by the authorizer from the caller's API key; never taken from the request."""
    authorizer = app.current_event.request_context.authorizer
    workspace_id = authorizer.get("workspace_id") if authorizer else None
    if not workspace_id:
        raise Unauthorized("send your API key as x-api-key or Authorization: Bearer")
    return str(workspace_id)


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, ensure_ascii=False),
    )


# -- create ----------------------------------------------------------------------------

JsonText = str | dict[str, Any]


VALIDATE_PATH = "/batch-calls/validate"


@app.post(
    VALIDATE_PATH,
    summary="The create request's checks, nothing created (the console's preview)",
    responses={
        200: documented(
            "what POST /batch-calls would accept, and the agent's prompt variables",
            ValidationPreview,
        ),
        400: CONTACTS_REJECTED,
        **AUTH,
        404: documented("this API key's workspace no longer exists (not_found)", ApiError),
        413: TOO_LARGE,
        415: UNSUPPORTED_MEDIA,
    },
)
@app.post(
    "/batch-calls",
    summary="Create a batch call (multipart file, upload_id or JSON)",
    responses={
        201: documented(
            "the batch, as GET /batch-calls/{batch_id} shows it, and the upload's warnings",
            CreatedBatch,
        ),
        400: CONTACTS_REJECTED,
        **AUTH,
        404: documented("this API key's workspace no longer exists (not_found)", ApiError),
        409: CONFLICT,
        413: TOO_LARGE,
        415: UNSUPPORTED_MEDIA,
    },
)
def create_batch(  # noqa: PLR0917 - each form field is a parameter, as the OpenAPI shows
    agent_id: Annotated[str | None, Form(description="the agent to run (required)")] = None,
    file: Annotated[UploadFile | None, File(description="CSV, XLSX, XLS or JSON; 10 MB")] = None,
    upload_id: Annotated[str | None, Form(description="from POST /batch-calls/uploads")] = None,
    from_phone_number: Annotated[str | None, Form(description="caller number, E.164")] = None,
    name: Annotated[str | None, Form()] = None,
    scheduled_at: Annotated[str | None, Form(description="ISO 8601 with offset")] = None,
    max_concurrent_calls: Annotated[int | None, Form(ge=1)] = None,
    retry_config: Annotated[JsonText | None, Form(description="JSON object")] = None,
    calling_window: Annotated[JsonText | None, Form(description="JSON object")] = None,
    webhooks: Annotated[
        JsonText | None,
        Form(description='JSON object: {"on_call_complete": url, "on_batch_complete": url}'),
    ] = None,
    from_phone_numbers: Annotated[
        str | None, Form(description="caller IDs to rotate: JSON list or comma-separated")
    ] = None,
    max_calls_per_second: Annotated[int | None, Form(ge=1)] = None,
    priority: Annotated[
        int | None, Form(description="1-10: who gets a freed workspace slot first (default 5)")
    ] = None,
    voicemail_policy: Annotated[
        str | None, Form(description="hang_up (default) or leave_message (once)")
    ] = None,
    on_invalid_rows: Annotated[str | None, Form(description="reject (default) or skip")] = None,
    dedupe: Annotated[bool | None, Form()] = None,
    start: Annotated[bool | None, Form(description="false stages a draft")] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response[str]:
    workspace_id = _workspace_id()
    if _content_type().startswith("application/json"):
        fields, contacts, starting = json_request(app.current_event.json_body)
        fingerprint = _sha256(json.dumps(app.current_event.json_body, sort_keys=True).encode())
    else:
        fields = {
            "agent_id": agent_id,
            "from_phone_number": from_phone_number,
            "name": name,
            "scheduled_at": scheduled_at,
            "max_concurrent_calls": max_concurrent_calls,
            "retry_config": retry_config,
            "calling_window": calling_window,
            "webhooks": webhooks,
            "from_phone_numbers": from_phone_numbers,
            "max_calls_per_second": max_calls_per_second,
            "priority": priority,
            "voicemail_policy": voicemail_policy,
            "on_invalid_rows": on_invalid_rows,
            "dedupe": dedupe,
        }
        contacts = _contacts(workspace_id, file, upload_id)
        starting = True if start is None else start
        fingerprint = _sha256(
            json.dumps(
                {**fields, "start": starting, "upload_id": upload_id}, sort_keys=True
            ).encode()
            + (contacts.data if contacts and contacts.data else b"")
        )

    if app.current_event.path == VALIDATE_PATH:  # the same request, checked only
        return _json(
            HTTPStatus.OK, batches.preview_batch(services(), workspace_id, fields, contacts)
        )

    def create() -> dict[str, Any]:
        return batches.create_batch(services(), workspace_id, fields, contacts, start=starting)

    if idempotency_key:
        view = _once(workspace_id, idempotency_key, fingerprint, create)
    else:
        view = create()
    return _json(HTTPStatus.CREATED, view)


def _contacts(workspace_id: str, file: UploadFile | None, upload_id: str | None) -> Contacts | None:
    if file is not None and upload_id:
        raise InvalidField("upload_id", "send either file or upload_id, not both")
    if file is not None:
        return Contacts(data=file.content, filename=file.filename)
    if upload_id:
        return batches.uploaded_contacts(services(), workspace_id, upload_id)
    return None


def _content_type() -> str:
    return (app.current_event.headers.get("content-type") or "").lower().strip()


# What a request with a body of another type is told, by the route's kind of body.
_SEND_JSON = "send the body as a JSON object with Content-Type: application/json"
_SEND_FILE_OR_JSON = "send multipart/form-data (a file) or application/json (contacts)"


def _require_json() -> None:
    """For a JSON route: Powertools reads a body without a Content-Type, or a form, as
    form fields, so the JSON text would become a field name (an odd 400)."""
    if not _content_type().startswith("application/json"):
        raise UnsupportedMediaType(_SEND_JSON)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[workspace_id, idempotency_key]",
    payload_validation_jmespath="fingerprint",
    expires_after_seconds=IDEMPOTENCY_WINDOW_SECONDS,
)


@cache
def idempotent_runner() -> Any:
    persistence = DynamoDBPersistenceLayer(table_name=store.required("IDEMPOTENCY_TABLE_NAME"))

    @idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=IDEMPOTENCY
    )
    def run(*, request: dict[str, str], create: Any) -> dict[str, Any]:
        result: dict[str, Any] = create()
        return result

    return run


def _once(workspace_id: str, key: str, fingerprint: str, create: Any) -> dict[str, Any]:
    """The first response for (workspace, Idempotency-Key) within 24 h; a different body
    under the same key is a 409."""
    request = {"workspace_id": workspace_id, "idempotency_key": key, "fingerprint": fingerprint}
    try:
        result: dict[str, Any] = idempotent_runner()(request=request, create=create)
    except IdempotencyValidationError:
        raise Conflict(
            "this Idempotency-Key was already used with a different request: use a new key"
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("a request with this Idempotency-Key is still being processed") from None
    return result


@app.post(
    "/batch-calls/uploads",
    summary="Presigned S3 POST for files over ~4.5 MB",
    responses={201: documented("where and how to upload the file", Upload), **AUTH},
)
def create_upload() -> Response[str]:
    return _json(HTTPStatus.CREATED, batches.create_upload(services(), _workspace_id()))


# -- read ------------------------------------------------------------------------------


@app.get(
    "/batch-calls",
    summary="List batches, newest first",
    responses={200: documented("a page of batches", BatchList), 400: BAD_REQUEST, **AUTH},
)
def list_batches(
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=batches.MAX_PAGE_SIZE)] = 20,
    status: Annotated[str | None, Query()] = None,
) -> Response[str]:
    return _json(
        HTTPStatus.OK, batches.list_batches(services(), _workspace_id(), page, limit, status)
    )


@app.get(
    "/batch-calls/<batch_id>",
    summary="A batch with its live counts",
    responses={200: documented("the batch", BatchView), **AUTH, 404: NOT_FOUND},
)
def get_batch(batch_id: str) -> Response[str]:
    return _json(HTTPStatus.OK, batches.get_batch(services(), _workspace_id(), batch_id))


@app.get(
    "/batch-calls/<batch_id>/recipients",
    summary="Recipients in file order",
    responses={
        200: documented("a page of recipients", RecipientList),
        400: BAD_REQUEST,
        **AUTH,
        404: NOT_FOUND,
    },
)
def list_recipients(
    batch_id: str,
    status: Annotated[str | None, Query()] = None,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=batches.MAX_RECIPIENT_PAGE_SIZE)] = 100,
) -> Response[str]:
    view = batches.list_recipients(
        services(), _workspace_id(), batch_id, status=status, cursor=cursor, limit=limit
    )
    return _json(HTTPStatus.OK, view)


@app.get(
    "/batch-calls/<batch_id>/report",
    summary="The results report (CSV)",
    responses={
        200: {
            "description": "the report, when it is at most 1 MB: every original column in "
            "file order, then final_status, attempts_made, call_id, last_outcome, "
            "last_attempt_at, skip_reason, duration_seconds, answered_by, ended_reason, "
            "recording_url, transcript_url, then data.<name> per post-call data field",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        303: {
            "description": "a larger report: Location is a presigned S3 URL (15 minutes)",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        **AUTH,
        404: NOT_FOUND,
    },
)
def get_report(batch_id: str) -> Response[str]:
    return _csv(reports.report(store.database(), store.blobs(), _workspace_id(), batch_id))


def _csv(report: reports.Report) -> Response[str]:
    """A CSV inline, or a redirect to where it is in S3."""
    if report.url is not None:
        return Response(status_code=HTTPStatus.SEE_OTHER, headers={"Location": report.url}, body="")
    return Response(
        status_code=HTTPStatus.OK,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
        # As text: a bytes body would go out base64-encoded, which API Gateway passes on
        # as is unless text/csv is declared a binary media type.
        body=(report.body or b"").decode("utf-8"),
    )


@app.get(
    "/batch-calls/<batch_id>/audit",
    summary="The compliance audit (CSV): one row per placed call",
    responses={
        200: {
            "description": "the audit, when it is at most 1 MB: call_id, phone_number, "
            "attempt, started_at, outcome, checked_at, profile, state, windows (each window "
            "checked, with its hours), local_times (the wall clock in each zone checked), "
            "limit_counts (the calls each contact limit counted before this one), consent",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        303: {
            "description": "a larger audit: Location is a presigned S3 URL (15 minutes)",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        **AUTH,
        404: NOT_FOUND,
    },
)
def get_audit(batch_id: str) -> Response[str]:
    return _csv(
        audit.audit(store.database(), store.attempts(), store.blobs(), _workspace_id(), batch_id)
    )


@app.get(
    "/batch-calls/<batch_id>/analytics",
    summary="How the batch did: outcomes per attempt, answer rate, durations, cost",
    responses={200: documented("the batch's analytics", Analytics), **AUTH, 404: NOT_FOUND},
)
def get_analytics(batch_id: str) -> Response[str]:
    return _json(HTTPStatus.OK, results.analytics(services(), _workspace_id(), batch_id))


# -- change ----------------------------------------------------------------------------

BATCH_CHANGES = inline_schema(BatchChanges)
RERUN_BODY = inline_schema(RerunRequest)
SUPPRESSION_BODY = inline_schema(SuppressionRequest)


@app.patch(
    "/batch-calls/<batch_id>",
    summary="Change settings while paused or scheduled",
    responses={
        200: documented("the batch with its new settings", BatchView),
        400: BAD_REQUEST,
        **AUTH,
        404: NOT_FOUND,
        409: CONFLICT,
        413: TOO_LARGE,
        415: UNSUPPORTED_MEDIA,
    },
)
def update_batch(
    batch_id: str,
    changes: Annotated[dict[str, Any], Body(embed=False, json_schema_extra=BATCH_CHANGES)],
) -> Response[str]:
    _require_json()
    return _json(
        HTTPStatus.OK, batches.update_batch(services(), _workspace_id(), batch_id, changes)
    )


@app.post(
    "/batch-calls/<batch_id>/contacts",
    summary="Add contacts to a draft batch",
    responses={
        200: documented(
            "the batch with the new contacts counted, and their warnings", CreatedBatch
        ),
        400: CONTACTS_REJECTED,
        **AUTH,
        404: NOT_FOUND,
        409: CONFLICT,
        413: TOO_LARGE,
        415: UNSUPPORTED_MEDIA,
    },
)
def add_contacts(
    batch_id: str,
    file: Annotated[UploadFile | None, File(description="CSV, XLSX, XLS or JSON")] = None,
    upload_id: Annotated[str | None, Form()] = None,
) -> Response[str]:
    workspace_id = _workspace_id()
    if _content_type().startswith("application/json"):
        _, contacts, _ = json_request(app.current_event.json_body)
    else:
        contacts = _contacts(workspace_id, file, upload_id)
    if contacts is None:
        raise InvalidField("file", "is required (or upload_id, or a JSON body with contacts)")
    view = batches.add_contacts(services(), workspace_id, batch_id, contacts)
    return _json(HTTPStatus.OK, view)


@app.post(
    "/batch-calls/<batch_id>/rerun",
    summary="A new batch of the recipients whose final status is listed",
    responses={
        201: documented("the new batch (rerun_of names its source)", CreatedBatch),
        400: CONTACTS_REJECTED,
        **AUTH,
        404: NOT_FOUND,
        413: TOO_LARGE,
        415: UNSUPPORTED_MEDIA,
    },
)
def rerun_batch(
    batch_id: str,
    body: Annotated[dict[str, Any], Body(embed=False, json_schema_extra=RERUN_BODY)],
) -> Response[str]:
    _require_json()
    return _json(HTTPStatus.CREATED, results.rerun(services(), _workspace_id(), batch_id, body))


def _control(action: str) -> Any:
    def route(batch_id: str) -> Response[str]:
        view = batches.control_batch(services(), _workspace_id(), batch_id, action)
        return _json(HTTPStatus.OK, view)

    route.__name__ = f"{action}_batch"
    return route


for _action in ("start", "pause", "resume", "cancel"):
    app.post(
        f"/batch-calls/<batch_id>/{_action}",
        summary=f"{_action.capitalize()} a batch",
        responses={
            200: documented("the batch in its new status", BatchView),
            **AUTH,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )(_control(_action))


# -- suppression list ------------------------------------------------------------------


@app.post(
    "/suppression-list",
    summary="Add numbers to the workspace's suppression list",
    responses={
        200: documented("how many were added", SuppressionAdded),
        400: BAD_REQUEST,
        **AUTH,
        415: UNSUPPORTED_MEDIA,
    },
)
def suppress(
    numbers: Annotated[dict[str, Any], Body(embed=False, json_schema_extra=SUPPRESSION_BODY)],
) -> Response[str]:
    _require_json()
    services_ = services()
    view = suppression.add_numbers(services_.rounds, services_.load_queue, _workspace_id(), numbers)
    return _json(HTTPStatus.OK, view)


@app.post(
    "/suppression-list/upload",
    summary="Add the numbers of a file's phone_number column to the suppression list",
    responses={
        200: documented("how many were added; rows that hold no valid number", SuppressionAdded),
        400: CONTACTS_REJECTED,
        **AUTH,
        413: TOO_LARGE,
        415: UNSUPPORTED_MEDIA,
    },
)
def upload_suppressed(
    file: Annotated[UploadFile, File(description="CSV, XLSX, XLS or JSON")],
    source: Annotated[
        str | None,
        Form(description="a label for where the numbers come from (dnc-extract-2026-12)"),
    ] = None,
    expires_at: Annotated[
        str | None, Form(description="when they stop being held (ISO 8601); none: for good")
    ] = None,
) -> Response[str]:
    services_ = services()
    listed = suppression.listing(
        source, expires_at, suppression.SOURCE_UPLOAD, services_.rounds.clock()
    )
    view = suppression.upload_numbers(
        services_.rounds,
        services_.load_queue,
        _workspace_id(),
        file.content,
        file.filename,
        listed=listed,
    )
    return _json(HTTPStatus.OK, view)


@app.get(
    "/suppression-list",
    summary="The suppression list, in number order",
    responses={200: documented("a page of numbers", SuppressionList), 400: BAD_REQUEST, **AUTH},
)
def list_suppressed(
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=suppression.MAX_PAGE_SIZE)] = 100,
    prefix: Annotated[
        str, Query(description="only the numbers starting with this, such as +1415")
    ] = "",
) -> Response[str]:
    view = suppression.list_numbers(services().rounds, _workspace_id(), cursor, limit, prefix)
    return _json(HTTPStatus.OK, view)


@app.delete(
    "/suppression-list/<phone_number>",
    summary="Remove a number from the suppression list",
    responses={
        200: documented("the number removed", SuppressionRemoved),
        400: BAD_REQUEST,
        **AUTH,
        404: documented("the number is not on the list (not_found)", ApiError),
    },
)
def unsuppress(phone_number: str) -> Response[str]:
    view = suppression.remove_number(services().rounds, _workspace_id(), phone_number)
    return _json(HTTPStatus.OK, view)


# -- documentation and errors ----------------------------------------------------------


SECURITY_SCHEMES: dict[str, SecurityScheme] = {
    "apiKey": APIKey(
        name="x-api-key",
        in_=APIKeyIn.header,
        description="the workspace's API key; wins over Authorization when both are sent",
    ),
    "bearer": HTTPBearer(description="the same API key as Authorization: Bearer <key>"),
}


@app.get(
    "/openapi.json",
    summary="This API's OpenAPI document",
    responses={
        200: {
            "description": "OpenAPI 3.1 (public: no API key needed)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def openapi() -> Response[str]:
    return Response(status_code=HTTPStatus.OK, content_type="application/json", body=_document())


@cache
def _document() -> str:
    schema = json.loads(
        app.get_openapi_json_schema(
            title="Batch calls",
            version="1.0.0",
            summary="Batch outbound calling for voice agents",
            security_schemes=SECURITY_SCHEMES,
            security=[{"apiKey": []}, {"bearer": []}],
        )
    )
    finish_document(schema)
    return json.dumps(schema, ensure_ascii=False, indent=2)


@app.exception_handler(RequestError)
def _request_error(error: RequestError) -> Response[str]:
    if isinstance(error, ValidationFailed):
        monitoring.count(monitoring.VALIDATION_REJECTIONS)
    return _json(error.status, error.body())


@app.exception_handler(RequestValidationError)
def _invalid_input(error: RequestValidationError) -> Response[str]:
    first = error.errors()[0]
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
    field = ".".join(location) or "body"
    message = str(first.get("msg", "is not valid"))
    if first.get("type") == "json_invalid":
        field, message = "body", "is not valid JSON"
    return _json(
        HTTPStatus.BAD_REQUEST,
        {"error": "invalid_request", "message": f"{field}: {message}", "field": field},
    )


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_media(error: RequestUnsupportedContentType) -> Response[str]:
    method, path = app.current_event.http_method.upper(), app.current_event.path
    json_route = any(
        route.method == method and route.func in (update_batch, suppress, rerun_batch)
        for route in _routes_matching(path)
    )
    return _json(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        {
            "error": "unsupported_media_type",
            "message": _SEND_JSON if json_route else _SEND_FILE_OR_JSON,
        },
    )


@app.exception_handler(ValueError)
def _malformed(error: ValueError) -> Response[str]:
    """Powertools raises a bare ValueError for a multipart body without a boundary, and a
    UnicodeDecodeError reading a JSON body that is not UTF-8; any other ValueError is a
    bug and stays a 500."""
    if isinstance(error, UnicodeDecodeError) and not _body_is_text():
        message = "body: is not UTF-8 text, as JSON must be"
    elif "multipart" in str(error) or "boundary" in str(error):
        message = f"body: {error}"
    else:
        raise error
    return _json(
        HTTPStatus.BAD_REQUEST,
        {"error": "invalid_request", "message": message, "field": "body"},
    )


@app.exception_handler(RecursionError)
def _nested_too_deep(error: RecursionError) -> Response[str]:
    """json.loads gives up on a JSON body nested some thousand levels deep; any other
    RecursionError is a bug and stays a 500."""
    if "decoding a JSON" not in str(error):
        raise error
    return _json(
        HTTPStatus.BAD_REQUEST,
        {"error": "invalid_request", "message": "body: is nested too deeply", "field": "body"},
    )


def _body_is_text() -> bool:
    try:
        app.current_event.decoded_body  # noqa: B018 - decoding is the test
    except UnicodeDecodeError:
        return False
    return True


def _routes_matching(path: str) -> list[Route]:
    """The routes of `path`: its literal ones if it has any, else its templated ones."""
    for routes in (app._static_routes, app._dynamic_routes):
        matching = [route for route in routes if route.rule.match(path)]
        if matching:
            return matching
    return []


@app.not_found
def _no_route(_: NotFoundError) -> Response[str]:
    """A path the API does not have is a 404; a method its path does not take, a 405 with
    the methods it does take (RFC 9110). Both in the API's error shape.

    As in OpenAPI, a literal path is its own resource: /batch-calls/uploads takes POST,
    although GET /batch-calls/{batch_id} would answer for it (a 404)."""
    method, path = app.current_event.http_method.upper(), app.current_event.path
    allowed = sorted({route.method for route in _routes_matching(path)})
    if not allowed:
        return _json(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": f"there is no {path}"})
    return Response(
        status_code=HTTPStatus.METHOD_NOT_ALLOWED,
        content_type="application/json",
        headers={"Allow": ", ".join(allowed)},
        body=json.dumps(
            {
                "error": "method_not_allowed",
                "message": f"{path} takes {', '.join(allowed)}, not {method}",
            },
            ensure_ascii=False,
        ),
    )


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    segments = str(event.get("path") or "").split("/")
    if len(segments) > 2 and segments[2].startswith("batch_"):  # /batch-calls/{batch_id}/...
        logger.append_keys(batch_id=segments[2])
    IDEMPOTENCY.register_lambda_context(context)  # a request killed mid-way can be retried
    return app.resolve(event, context)
