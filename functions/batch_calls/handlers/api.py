"""The HTTPS API (api-contract.md): Powertools' REST resolver over the batch logic.

Thin by design: each route reads its request into a command, calls one logic function
and renders the result (views.py, seed_views.py); the create's form and its
Idempotency-Key are create_form.py and idempotency.py. Errors become responses in one
place (the exception handlers at the end, statuses from http_errors.py). Each
route's `responses=` documents every status it answers, with the models of
`api_models`, in the document GET /openapi.json serves.
"""

import base64
import json
import re
from functools import cache
from http import HTTPStatus
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
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
    Query,
    UploadFile,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponseContentModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import monitoring
from batch_calls.domain import json_limits
from batch_calls.handlers import create_form, idempotency, seed_views, views, wiring
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
    DialgenAccepted,
    DialgenBatchRequest,
    DialgenError,
    DialgenStatus,
    DownloadLink,
    GatewayError,
    Me,
    NexusAddContacts,
    NexusBatchId,
    NexusCreateBatch,
    NexusError,
    NexusReply,
    NexusUpdateBatch,
    PhoneNumbers,
    RecipientList,
    RerunRequest,
    Responses,
    SuppressionAdded,
    SuppressionList,
    SuppressionRemoved,
    SuppressionRequest,
    Upload,
    ValidationPreview,
    documented,
    finish_document,
    inline_schema,
    named_body,
)
from batch_calls.handlers.http_errors import UnsupportedMediaType, status_of
from batch_calls.handlers.wiring import services
from batch_calls.ingest.table import MAX_FILE_BYTES
from batch_calls.logic import audit, batches, reports, results, seed_routes, suppression
from batch_calls.logic.batches import Contacts
from batch_calls.logic.errors import (
    InvalidField,
    RequestError,
    Unauthorized,
    ValidationFailed,
)
from batch_calls.logic.json_batches import batch_calls_request, contacts_request
from batch_calls.logic.settings import (
    SETTINGS,
    from_json_fields,
    refuse_unknown,
)

logger = monitoring.logger("api")


def _read_json(text: str) -> Any:
    """Every JSON body, read within limits: a 400 that names the problem, never a 5xx."""
    try:
        return json_limits.loads(text, MAX_FILE_BYTES)
    except json_limits.JsonRejected as error:
        raise InvalidField("body", error.message) from None


app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=_read_json)


def _workspace_id() -> str:
    """Set by the authorizer from the caller's API key; never taken from the request."""
    authorizer = app.current_event.request_context.authorizer
    workspace_id = authorizer.get("workspace_id") if authorizer else None
    if not workspace_id:
        raise Unauthorized("send your API key as x-api-key or Authorization: Bearer")
    return str(workspace_id)


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    if status >= HTTPStatus.BAD_REQUEST:
        body = _in_seed_shape(status, body)
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, ensure_ascii=False),
    )


def _in_seed_shape(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """An error on a seed's route, in that seed's shape (the same words inside)."""
    path = app.current_event.path
    if path.startswith("/api/v1/"):
        return {"success": False, **body}
    if path.startswith("/api/call/"):
        message = str(body.get("message", ""))
        return {
            **body,
            "message": message,
            "status": False,
            "code": status,
            "errorMessage": message,
            "data": None,
        }
    return body


# -- create ----------------------------------------------------------------------------

CREATE_RESPONSES: Responses = {
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
}
VALIDATE_PATH = "/batch-calls/validate"


def create_batch(**form: Any) -> Response[str]:
    """Seed 000's multipart form (a file, or upload_id), or JSON: ours or seed 003's."""
    workspace_id = _workspace_id()
    if _content_type().startswith("application/json"):
        body = app.current_event.json_body
        request = batch_calls_request(body)
        fingerprint = idempotency.json_fingerprint(body)
    else:
        create_form.check_fields(form, create_form.field_names(_raw_body()))
        contacts = _contacts(workspace_id, form.get("file"), form.get("upload_id"))
        request, fingerprint = create_form.create_request(form, contacts)
    if app.current_event.path == VALIDATE_PATH:  # the same request, checked only
        preview = batches.preview_batch(services(), workspace_id, request)
        return _json(HTTPStatus.OK, views.preview_view(preview))

    def create() -> dict[str, Any]:
        return views.created_view(batches.create_batch(services(), workspace_id, request))

    view = idempotency.once(workspace_id, form.get("idempotency_key"), fingerprint, create)
    return _json(HTTPStatus.CREATED, view)


# The parameters Powertools reads the form by, and documents it with.
create_batch.__signature__ = create_form.SIGNATURE  # type: ignore[attr-defined]
app.post(
    "/batch-calls",
    summary="Create a batch call (multipart file, upload_id or JSON)",
    responses=CREATE_RESPONSES,
)(create_batch)
app.post(
    VALIDATE_PATH,
    summary="The create request's checks, nothing created (the console's preview)",
    responses={
        200: documented(
            "what POST /batch-calls would accept, and the agent's prompt variables",
            ValidationPreview,
        ),
        **{status: CREATE_RESPONSES[status] for status in (400, 401, 403, 404, 413, 415)},
    },
)(create_batch)


def _raw_body() -> bytes:
    event = app.current_event
    if event.is_base64_encoded:
        return base64.b64decode(event.body or "")
    return (event.body or "").encode("latin-1", "replace")


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


@app.post(
    "/batch-calls/uploads",
    summary="Presigned S3 POST for files over ~4.5 MB",
    responses={201: documented("where and how to upload the file", Upload), **AUTH},
)
def create_upload() -> Response[str]:
    upload = batches.create_upload(services(), _workspace_id())
    return _json(HTTPStatus.CREATED, views.upload_view(upload))


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
    tag: Annotated[str | None, Query(description="only batches with this tag")] = None,
) -> Response[str]:
    found = batches.list_batches(services(), _workspace_id(), page, limit, status, tag)
    return _json(HTTPStatus.OK, views.batch_page_view(found))


@app.get(
    "/batch-calls/<batch_id>",
    summary="A batch with its live counts",
    responses={200: documented("the batch", BatchView), **AUTH, 404: NOT_FOUND},
)
def get_batch(batch_id: str) -> Response[str]:
    batch = batches.find_batch(services(), _workspace_id(), batch_id)
    return _json(HTTPStatus.OK, views.batch_view(batch))


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
    found = batches.list_recipients(
        services(), _workspace_id(), batch_id, status=status, cursor=cursor, limit=limit
    )
    return _json(HTTPStatus.OK, views.recipient_page_view(found))


# ?as=url: a presigned URL as JSON, whatever the size (a browser's fetch, which sends the
# API key, cannot follow a redirect to S3 usefully).
CSV_AS = Annotated[
    Literal["csv", "url"],
    Query(alias="as", description="url: answer {url, expires_at} as JSON, whatever the size"),
]
CSV_LINK: dict[str, OpenAPIResponseContentModel] = {"application/json": {"model": DownloadLink}}


@app.get(
    "/batch-calls/<batch_id>/report",
    summary="The results report (CSV)",
    responses={
        200: {
            "description": "the report, when it is at most 1 MB: every original column in "
            "file order, then final_status, attempts_made, call_id, last_outcome, "
            "last_attempt_at, skip_reason, duration_seconds, answered_by, ended_reason, "
            "recording_url, transcript_url, then data.<name> per post-call data field; "
            "with ?as=url, where to download it (JSON), whatever its size",
            "content": {"text/csv": {"schema": {"type": "string"}}, **CSV_LINK},
        },
        303: {
            "description": "a larger report: Location is a presigned S3 URL (15 minutes)",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        400: BAD_REQUEST,
        **AUTH,
        404: NOT_FOUND,
    },
)
def get_report(batch_id: str, as_: CSV_AS = "csv") -> Response[str]:
    as_url = as_ == "url"
    report = reports.report(
        wiring.database(), wiring.blobs(), _workspace_id(), batch_id, as_url=as_url
    )
    return _csv(report, as_url=as_url)


def _csv(report: reports.Report, *, as_url: bool) -> Response[str]:
    """A CSV inline, a redirect to where it is in S3, or (as_url) that place as JSON."""
    if as_url:
        return _json(HTTPStatus.OK, views.report_link_view(report, services().clock()))
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
            "limit_counts (the calls each contact limit counted before this one), consent, "
            "holidays (whether US federal holidays were observed); with ?as=url, where to "
            "download it (JSON), whatever its size",
            "content": {"text/csv": {"schema": {"type": "string"}}, **CSV_LINK},
        },
        303: {
            "description": "a larger audit: Location is a presigned S3 URL (15 minutes)",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        400: BAD_REQUEST,
        **AUTH,
        404: NOT_FOUND,
    },
)
def get_audit(batch_id: str, as_: CSV_AS = "csv") -> Response[str]:
    as_url = as_ == "url"
    audited = audit.audit(
        wiring.database(),
        wiring.attempts(),
        wiring.blobs(),
        _workspace_id(),
        batch_id,
        as_url=as_url,
    )
    return _csv(audited, as_url=as_url)


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
    refuse_unknown(changes, SETTINGS)
    request = from_json_fields(changes, {name: name for name in SETTINGS})
    updated = batches.update_batch(services(), _workspace_id(), batch_id, request)
    return _json(HTTPStatus.OK, views.batch_view(updated))


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
        contacts: Contacts | None = contacts_request(app.current_event.json_body)
    else:
        contacts = _contacts(workspace_id, file, upload_id)
    if contacts is None:
        raise InvalidField("file", "is required (or upload_id, or a JSON body with contacts)")
    added = batches.add_contacts(services(), workspace_id, batch_id, contacts)
    return _json(HTTPStatus.OK, views.created_view(added))


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
    created = results.rerun(services(), _workspace_id(), batch_id, body)
    return _json(HTTPStatus.CREATED, views.created_view(created))


def _control(action: str) -> Any:
    def route(batch_id: str) -> Response[str]:
        batch = batches.control_batch(services(), _workspace_id(), batch_id, action)
        return _json(HTTPStatus.OK, views.batch_view(batch))

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
    added = suppression.add_numbers(services_, services_.load_queue, _workspace_id(), numbers)
    return _json(HTTPStatus.OK, views.suppression_added_view(added))


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
    listed = suppression.listing(source, expires_at, suppression.SOURCE_UPLOAD, services_.clock())
    added = suppression.upload_numbers(
        services_,
        services_.load_queue,
        _workspace_id(),
        file.content,
        file.filename,
        listed=listed,
    )
    return _json(HTTPStatus.OK, views.suppression_added_view(added))


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
    page = suppression.list_numbers(services(), _workspace_id(), cursor, limit, prefix)
    return _json(HTTPStatus.OK, views.suppressed_page_view(page))


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
    removed = suppression.remove_number(services(), _workspace_id(), phone_number)
    return _json(HTTPStatus.OK, {"removed": removed})


# -- the seeds' routes (api-contract.md, "Seed-compatible routes") ---------------------


def _api_url() -> str:
    """This API's base URL as the caller reached it (the stage included, in AWS)."""
    event = app.current_event
    context = event.request_context
    stage_prefix = (context.path or event.path).removesuffix(event.path)
    scheme = event.headers.get("x-forwarded-proto") or event.headers.get("X-Forwarded-Proto")
    return f"{scheme or 'http'}://{context.domain_name}{stage_prefix}"


def _json_body() -> Any:
    _require_json()
    return app.current_event.json_body


DIALGEN_ERRORS: Responses = {
    400: documented("a field is missing or invalid, or the contacts failed", DialgenError),
    401: documented("no API key, or an unknown one", GatewayError),
    403: documented("the authorizer denied the request", GatewayError),
    404: documented("there is no such batch in this workspace", DialgenError),
}
NEXUS_ERRORS: Responses = {
    400: documented("missing batchName, empty callingNumbers, or invalid input", NexusError),
    401: documented("no API key, or an unknown one", GatewayError),
    403: documented(
        "a number (or userId) of another workspace (NexusError), or the gateway refused the "
        "request (GatewayError)",
        NexusError | GatewayError,
    ),
    404: documented("there is no such batch in this workspace", NexusError),
    409: documented("the batch's status does not allow this now", NexusError),
}


@app.post(
    "/api/v1/batch",
    summary="Seed 003 (Dialgen): create a batch from JSON contacts",
    responses={201: documented("the batch was accepted", DialgenAccepted), **DIALGEN_ERRORS},
)
def dialgen_create(
    body: Annotated[
        dict[str, Any], Body(embed=False, json_schema_extra=named_body(DialgenBatchRequest))
    ],
) -> Response[str]:
    created = seed_routes.dialgen_create(services(), _workspace_id(), _json_body())
    return _json(HTTPStatus.CREATED, seed_views.dialgen_created(created, _api_url()))


@app.get(
    "/api/v1/batch/<batch_id>/status",
    summary="Seed 003 (Dialgen): a batch's status and counts",
    responses={200: documented("the batch's status", DialgenStatus), **DIALGEN_ERRORS},
)
def dialgen_status(batch_id: str) -> Response[str]:
    batch = batches.find_batch(services(), _workspace_id(), batch_id)
    return _json(HTTPStatus.OK, seed_views.dialgen_batch(batch, _api_url()))


@app.post(
    "/api/call/createBatch",
    summary="Seed 004 (Nexus): stage a draft batch",
    responses={201: documented("data: the batch id", NexusReply), **NEXUS_ERRORS},
)
def nexus_create(
    body: Annotated[
        dict[str, Any], Body(embed=False, json_schema_extra=named_body(NexusCreateBatch))
    ],
) -> Response[str]:
    created = seed_routes.nexus_create(services(), _workspace_id(), _json_body())
    batch_id = created.batch.batch_id
    reply = seed_views.nexus_envelope("Batch created successfully", HTTPStatus.CREATED, batch_id)
    return _json(HTTPStatus.CREATED, reply)


@app.post(
    "/api/call/addContacts",
    summary="Seed 004 (Nexus): add contacts to a draft batch",
    responses={200: documented("data: the batch's contact count", NexusReply), **NEXUS_ERRORS},
)
def nexus_add_contacts(
    body: Annotated[
        dict[str, Any], Body(embed=False, json_schema_extra=named_body(NexusAddContacts))
    ],
) -> Response[str]:
    added = seed_routes.nexus_add_contacts(services(), _workspace_id(), _json_body())
    data = seed_views.nexus_contacts(added)
    return _json(HTTPStatus.OK, seed_views.nexus_envelope("Contacts added", HTTPStatus.OK, data))


@app.post(
    "/api/call/startBatch",
    summary="Seed 004 (Nexus): start dialing a draft batch",
    responses={200: documented("data: the batch's new status", NexusReply), **NEXUS_ERRORS},
)
def nexus_start(
    body: Annotated[dict[str, Any], Body(embed=False, json_schema_extra=named_body(NexusBatchId))],
) -> Response[str]:
    data = seed_views.nexus_started(
        seed_routes.nexus_start(services(), _workspace_id(), _json_body())
    )
    return _json(HTTPStatus.OK, seed_views.nexus_envelope("Batch started", HTTPStatus.OK, data))


@app.post(
    "/api/call/updateBatch",
    summary="Seed 004 (Nexus): change a batch's metadata",
    responses={200: documented("data: the batch", NexusReply), **NEXUS_ERRORS},
)
def nexus_update(
    body: Annotated[
        dict[str, Any], Body(embed=False, json_schema_extra=named_body(NexusUpdateBatch))
    ],
) -> Response[str]:
    updated = seed_routes.nexus_update(services(), _workspace_id(), _json_body())
    data = seed_views.nexus_batch(updated)
    return _json(HTTPStatus.OK, seed_views.nexus_envelope("Batch updated", HTTPStatus.OK, data))


@app.get(
    "/api/call/batches/<user_id>",
    summary="Seed 004 (Nexus): the user's batches, newest first",
    responses={200: documented("data: the batches", NexusReply), **NEXUS_ERRORS},
)
def nexus_batches(user_id: str) -> Response[str]:
    found = seed_routes.nexus_batches(services(), _workspace_id(), user_id)
    data = [seed_views.nexus_batch(batch) for batch in found]
    return _json(HTTPStatus.OK, seed_views.nexus_envelope("Batches found", HTTPStatus.OK, data))


@app.get(
    "/phone-numbers",
    summary="The workspace's caller numbers, with stable ids",
    responses={200: documented("the numbers", PhoneNumbers), **AUTH},
)
def list_phone_numbers() -> Response[str]:
    workspace_id = _workspace_id()
    numbers = seed_routes.caller_numbers(services(), workspace_id)
    return _json(HTTPStatus.OK, seed_views.phone_numbers(workspace_id, numbers))


@app.get(
    "/me",
    summary="The API key's workspace (the seeds' userId), name and limits",
    responses={200: documented("the workspace", Me), **AUTH, 404: NOT_FOUND},
)
def who_am_i() -> Response[str]:
    return _json(HTTPStatus.OK, seed_views.me(seed_routes.me(services(), _workspace_id())))


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
    form = schema["components"]["schemas"]["BatchForm"]
    form["required"] = list(create_form.REQUIRED)
    form["examples"] = [create_form.SEED_000_FORM]
    return json.dumps(schema, ensure_ascii=False, indent=2)


@app.exception_handler(RequestError)
def _request_error(error: RequestError) -> Response[str]:
    if isinstance(error, ValidationFailed):
        monitoring.count(monitoring.VALIDATION_REJECTIONS)
    return _json(status_of(error), error.body())


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
    json_route = _json_only(_operations(path).get(method.lower(), {}))
    return _json(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        {
            "error": "unsupported_media_type",
            "message": _SEND_JSON if json_route else _SEND_FILE_OR_JSON,
        },
    )


@app.exception_handler(UnicodeDecodeError)
def _not_utf8(error: UnicodeDecodeError) -> Response[str]:
    """Powertools reading a JSON body that is not UTF-8; any other decoding error is a
    bug and stays a 500."""
    if _body_is_text():
        raise error
    return _invalid_body("is not UTF-8 text, as JSON must be")


@app.exception_handler(ValueError)
def _unreadable_form(error: ValueError) -> Response[str]:
    """A multipart body whose Content-Type names no boundary cannot be read (Powertools
    raises a bare ValueError for it): told from the Content-Type, never from the error's
    words. Any other ValueError is a bug and stays a 500."""
    if not _multipart_without_boundary():
        raise error
    return _invalid_body(
        "multipart/form-data needs its boundary in Content-Type "
        "(multipart/form-data; boundary=...), as HTTP clients write it"
    )


def _invalid_body(message: str) -> Response[str]:
    return _json(
        HTTPStatus.BAD_REQUEST,
        {"error": "invalid_request", "message": f"body: {message}", "field": "body"},
    )


def _body_is_text() -> bool:
    try:
        app.current_event.decoded_body  # noqa: B018 - decoding is the test
    except UnicodeDecodeError:
        return False
    return True


def _multipart_without_boundary() -> bool:
    kind, *parameters = _content_type().split(";")
    return kind.strip() == "multipart/form-data" and not any(
        parameter.strip().startswith("boundary=") for parameter in parameters
    )


@cache
def _paths() -> list[tuple[re.Pattern[str], dict[str, Any]]]:
    """The API's paths as the OpenAPI document lists them, each with its operations by
    method: the literal paths first, then the templated ones ({batch_id}: one segment)."""
    paths: dict[str, dict[str, Any]] = json.loads(_document())["paths"]
    ordered = sorted(paths, key=lambda path: "{" in path)
    return [(_path_pattern(path), paths[path]) for path in ordered]


def _path_pattern(path: str) -> re.Pattern[str]:
    segments = path.split("/")
    return re.compile(
        "/".join("[^/]+" if part.startswith("{") else re.escape(part) for part in segments) + "$"
    )


def _operations(path: str) -> dict[str, Any]:
    """The operations of `path` by (lower-case) method: its literal path's if it is one,
    else its template's."""
    return next((operations for pattern, operations in _paths() if pattern.match(path)), {})


def _json_only(operation: dict[str, Any]) -> bool:
    """Whether the operation reads only a JSON body."""
    content = operation.get("requestBody", {}).get("content", {})
    return set(content) == {"application/json"}


@app.not_found
def _no_route(_: NotFoundError) -> Response[str]:
    """A path the API does not have is a 404; a method its path does not take, a 405 with
    the methods it does take (RFC 9110). Both in the API's error shape.

    As in OpenAPI, a literal path is its own resource: /batch-calls/uploads takes POST,
    although GET /batch-calls/{batch_id} would answer for it (a 404)."""
    method, path = app.current_event.http_method.upper(), app.current_event.path
    allowed = sorted(name.upper() for name in _operations(path))
    # A method the path takes, yet no route matched: a segment of characters no route
    # accepts; as good as a path the API does not have.
    if not allowed or method in allowed:
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
    idempotency.CONFIG.register_lambda_context(context)  # a request killed mid-way can be retried
    return app.resolve(event, context)
