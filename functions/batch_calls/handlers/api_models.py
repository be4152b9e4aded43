"""What the API answers, as pydantic models: they document the responses in /openapi.json.

The handlers still return the dicts `logic` builds (views.py, batches.py, errors.py,
validate.py); these models describe those dicts field for field, and the contract tests
(tests/api/test_openapi.py, tests/api/test_schemathesis.py) check real responses against
the document generated from them. A success view forbids unknown fields, so a field
added to a view without its model fails those tests instead of going undocumented.
"""

import types
import typing
from datetime import datetime
from typing import Any, Literal, cast

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from batch_calls.domain.batch import (
    BatchSettings,
    BatchStatus,
    CallingWindow,
    Names,
    RecipientStatus,
    RetryConfig,
    Webhooks,
)
from batch_calls.logic.settings import CHANGEABLE_FIELDS, CHANGEABLE_WHILE_RUNNING


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- batches ---------------------------------------------------------------------------


class Counts(_View):
    """Recipients by state; `total` is their sum."""

    total: int
    pending: int = Field(description="waiting for a first call or for a retry")
    in_progress: int = Field(description="dialing or on a call")
    completed: int
    no_answer: int
    voicemail: int
    failed: int
    skipped: int = Field(description="invalid rows (on_invalid_rows=skip) and duplicates")
    cancelled: int


class RetryConfigView(_View):
    max_retries: int
    retry_interval_minutes: float
    retry_on_no_answer: bool
    retry_on_busy: bool
    retry_on_voicemail: bool
    retry_on_failed: bool
    no_answer_wait_minutes: float | None = Field(description="null: retry_interval_minutes")
    busy_wait_minutes: float | None
    voicemail_wait_minutes: float | None
    failed_wait_minutes: float | None


class CallingWindowView(_View):
    timezone: str = Field(description="IANA time zone, such as Asia/Kolkata")
    start: str = Field(description="HH:MM, local time")
    end: str = Field(description="HH:MM, local time")
    days: list[int] = Field(description="allowed weekdays, 0 (Sunday) to 6 (Saturday)")
    recipient_local_time: bool
    blackout_dates: list[str] = Field(description="local dates (YYYY-MM-DD) with no calls")


class WebhooksView(_View):
    """Where the batch's signed webhooks go (docs/events.md)."""

    on_call_complete: str | None = Field(description="POSTed when each call ends")
    on_batch_complete: str | None = Field(description="POSTed when the batch ends")


class BatchLinks(_View):
    self_: str = Field(alias="self")
    recipients: str
    report: str
    analytics: str


class _BatchViewBase(_View):
    """A batch: the create response's fields (seed 000), kept current, and its settings."""

    id: str = Field(description="batch_...")
    name: str
    status: BatchStatus
    total_leads: int
    completed: int
    failed: int
    skipped: int
    agent_id: str
    created_at: datetime
    updated_at: datetime
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    counts: Counts
    rerun_of: str | None = Field(description="the batch this one re-runs (POST .../rerun)")
    reruns: list[str] = Field(description="the batches re-running this one")
    next_attempt_at: datetime | None = Field(
        description="when the batch calls next, while it waits (scheduled, running)"
    )
    waiting_for: (
        Literal["scheduled_start", "retry_wait", "calling_window", "contact_limit", "dial_error"]
        | None
    ) = Field(
        description="why it is not calling now (contact_limit: the next recipient due has "
        "had as many calls as the workspace's contact limits allow); null while calling, "
        "paused or over"
    )
    waiting_for_window: bool = Field(description="waiting_for is calling_window")
    variables: list[str] = Field(description="the contact file's columns other than phone_number")
    links: BatchLinks


def _model(name: str, fields: dict[str, Any], **options: Any) -> Any:
    """A model whose fields are computed (from the settings' description)."""
    return create_model(name, **options, **fields)


_VIEW_OF: dict[Any, Any] = {
    RetryConfig: RetryConfigView,
    CallingWindow: CallingWindowView,
    Webhooks: WebhooksView,
}


def _shown_as(annotation: Any) -> Any:
    """The type a setting is shown as: lists for tuples, the views for nested models."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _shown_as(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        shown = tuple(_shown_as(option) for option in typing.get_args(annotation))
        return typing.Union[shown]  # noqa: UP007 - built from a tuple
    if origin is tuple:
        return list[_shown_as(typing.get_args(annotation)[0])]  # type: ignore[misc]
    return _VIEW_OF.get(annotation, annotation)


# Every other setting, from the settings' description (handlers/views.py shows the same).
BatchView = _model(
    "BatchView",
    __base__=_BatchViewBase,
    fields={
        name: (_shown_as(info.annotation), Field(description=info.description))
        for name, info in BatchSettings.model_fields.items()
        if name not in _BatchViewBase.model_fields
    },
)


class PageMeta(_View):
    page: int
    limit: int
    total: int
    totalPages: int  # DialNexa's spelling, as the contract shows it


class BatchList(_View):
    """A page of batches, newest first."""

    data: list[BatchView]  # type: ignore[valid-type]
    meta: PageMeta


class RecipientView(_View):
    part: int = Field(description="which contact file of the batch (1 unless staged)")
    row: int = Field(description="spreadsheet row: the header is row 1")
    phone_number: str = Field(description="E.164, or the cell as written when skipped")
    status: RecipientStatus
    attempts_made: int
    last_attempt_at: datetime | None
    last_outcome: str | None
    call_id: str | None
    caller_id: str | None = Field(description="the caller ID its calls use")
    next_attempt_at: datetime | None = Field(description="waiting_retry: when its retry is due")
    waiting_for: Literal["calling_window", "contact_limit", "dial_error"] | None = Field(
        description="why it is held back although due (its windows are closed, its number "
        "reached a contact limit, its last dial failed before claiming)"
    )
    waiting_until: datetime | None = Field(description="when it is due again, if held back")
    skip_reason: str | None
    variables: dict[str, str]
    duration_seconds: float | None = Field(description="the last connected attempt's length")
    answered_by: Literal["human", "machine", "unknown"] | None
    ended_reason: str | None = Field(description="why the last attempt ended, as told")
    recording_url: str | None
    transcript_url: str | None
    cost: float | None = Field(description="its attempts' cost, where the provider says")
    cost_currency: str | None
    data: dict[str, str] = Field(description="the agent's post-call data (last given)")


class RecipientList(_View):
    """A page of recipients in file order; pass next_cursor as cursor for the next one."""

    data: list[RecipientView]
    next_cursor: str | None


class Upload(_View):
    """A presigned S3 POST: send `fields` and then the file as `file` to `url`."""

    upload_id: str = Field(description="give it to POST /batch-calls as upload_id")
    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_at: datetime


class DownloadLink(_View):
    """?as=url: the CSV's presigned S3 URL (a browser opens it; no API key needed)."""

    url: str = Field(description="a presigned GET that downloads the CSV")
    expires_at: datetime = Field(description="when the URL stops working (15 minutes)")


class SuppressionAdded(_View):
    added: int = Field(description="numbers new to the list")
    already_listed: int
    phone_numbers: int = Field(description="distinct valid numbers sent")
    invalid_rows: list[int] | None = Field(
        default=None, description="upload: spreadsheet rows with no valid number"
    )


class SuppressedNumber(_View):
    phone_number: str = Field(description="E.164")
    source: str = Field(
        description="api, upload, an import's own label, or opt_out (a provider reported "
        "it: held for good)"
    )
    added_at: datetime
    expires_at: datetime | None = Field(description="when it stops being held; null: never")


class SuppressionList(_View):
    data: list[SuppressedNumber]
    next_cursor: str | None


class SuppressionRemoved(_View):
    removed: str


# -- requests --------------------------------------------------------------------------


class SuppressionRequest(BaseModel):
    """POST /suppression-list: the numbers never to call, in E.164 form."""

    model_config = ConfigDict(extra="forbid", title="SuppressionRequest")

    phone_numbers: list[str] | None = Field(default=None, min_length=1, max_length=1000)
    phone_number: str | None = Field(default=None, description="one number")
    source: str | None = Field(
        default=None,
        description="a label for where the numbers come from, such as dnc-extract-2026-12 "
        "(default: api)",
    )
    expires_at: datetime | None = Field(
        default=None, description="when they stop being held; none: for good"
    )


def _constrained(info: FieldInfo) -> Any:
    """A setting's type with its bounds (which pydantic keeps apart, in `metadata`)."""
    return typing.Annotated[(info.annotation, *info.metadata)]


# PATCH /batch-calls/{batch_id}: the changeable settings of the description.
BatchChanges = _model(
    "BatchChanges",
    __config__=ConfigDict(extra="forbid", title="BatchChanges"),
    __doc__="The settings to change; a field left out (or null) keeps its value. "
    "retry_config and calling_window are replaced as a whole. While the batch runs, only "
    + ", ".join(sorted(CHANGEABLE_WHILE_RUNNING))
    + " may change.",
    fields={
        name: (
            _constrained(info) | None,
            Field(default=None, description=info.description),
        )
        for name, info in BatchSettings.model_fields.items()
        if name in CHANGEABLE_FIELDS
    },
)


class RerunRequest(BaseModel):
    """POST /batch-calls/{batch_id}/rerun: the final statuses to call again, and any
    setting to change for the new batch (the source's settings otherwise)."""

    model_config = ConfigDict(extra="allow", title="RerunRequest")

    statuses: list[Literal["completed", "no_answer", "voicemail", "failed", "cancelled"]] = Field(
        min_length=1, description="the recipients' final statuses to call again"
    )


class DurationStats(_View):
    count: int = Field(description="connected attempts with a known duration")
    total: float
    mean: float | None
    p50: int | None = Field(description="seconds (to the second below 5 min, else 10 s)")
    p90: int | None


class HourCalls(_View):
    hour: datetime
    calls: int


class CostView(_View):
    total: float | None
    currency: str | None
    calls_with_cost: int


class Analytics(_View):
    """How the batch did, from counters kept as each outcome is recorded (live while it
    runs; one read whatever the batch's size)."""

    batch_id: str
    status: BatchStatus
    recipients: Counts
    attempts: int = Field(description="attempts whose outcome is recorded")
    outcomes: dict[str, int] = Field(description="attempts by outcome")
    by_attempt: dict[str, dict[str, int]] = Field(description="outcomes per attempt number")
    connected: int = Field(description="attempts answered (completed or voicemail)")
    answer_rate: float | None = Field(description="connected / attempts")
    answered_by: dict[str, int] = Field(description="human, machine, unknown")
    retries_used: int = Field(description="attempts after each recipient's first")
    callbacks_scheduled: int = Field(description="attempts scheduled at a requested time")
    duration_seconds: DurationStats
    calls_per_hour: list[HourCalls]
    cost: CostView


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s JSON schema with its nested models written out in place, to document a
    body the handler takes as a plain dict (the logic validates it, with its own errors)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolved(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolved(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolved(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolved(value) for value in node]
        return node

    inlined: dict[str, Any] = resolved(schema)
    return inlined


# -- errors ----------------------------------------------------------------------------


class ApiError(BaseModel):
    """What a request got wrong: `error` is a code, `message` says what to fix."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(
        description="invalid_request, missing_variables, not_found, conflict, invalid_state, "
        "unsupported_media_type, unauthorized, validation_failed"
    )
    message: str
    field: str | None = Field(default=None, description="invalid_request: the field to fix")
    missing: list[str] | None = Field(
        default=None, description="missing_variables: the prompt's variables with no column"
    )
    status: str | None = Field(default=None, description="invalid_state: the batch's status")


class RowExample(_View):
    row: int
    value: str


class ValidationIssue(_View):
    """Rows sharing one reason (row reasons), or why the file cannot be used (no `rows`)."""

    reason: str
    message: str
    rows: list[int] | None = Field(default=None, description="spreadsheet row numbers")
    contacts: list[int] | None = Field(
        default=None, description="JSON contacts: their indexes in `contacts`"
    )
    examples: list[RowExample] | None = None
    countries: list[str] | None = Field(default=None, description="unsupported_country only")


class ValidationFailedError(_View):
    """The contact file failed validation (api-contract.md, "Validation errors")."""

    error: Literal["validation_failed"]
    message: str
    total_rows: int
    invalid_rows: int
    errors: list[ValidationIssue]
    warnings: list[ValidationIssue]


CreatedBatch = create_model(
    "CreatedBatch",
    __base__=BatchView,
    __doc__="The batch, with the warnings of the contacts just uploaded.",
    warnings=(
        list[ValidationIssue],
        Field(
            description="duplicate_phone_number, suppressed (skipped: on the suppression "
            "list), unknown_time_zone (recipient_local_time: called in the batch's zone), ..."
        ),
    ),
)


class ValidationPreview(_View):
    """POST /batch-calls/validate: what POST /batch-calls would accept, nothing stored."""

    valid: bool
    message: str
    total_rows: int
    accepted_rows: int
    invalid_rows: int
    skipped_rows: int
    variables: list[str] = Field(description="the file's columns other than phone_number")
    countries: dict[str, int] = Field(description="accepted rows per country")
    errors: list[ValidationIssue] = Field(description="rows skipped (on_invalid_rows=skip)")
    warnings: list[ValidationIssue]
    agent_placeholders: list[str] = Field(description="the {{variables}} of the agent's prompt")


class GatewayError(BaseModel):
    """An answer API Gateway gives itself (401/403 from the authorizer, 413 over its
    limits); the API's own errors have this shape too, with `error`."""

    model_config = ConfigDict(extra="allow")

    message: str
    error: str | None = None


# -- pieces of each route's `responses=` ----------------------------------------------

Responses = dict[int, OpenAPIResponse]


def documented(description: str, model: Any) -> OpenAPIResponse:
    """A JSON response documented by `model` (Powertools renders it as a schema $ref)."""
    return {"description": description, "content": {"application/json": {"model": model}}}


AUTH: Responses = {
    401: documented(
        "no API key, or an unknown one (x-api-key or Authorization: Bearer)", GatewayError
    ),
    403: documented("the authorizer denied the request", GatewayError),
}
BAD_REQUEST = documented(
    "a parameter is missing or invalid (invalid_request): `field` names it", ApiError
)
CONTACTS_REJECTED = documented(
    "the contact file failed validation (validation_failed), a field is invalid "
    "(invalid_request, naming `field`), or the agent's prompt uses variables the file has "
    "no column for (missing_variables)",
    ValidationFailedError | ApiError,
)
NOT_FOUND = documented("there is no such batch in this workspace (not_found)", ApiError)
CONFLICT = documented(
    "the batch's status does not allow this now (invalid_state), or an Idempotency-Key was "
    "reused with another request (conflict)",
    ApiError,
)
TOO_LARGE = documented(
    'API Gateway\'s own answer, {"message": "Request Too Long"}: the request is over the '
    "6 MB a function can receive (a file counts in base64, a third larger). Upload files "
    "over about 4.5 MB with POST /batch-calls/uploads, then create with upload_id",
    GatewayError,
)
UNSUPPORTED_MEDIA = documented(
    "the body is neither multipart/form-data nor application/json (unsupported_media_type)",
    ApiError,
)


# -- the document ------------------------------------------------------------------------


def finish_document(document: dict[str, Any]) -> None:
    """What Powertools' generated document says that this API does not do, put right."""
    schemas = document["components"]["schemas"]
    for operations in document["paths"].values():
        for operation in operations.values():
            # Powertools documents a 422 for request validation on every route; this API
            # answers those with its own 400, so the 422 and its schemas never occur.
            operation["responses"].pop("422", None)
            # An optional parameter or form field is left out, never null: a query
            # string, a header and a form cannot send null. (`X | SkipJsonSchema[None]`
            # would document the same, but rename fields in validation errors.)
            for parameter in operation.get("parameters", []):
                _without_null(parameter["schema"])
            form = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
            if form is not None:
                body = schemas[form["schema"]["$ref"].rsplit("/", 1)[-1]]
                for field in body["properties"].values():
                    _without_null(field)
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    for model in NAMED_BODIES:
        named = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(named.pop("$defs", {}))
        schemas[model.__name__] = named
    for operations in document["paths"].values():
        for operation in operations.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                if "$ref" in content["schema"]:  # a named body: only the name
                    content["schema"] = {"$ref": content["schema"]["$ref"]}
    _rename_forms(document)
    # The routes that take a form take JSON too (Powertools documents one body type).
    for path, bodies in _JSON_TOO.items():
        content = document["paths"][path]["post"]["requestBody"]["content"]
        options = [named_body(model) for model in bodies]
        content["application/json"] = {
            "schema": options[0] if len(options) == 1 else {"anyOf": options}
        }
    # The document itself is public: an empty requirement overrides the global one
    # (Powertools' route `security=` cannot say so, as it drops an empty list).
    document["paths"]["/openapi.json"]["get"]["security"] = []


# Powertools names a form's schema after its function and path; these are its names.
_FORM_NAMES = {
    "Body_create_batch_batch_calls_post": "BatchForm",
    # POST /batch-calls/validate takes the create's form (the same function).
    "Body_create_batch_batch_calls_validate_post": "BatchForm",
    "Body_add_contacts_batch_calls__batch_id__contacts_post": "ContactsForm",
    "Body_upload_suppressed_suppression_list_upload_post": "SuppressionUploadForm",
}


def _rename_forms(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for generated, name in _FORM_NAMES.items():
        schemas[name] = {**schemas.pop(generated), "title": name}
    for operations in document["paths"].values():
        for operation in operations.values():
            form = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
            if form is not None:
                generated = form["schema"]["$ref"].rsplit("/", 1)[-1]
                form["schema"]["$ref"] = f"#/components/schemas/{_FORM_NAMES[generated]}"


def _without_null(schema: dict[str, Any]) -> None:
    if "anyOf" not in schema:
        return
    options = [option for option in schema.pop("anyOf") if option != {"type": "null"}]
    if len(options) == 1:
        schema.update(options[0])
    else:
        schema["anyOf"] = options


# -- the seeds' routes (api-contract.md, "Seed-compatible routes") -------------------------


class DialgenLinks(_View):
    status: str = Field(description="GET this for the batch's progress")
    dashboard: str = Field(description="where to watch the batch")


class DialgenAccepted(_View):
    """Seed 003's answer to a create."""

    success: Literal[True]
    batchId: str
    status: Literal["ingesting", "scheduled", "pending", "processing", "completed"]
    message: str
    links: DialgenLinks
    warnings: list[ValidationIssue] = Field(description="the contacts' warnings (duplicates, ...)")


class DialgenStatus(_View):
    """Seed 003's status of a batch, with its counts."""

    success: Literal[True]
    batchId: str
    status: Literal["ingesting", "scheduled", "pending", "processing", "completed"]
    message: str
    links: DialgenLinks
    batchStatus: BatchStatus = Field(description="the status GET /batch-calls/{id} shows")
    counts: Counts
    tags: list[str]
    priority: int
    createdAt: datetime
    startedAt: datetime | None
    finishedAt: datetime | None


class DialgenError(BaseModel):
    """Seed 003's error: {success: false, error, message} (`field`: what to fix)."""

    model_config = ConfigDict(extra="allow")

    success: Literal[False]
    error: str
    message: str


class NexusReply(_View):
    """Seed 004's answer: `data` is the batch id (create), a batch, or a list of them."""

    message: str
    status: Literal[True]
    code: int
    errorMessage: Literal[""]
    data: Any


class NexusError(BaseModel):
    """Seed 004's error: status false, the HTTP code, errorMessage says what to fix."""

    model_config = ConfigDict(extra="allow")

    message: str
    status: Literal[False]
    code: int
    errorMessage: str
    data: None = None


class PhoneNumber(_View):
    id: str = Field(description="stable: seed 004's callingNumbers take it")
    number: str = Field(description="E.164")
    country: str | None = Field(description="ISO 3166 region")


class PhoneNumbers(_View):
    """The workspace's caller numbers."""

    data: list[PhoneNumber]


class ContactLimitView(_View):
    max_calls: int
    per_hours: float


class Limits(_View):
    max_concurrent_calls: int
    max_calls_per_second: int | None
    contact_limits: list[ContactLimitView] = Field(
        description="calls to one number across batches: at most max_calls per per_hours"
    )
    compliance_profile: str = Field(description="none, or us_tcpa")


class Me(_View):
    """The API key's workspace: its id is the seeds' userId."""

    id: str
    userId: str
    name: str
    limits: Limits
    caller_numbers: int
    agents: list[str]


# Request bodies of the seeds' routes: documentation only (the adapters in
# logic/json_batches.py read the bodies, with their own errors); the settings' types and
# docs come from the description.


def _documented_setting(name: str) -> tuple[Any, Any]:
    info = BatchSettings.model_fields[name]
    return _constrained(info) | None, Field(default=None, description=info.description)


class DialgenContact(BaseModel):
    """A contact: phoneNumber; every other field (and each of metadata's) is a variable
    of the agent's prompt, `id` included."""

    model_config = ConfigDict(extra="allow")

    phoneNumber: str = Field(description="E.164, or national in the caller number's country")
    metadata: dict[str, Any] | None = None


class DialgenRetryStrategy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    maxAttempts: int | None = Field(default=None, ge=1, le=11, description="1 + retries")
    noAnswerDelay: float | None = Field(default=None, ge=0, description="milliseconds")
    busyDelay: float | None = Field(default=None, ge=0, description="milliseconds")


class DialgenWebhooks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    onCallComplete: str | None = Field(default=None, description="https URL")
    onBatchComplete: str | None = Field(default=None, description="https URL")


_CONVERTED = {"retryStrategy": DialgenRetryStrategy, "webhooks": DialgenWebhooks}
DialgenOptions = _model(
    "DialgenOptions",
    __config__=ConfigDict(extra="forbid"),
    fields={
        path.removeprefix("options."): (
            (_CONVERTED[path.removeprefix("options.")] | None, None)
            if path.removeprefix("options.") in _CONVERTED
            else _documented_setting(name)
        )
        for name, info in BatchSettings.model_fields.items()
        for path in [next((m.dialgen for m in info.metadata if isinstance(m, Names)), None)]
        if path and path.startswith("options.")
    },
)

SEED_003_EXAMPLE = {
    "agentId": "agt_demo",
    "userId": "ws_0123456789abcdef",
    "contacts": [
        {
            "id": "contact_clx789xyz",
            "phoneNumber": "+15551234567",
            "name": "Jane Doe",
            "email": "jane@example.com",
            "company": "Acme Corp",
            "metadata": {"lead_score": 80},
        },
        {"phoneNumber": "+15557654321", "name": "John Smith", "metadata": {"account_id": "A123"}},
    ],
    "options": {
        "priority": 5,
        "scheduledStartTime": "2026-11-16T09:00:00.000Z",
        "timezone": "UTC",
        "maxCallsPerSecond": 10,
        "retryStrategy": {"maxAttempts": 3, "noAnswerDelay": 3600000, "busyDelay": 300000},
        "webhooks": {"onCallComplete": "https://api.your-crm.com/webhook/dialgen/call-complete"},
        "tags": ["Q4_campaign", "high_priority"],
    },
}


class DialgenBatchRequest(BaseModel):
    """Seed 003's create (POST /api/v1/batch; also POST /batch-calls)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=cast(Any, {"examples": [SEED_003_EXAMPLE]})
    )

    agentId: str = Field(description="the agent to run (may be left out if the workspace has one)")
    userId: str | None = Field(default=None, description="your workspace id (GET /me)")
    fromPhoneNumber: str | None = _documented_setting("from_phone_number")[1]
    fromPhoneNumbers: list[str] | None = _documented_setting("from_phone_numbers")[1]
    contacts: list[DialgenContact] = Field(min_length=1, max_length=100_000)
    options: DialgenOptions | None = None  # type: ignore[valid-type]


class CallingHour(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(description="HH:MM")
    end: str = Field(description="HH:MM")


SEED_004_EXAMPLE = {
    "batchName": "API Campaign May 2025",
    "callingNumbers": ["<an id from GET /phone-numbers>"],
    "retry": 3,
    "delay": 60,
    "timezone": "America/New_York",
    "callingHour": {"start": "09:00", "end": "17:00"},
    "allowedDays": [1, 2, 3, 4, 5],
}


class NexusBatchFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batchName: str | None = _documented_setting("name")[1]
    callingNumbers: list[str] | None = Field(
        default=None, description="phone ids from GET /phone-numbers (or E.164 numbers)"
    )
    retry: int | None = Field(
        default=None, ge=0, le=10, description="redials of a call not connected"
    )
    delay: float | None = Field(default=None, ge=0, description="seconds between redials")
    timezone: str | None = _documented_setting("timezone")[1]
    callingHour: CallingHour | None = None
    allowedDays: list[int] | None = Field(default=None, description="0 = Sunday ... 6")
    tags: list[str] | None = _documented_setting("tags")[1]
    agentId: str | None = _documented_setting("agent_id")[1]


class NexusCreateBatch(NexusBatchFields):
    """Seed 004's createBatch: a draft batch; add contacts, then start it."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=cast(Any, {"examples": [SEED_004_EXAMPLE]})
    )

    batchName: str = Field(min_length=1, description="a name for the batch")
    callingNumbers: list[str] = Field(
        min_length=1, description="phone ids from GET /phone-numbers (or E.164 numbers)"
    )


class NexusUpdateBatch(NexusBatchFields):
    """Change a batch's metadata (while draft, paused or scheduled; the name any time)."""

    batchId: str


class NexusAddContacts(BaseModel):
    """Add contacts to a draft batch."""

    model_config = ConfigDict(extra="forbid")

    batchId: str
    contacts: list[DialgenContact] = Field(min_length=1, max_length=100_000)


class NexusBatchId(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batchId: str


OurBatchRequest = _model(
    "OurBatchRequest",
    __config__=ConfigDict(
        extra="forbid",
        json_schema_extra=cast(
            Any,
            {
                "examples": [
                    {
                        "agent_id": "agt_demo",
                        "from_phone_number": "+912234567890",
                        "name": "May Follow-Up Campaign",
                        "max_concurrent_calls": 10,
                        "retry_config": {"max_retries": 2, "retry_interval_minutes": 60},
                        "contacts": [{"phoneNumber": "9876543210", "customer_name": "Priya"}],
                    }
                ]
            },
        ),
    ),
    __doc__="POST /batch-calls with JSON: the settings by their names, and the contacts "
    "(or start=false for a draft). Seed 003's shape (DialgenBatchRequest) is taken too.",
    fields={
        **{name: _documented_setting(name) for name in BatchSettings.model_fields},
        "contacts": (
            list[DialgenContact] | None,
            Field(default=None, min_length=1, max_length=100_000),
        ),
        "start": (bool, Field(default=True, description="false stages a draft")),
    },
)


class ContactsRequest(BaseModel):
    """Contacts to add to a draft batch, as JSON."""

    model_config = ConfigDict(extra="forbid")

    contacts: list[DialgenContact] = Field(min_length=1, max_length=100_000)


NAMED_BODIES: tuple[type[BaseModel], ...] = (
    OurBatchRequest,
    ContactsRequest,
    DialgenBatchRequest,
    NexusCreateBatch,
    NexusUpdateBatch,
    NexusAddContacts,
    NexusBatchId,
)


_JSON_TOO: dict[str, tuple[type[BaseModel], ...]] = {
    "/batch-calls": (OurBatchRequest, DialgenBatchRequest),
    "/batch-calls/{batch_id}/contacts": (ContactsRequest,),
}


def named_body(model: type[BaseModel]) -> dict[str, Any]:
    """A JSON body documented by the named schema `model` (finish_document adds it)."""
    return {"$ref": f"#/components/schemas/{model.__name__}"}
