"""The batch use cases behind the API and the S3 drop.

Each takes its stores in `Services`, so tests run them against moto or fakes, and
returns the batch (or a small typed result) for the adapter to render
(handlers/views.py); what a request got wrong is a RequestError.
"""

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from batch_calls.domain import compliance
from batch_calls.domain.batch import (
    FINAL_BATCH_STATUSES,
    Batch,
    BatchSettings,
    BatchStatus,
    Profile,
    Recipient,
    RecipientStatus,
    initial_counts,
    new_batch_id,
)
from batch_calls.domain.calls import execution_name
from batch_calls.domain.records import MAX_ITEM_BYTES, InvalidCursor
from batch_calls.domain.workspace import Workspace, phone_number_id
from batch_calls.ingest.table import MAX_FILE_BYTES, Table
from batch_calls.ingest.validate import (
    PHONE_COLUMN,
    ValidationOptions,
    ValidationResult,
    validate_file,
    validate_table,
)
from batch_calls.logic.calling_rules import apply_upload_rules
from batch_calls.logic.errors import (
    Forbidden,
    InvalidField,
    InvalidState,
    MissingVariables,
    NotFound,
    ValidationFailed,
)
from batch_calls.logic.rounds import advance
from batch_calls.logic.services import Services
from batch_calls.logic.settings import (
    CHANGEABLE_FIELDS,
    CHANGEABLE_WHILE_RUNNING,
    SettingsRequest,
    check_against_workspace,
    parse_settings,
)

UPLOAD_EXPIRES_SECONDS = 15 * 60
MAX_PAGE_SIZE = 100
MAX_RECIPIENT_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Contacts:
    """A contact list as a request brought it: file bytes, or an already-read table."""

    data: bytes | None = None
    filename: str | None = None
    table: Table | None = None
    # JSON contacts: named by their index (contacts[3]) rather than a spreadsheet row.
    from_json: bool = False


@dataclass(frozen=True)
class CreateRequest:
    """What any create request asks for, whatever its shape (the adapters: handlers/api.py
    for the form, logic/json_batches.py for JSON, logic/drops.py for S3 metadata)."""

    settings: SettingsRequest
    contacts: Contacts | None
    start: bool = True
    # Seed 003's userId: must be the key's workspace (GET /me).
    user_id: str | None = None
    # With no caller number given and several in the workspace: refuse (a file's national
    # numbers need the caller's country), or rotate them all (the JSON shapes, whose
    # seeds have no caller number).
    caller_default: Literal["only", "all"] = "only"


@dataclass(frozen=True)
class Created:
    """A batch as created (or given more contacts), with its upload's warnings
    (duplicates, suppressed numbers, unknown time zones)."""

    batch: Batch
    warnings: list[dict[str, Any]]


@dataclass(frozen=True)
class Preview:
    """What a create would accept: the validation summary, and the agent's prompt
    variables."""

    validation: dict[str, Any]
    agent_placeholders: list[str]


@dataclass(frozen=True)
class BatchPage:
    batches: list[Batch]
    page: int
    limit: int
    total: int


@dataclass(frozen=True)
class RecipientPage:
    recipients: list[Recipient]
    next_cursor: str | None


@dataclass(frozen=True)
class Upload:
    """Where and how to POST a file too large for the API, and until when."""

    upload_id: str
    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_at: datetime


# -- create ---------------------------------------------------------------------------


def create_batch(
    services: Services,
    workspace_id: str,
    request: CreateRequest,
    *,
    batch_id: str | None = None,
    rerun_of: str | None = None,
) -> Created:
    """Validate settings and contacts, store them, and queue the recipients' loading.

    A given `batch_id` makes a repeated call (the same S3 drop delivered twice) answer
    with the batch the first call created instead of a second one. `rerun_of`: the
    batch whose recipients these are again (logic/results.py rerun)."""
    now = services.clock()
    workspace = _workspace(services, workspace_id)
    settings, region = _checked_settings(services, workspace, request, now)
    contacts, start = request.contacts, request.start
    if contacts is None and start:
        raise InvalidField("file", "is required (or upload_id, or start=false for a draft)")

    if batch_id is not None and (existing := services.database.get_batch(workspace_id, batch_id)):
        return Created(existing, [])
    batch_id = batch_id or new_batch_id()
    result = (
        None if contacts is None else _validated(services, workspace, settings, region, contacts)
    )
    batch = Batch(
        batch_id=batch_id,
        workspace_id=workspace_id,
        settings=settings,
        status=_initial_status(settings, start, now),
        counts=initial_counts(
            len(result.accepted) if result else 0, len(result.skipped) if result else 0
        ),
        variables=result.variables if result else [],
        columns=result.columns if result else [],
        parts=1 if result else 0,
        created_at=now,
        updated_at=now,
        rerun_of=rerun_of,
    )
    _check_storable(services, batch)  # before anything is written: a refusal stores nothing
    if result is not None and contacts is not None:
        _store_part(services, batch, 1, contacts, result)
    if not services.database.create_batch(batch):  # created by a concurrent twin
        return _with_warnings(find_batch(services, workspace_id, batch_id), result, contacts)
    services.notifications.batch_status_changed(batch, None)
    if result is not None:
        services.load_queue.request_load(workspace_id, batch_id, 1)
    return _with_warnings(batch, result, contacts)


def preview_batch(services: Services, workspace_id: str, request: CreateRequest) -> Preview:
    """Every check of `create_batch`, with the same 400s, and nothing stored: the
    validation summary and the agent's prompt variables (the console's preview)."""
    workspace = _workspace(services, workspace_id)
    settings, region = _checked_settings(services, workspace, request, services.clock())
    if request.contacts is None:
        raise InvalidField("file", "is required (or upload_id)")
    result = _validated(services, workspace, settings, region, request.contacts)
    agent = services.database.get_agent(workspace_id, settings.agent_id)
    return Preview(result.body(), agent.placeholders() if agent else [])


def _checked_settings(
    services: Services, workspace: Workspace, request: CreateRequest, now: datetime
) -> tuple[BatchSettings, str]:
    """The request's settings checked against the workspace, with the workspace's
    defaults filled in, and the caller number's region."""
    if request.user_id is not None and request.user_id != workspace.workspace_id:
        raise InvalidField("userId", "is not this API key's workspace: see GET /me")
    asked = request.settings
    if not asked.fields.get("from_phone_number") and not asked.fields.get("from_phone_numbers"):
        asked.fields["from_phone_numbers"] = _default_caller_numbers(
            services, workspace.workspace_id, request.caller_default
        )
        asked.sent_as.setdefault("from_phone_number", "from_phone_number")
    if not asked.fields.get("agent_id"):
        asked.fields["agent_id"] = _default_agent(
            services, workspace.workspace_id, asked.name_of("agent_id")
        )
    settings = parse_settings(asked, base={"name": f"Batch {now:%Y-%m-%d %H:%M} UTC"})
    if settings.calling_window is None and workspace.calling_window is not None:
        # The workspace's default window, copied so the batch shows the one it keeps.
        settings = settings.model_copy(update={"calling_window": workspace.calling_window})
    region = check_against_workspace(settings, workspace, services.database, now, asked)
    if settings.webhooks is not None and not workspace.webhook_secret:
        raise InvalidField(
            asked.name_of("webhooks"),
            "this workspace has no webhook signing secret yet: an administrator creates "
            "one with `batch-calls admin rotate-webhook-secret`",
        )
    return settings, region


def add_contacts(
    services: Services, workspace_id: str, batch_id: str, contacts: Contacts
) -> Created:
    """Add a contact file to a draft batch."""
    batch = find_batch(services, workspace_id, batch_id)
    if batch.status is not BatchStatus.DRAFT:
        raise InvalidState(
            f"contacts can only be added while the batch is draft; it is {batch.status}",
            status=str(batch.status),
        )
    workspace = _workspace(services, workspace_id)
    region = check_against_workspace(batch.settings, workspace, services.database, services.clock())
    result = _validated(services, workspace, batch.settings, region, contacts)
    part = batch.parts + 1
    _store_part(services, batch, part, contacts, result)
    variables = list(dict.fromkeys([*batch.variables, *result.variables]))
    columns = list(dict.fromkeys([*batch.columns, *result.columns]))
    updated = services.database.add_part(
        batch, len(result.accepted), len(result.skipped), variables, columns
    )
    if updated is None:  # it was started, or another file was added, at the same moment
        raise InvalidState("the batch changed while the contacts were added; try again")
    services.load_queue.request_load(workspace_id, batch_id, part)
    return _with_warnings(updated, result, contacts)


# A JSON contact is row index + 2 of the table read from it (the header is row 1).
_FIRST_CONTACT_ROW = 2


def _numbered(contacts: Contacts, body: dict[str, Any]) -> dict[str, Any]:
    """JSON contacts are named by their index in `contacts`, not by spreadsheet rows."""
    if not contacts.from_json:
        return body
    for group in [*body.get("errors", []), *body.get("warnings", [])]:
        if "rows" in group:
            group["contacts"] = [row - _FIRST_CONTACT_ROW for row in group["rows"]]
    if body.get("error") == "validation_failed" and body.get("invalid_rows"):
        first = body["errors"][0]["contacts"][0]
        body["message"] = (
            f"{body['invalid_rows']} of {body['total_rows']} contacts failed validation "
            f"(the first: contacts[{first}])"
        )
    return body


def _check_storable(services: Services, batch: Batch) -> None:
    """InvalidField naming the largest setting if the batch is too large to store."""
    size = services.database.batch_item_bytes(batch)
    if size > MAX_ITEM_BYTES:
        settings = batch.settings.model_dump(mode="json")
        largest = max(settings, key=lambda name: len(json.dumps(settings[name])))
        raise InvalidField(
            largest,
            f"makes the batch too large to store ({size // 1024:,} KB; at most "
            f"{MAX_ITEM_BYTES // 1024} KB in all): make it shorter",
        )


def _with_warnings(
    batch: Batch, result: ValidationResult | None, contacts: Contacts | None
) -> Created:
    """The batch with its upload's warnings, named as the contacts were sent (none for
    a draft without contacts)."""
    if result is None or contacts is None:
        return Created(batch, [])
    warnings = _numbered(contacts, {"warnings": result.body()["warnings"]})["warnings"]
    return Created(batch, warnings)


def _validated(
    services: Services,
    workspace: Workspace,
    settings: BatchSettings,
    region: str,
    contacts: Contacts,
) -> ValidationResult:
    options = ValidationOptions(
        region, workspace.telephony, settings.on_invalid_rows, settings.dedupe
    )
    if contacts.table is not None:
        result = validate_table(contacts.table, options)
    else:
        result = validate_file(contacts.data or b"", contacts.filename, options)
    if result.file_error is None:
        apply_upload_rules(
            result,
            settings.calling_window,
            services.database.suppressed_numbers(workspace.workspace_id, services.clock()),
            needs_consent=compliance.in_force(
                workspace.compliance_profile, settings.compliance_profile
            )
            is not Profile.NONE,
        )
    if not result.is_accepted:
        raise ValidationFailed(_numbered(contacts, result.body()))
    agent = services.database.get_agent(workspace.workspace_id, settings.agent_id)
    if agent is not None:
        missing = [
            name
            for name in agent.placeholders()
            if name not in result.variables and name != PHONE_COLUMN
        ]
        if missing:
            raise MissingVariables(
                f"the agent's prompt uses {', '.join(missing)}, which the file has no column "
                "for: add the columns (names are case-sensitive) or change the prompt",
                missing=missing,
            )
    return result


def _store_part(
    services: Services, batch: Batch, part: int, contacts: Contacts, result: ValidationResult
) -> None:
    if contacts.data is not None:
        services.blobs.put_source(
            batch.workspace_id, batch.batch_id, part, contacts.data, contacts.filename or "contacts"
        )
    services.blobs.put_recipients(batch.workspace_id, batch.batch_id, part, _records(result))


def _records(result: ValidationResult) -> Iterator[dict[str, Any]]:
    """The normalised rows the loader turns into recipient items."""
    for accepted in result.accepted:
        yield {
            "row": accepted.row,
            "phone_number": accepted.phone.e164,
            "region": accepted.phone.region,
            "status": str(RecipientStatus.PENDING),
            "variables": result.variables_of(accepted),
        }
    for skipped in result.skipped:
        yield {
            "row": skipped.row,
            "phone_number": skipped.phone_number,
            "status": str(RecipientStatus.SKIPPED),
            "skip_reason": skipped.reason,
            "variables": result.variables_of(skipped),
        }


def _initial_status(settings: BatchSettings, start: bool, now: datetime) -> BatchStatus:
    if not start:
        return BatchStatus.DRAFT
    if settings.scheduled_at is not None and settings.scheduled_at > now:
        return BatchStatus.SCHEDULED
    return BatchStatus.INITIATED


def _default_caller_numbers(
    services: Services, workspace_id: str, rule: Literal["only", "all"]
) -> list[str]:
    numbers = sorted(services.database.caller_numbers(workspace_id))
    if not numbers or (len(numbers) > 1 and rule == "only"):
        raise InvalidField(
            "from_phone_number",
            "is required: give the caller number in E.164 form"
            + ("" if numbers else " (this workspace has none yet)"),
        )
    return numbers


def _default_agent(services: Services, workspace_id: str, sent_as: str) -> str:
    agents = services.database.agent_ids(workspace_id)
    if len(agents) != 1:
        raise InvalidField(sent_as, "is required: the id of the agent to run")
    return agents[0]


def resolve_phone_ids(services: Services, workspace_id: str, ids: tuple[str, ...]) -> list[str]:
    """Seed 004's callingNumbers: the ids GET /phone-numbers gives (or E.164 numbers).
    One that is none of this workspace's numbers is refused as the seed does (403)."""
    numbers = {
        phone_number_id(workspace_id, number): number
        for number in services.database.caller_numbers(workspace_id)
    }
    resolved = []
    for index, phone_id in enumerate(ids):
        if phone_id in numbers.values():
            resolved.append(phone_id)
        elif phone_id in numbers:
            resolved.append(numbers[phone_id])
        else:
            raise Forbidden(
                f"callingNumbers[{index}]: {phone_id[:40]!r} is not a phone number of this "
                "workspace (see GET /phone-numbers)"
            )
    return resolved


# -- read ------------------------------------------------------------------------------


def list_batches(  # noqa: PLR0917 - the query's parameters
    services: Services,
    workspace_id: str,
    page: int,
    limit: int,
    status: str | None,
    tag: str | None = None,
) -> BatchPage:
    if page < 1:
        raise InvalidField("page", "must be 1 or more")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidField("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    wanted = _enum(BatchStatus, status, "status")
    batches, total = services.database.list_batches(
        workspace_id, wanted, offset=(page - 1) * limit, limit=limit, tag=tag or None
    )
    return BatchPage(batches, page, limit, total)


def list_recipients(
    services: Services,
    workspace_id: str,
    batch_id: str,
    *,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> RecipientPage:
    find_batch(services, workspace_id, batch_id)  # 404 before anything else
    if not 1 <= limit <= MAX_RECIPIENT_PAGE_SIZE:
        raise InvalidField("limit", f"must be between 1 and {MAX_RECIPIENT_PAGE_SIZE}")
    wanted = _enum(RecipientStatus, status, "status")
    try:
        recipients, next_cursor = services.database.list_recipients(
            workspace_id, batch_id, wanted, cursor or None, limit
        )
    except InvalidCursor:
        raise InvalidField("cursor", "is not a cursor this API returned") from None
    return RecipientPage(recipients, next_cursor)


# -- control ---------------------------------------------------------------------------

_ACTIONS: dict[str, tuple[frozenset[BatchStatus], str]] = {
    "pause": (
        frozenset({BatchStatus.INITIATED, BatchStatus.SCHEDULED, BatchStatus.RUNNING}),
        "running, starting or scheduled",
    ),
    "resume": (frozenset({BatchStatus.PAUSED}), "paused"),
    "cancel": (
        frozenset(BatchStatus) - FINAL_BATCH_STATUSES,
        "not yet completed or cancelled",
    ),
    "start": (frozenset({BatchStatus.DRAFT}), "draft"),
}


_DONE = {"pause": "paused", "resume": "resumed", "cancel": "cancelled", "start": "started"}


def control_batch(services: Services, workspace_id: str, batch_id: str, action: str) -> Batch:
    """pause, resume, cancel (permanent) or start (a draft)."""
    batch = find_batch(services, workspace_id, batch_id)
    allowed, allowed_text = _ACTIONS[action]
    now = services.clock()
    if batch.status not in allowed:
        raise InvalidState(
            f"a batch can be {_DONE[action]} only when {allowed_text}; this one is {batch.status}",
            status=str(batch.status),
        )
    if action == "start" and batch.parts == 0:
        raise InvalidState("add contacts before starting the batch", status=str(batch.status))
    target = {
        "pause": BatchStatus.PAUSED,
        # A batch paused before its scheduled start waits for it again.
        "resume": (
            BatchStatus.SCHEDULED
            if _initial_status(batch.settings, True, now) is BatchStatus.SCHEDULED
            else BatchStatus.RUNNING
        ),
        "cancel": BatchStatus.CANCELLED,
        "start": _initial_status(batch.settings, True, now),
    }[action]
    stopping = target in {BatchStatus.PAUSED, BatchStatus.CANCELLED}
    updated = services.database.transition_batch(
        workspace_id,
        batch_id,
        allowed_from=[batch.status],
        to=target,
        now=now,
        finished_at=now if target is BatchStatus.CANCELLED else None,
        end_round=stopping,
    )
    if updated is None:
        raise InvalidState("the batch changed at the same moment; read it and try again")
    services.notifications.batch_status_changed(updated, batch.status)
    if stopping and batch.active_round is not None:
        # In-flight calls finish; their outcomes are recorded by the provider's webhook.
        services.workflow.stop(execution_name(batch_id, batch.active_round))
    if target is BatchStatus.CANCELLED:
        services.load_queue.request_cancel(workspace_id, batch_id)
    else:
        advance(services, updated)
    return updated


def update_batch(
    services: Services, workspace_id: str, batch_id: str, changes: SettingsRequest
) -> Batch:
    """PATCH: change settings while the batch is paused, scheduled or draft (some also
    while it runs)."""
    for name in changes.fields:
        if name not in CHANGEABLE_FIELDS:
            raise InvalidField(
                changes.name_of(name),
                f"cannot be changed; only {', '.join(sorted(CHANGEABLE_FIELDS))} can",
            )
    batch = find_batch(services, workspace_id, batch_id)
    running = (
        batch.status is BatchStatus.RUNNING and set(changes.fields) <= CHANGEABLE_WHILE_RUNNING
    )
    if not running and batch.status not in {
        BatchStatus.PAUSED,
        BatchStatus.SCHEDULED,
        BatchStatus.DRAFT,
    }:
        raise InvalidState(
            "settings can be changed only while paused, scheduled or draft (only "
            f"{', '.join(sorted(CHANGEABLE_WHILE_RUNNING))} while running); it is "
            f"{batch.status}",
            status=str(batch.status),
        )
    now = services.clock()
    settings = parse_settings(changes, base=batch.settings.model_dump())
    check_against_workspace(
        settings, _workspace(services, workspace_id), services.database, now, changes
    )
    _check_storable(services, batch.model_copy(update={"settings": settings}))
    updated = services.database.transition_batch(
        workspace_id,
        batch_id,
        allowed_from=[batch.status],
        to=batch.status,
        now=now,
        settings=settings,
    )
    if updated is None:
        raise InvalidState("the batch changed at the same moment; read it and try again")
    if batch.parts and _hours_changed(batch.settings, settings):
        services.load_queue.request_window_reset(workspace_id, batch_id)
    if running and settings.max_concurrent_calls > batch.settings.max_concurrent_calls:
        updated = _rerun_with_more_slots(services, updated)
    return updated


def _hours_changed(before: BatchSettings, after: BatchSettings) -> bool:
    """Whether the hours a recipient is checked against changed (those waiting for an
    opening of the old ones are checked again)."""
    return any(
        getattr(before, name) != getattr(after, name)
        for name in ("calling_window", "compliance_profile", "observe_federal_holidays")
    )


def _rerun_with_more_slots(services: Services, batch: Batch) -> Batch:
    """A running batch's concurrency was raised: its run has too few slots, so it is
    stopped and a new one started at once. Calls of the old run go on and are recorded
    by their callbacks (the semaphore keeps their units until then; lost ones are found
    by the sweep); a lowered concurrency needs nothing (slots above it end)."""
    if batch.active_round is None:
        return batch
    services.workflow.stop(execution_name(batch.batch_id, batch.active_round))
    ended = services.database.end_round(batch.workspace_id, batch.batch_id, batch.active_round)
    if ended is None:
        return batch  # the run ended meanwhile: its FinishRound plans the next
    advance(services, ended)
    return services.database.get_batch(batch.workspace_id, batch.batch_id) or ended


# -- uploads ---------------------------------------------------------------------------


def create_upload(services: Services, workspace_id: str) -> Upload:
    """A presigned S3 POST for a file too large to send through the API (up to 10 MB)."""
    upload_id = "upl_" + secrets.token_hex(12)
    post = services.blobs.presigned_upload(
        workspace_id, upload_id, MAX_FILE_BYTES, UPLOAD_EXPIRES_SECONDS
    )
    expires = services.clock() + timedelta(seconds=UPLOAD_EXPIRES_SECONDS)
    return Upload(upload_id, post["url"], post["fields"], MAX_FILE_BYTES, expires)


def uploaded_contacts(services: Services, workspace_id: str, upload_id: str) -> Contacts:
    data = services.blobs.get_upload(workspace_id, upload_id, MAX_FILE_BYTES)
    if data is None:
        raise InvalidField("upload_id", "nothing was uploaded with this id, or it has expired")
    return Contacts(data=data)


# -- helpers ---------------------------------------------------------------------------


def _workspace(services: Services, workspace_id: str) -> Workspace:
    workspace = services.database.get_workspace(workspace_id)
    if workspace is None:
        raise NotFound("this API key's workspace no longer exists")
    return workspace


def find_batch(services: Services, workspace_id: str, batch_id: str) -> Batch:
    batch = services.database.get_batch(workspace_id, batch_id)
    if batch is None:
        raise NotFound(f"there is no batch {batch_id}")
    return batch


_Status = TypeVar("_Status", BatchStatus, RecipientStatus)


def _enum(kind: type[_Status], value: str | None, name: str) -> _Status | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise InvalidField(name, f"must be one of {', '.join(kind)}") from None
