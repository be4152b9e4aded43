"""The workspace's suppression list: numbers never to call (`/suppression-list`).

Numbers are stored in E.164. Adding numbers also sweeps the workspace's active batches
(on the load queue: it reads every waiting recipient): anyone pending or waiting for a
retry on the list becomes `skipped` with reason `suppressed`. The Dial checks the list
again at the moment of dialling, so a number added while its recipient is being picked
is not called either.
"""

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from batch_calls.domain.records import InvalidCursor
from batch_calls.ingest.phones import ContactNumberReader
from batch_calls.ingest.readers import read_table
from batch_calls.ingest.table import FileRejected
from batch_calls.ingest.validate import PHONE_COLUMN, rejected_file_body
from batch_calls.logic.calling_rules import SUPPRESSED
from batch_calls.logic.errors import InvalidField, NotFound, ValidationFailed
from batch_calls.logic.ports import LoadQueue
from batch_calls.logic.rounds import advance
from batch_calls.logic.services import Services

MAX_NUMBERS_PER_REQUEST = 1000
MAX_PAGE_SIZE = 1000
# How a number came onto the list.
SOURCE_API = "api"
SOURCE_UPLOAD = "upload"
SOURCE_OPT_OUT = "opt_out"
_LABEL = re.compile(r"[A-Za-z0-9._-]{1,64}")
# A search of the list: the first digits of E.164 numbers ("" lists them all).
_NUMBER_PREFIX = re.compile(r"(\+\d{0,15})?")
# No caller region: every number on the list is read as international.
_INTERNATIONAL = ContactNumberReader(None)


def e164_of(raw: object) -> str | None:
    """A number as the list stores it: E.164, read as international (a leading +)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    reading = _INTERNATIONAL.read(raw.strip())
    return None if reading is None else reading.phone.e164


@dataclass(frozen=True)
class Listing:
    """Where a bulk import's numbers come from (a label a team chooses, such as
    "dnc-extract-2026-12"), and until when they hold (None: for good)."""

    source: str
    expires: datetime | None


def listing(source: object, expires_at: object, default_source: str, now: datetime) -> Listing:
    """The `source` and `expires_at` of an import, checked."""
    if source is None or source == "":
        label = default_source
    elif not isinstance(source, str) or not _LABEL.fullmatch(source):
        raise InvalidField("source", "must be a label of 1 to 64 letters, digits, '.', '_' or '-'")
    elif source == SOURCE_OPT_OUT:
        raise InvalidField("source", f"{SOURCE_OPT_OUT!r} is kept for the people who opted out")
    else:
        label = source
    if expires_at is None or expires_at == "":
        return Listing(label, None)
    try:
        expires = datetime.fromisoformat(str(expires_at).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidField("expires_at", "must be a date or time, 2027-01-31T00:00:00Z") from None
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if expires <= now:
        raise InvalidField("expires_at", "is in the past: the numbers would never be held")
    return Listing(label, expires)


@dataclass(frozen=True)
class Added:
    """What a listing did: numbers newly listed, the ones listed already, and (a file)
    the rows that hold no valid number."""

    added: int
    already_listed: int
    phone_numbers: int
    invalid_rows: list[int] | None = None


@dataclass(frozen=True)
class SuppressedPage:
    entries: list[dict[str, Any]]
    next_cursor: str | None


def add_numbers(services: Services, queue: LoadQueue, workspace_id: str, body: Any) -> Added:
    """POST /suppression-list: {"phone_numbers": [...]} or {"phone_number": "..."}, with
    an optional `source` label and `expires_at`."""
    if not isinstance(body, dict):
        raise InvalidField("body", 'must be a JSON object such as {"phone_numbers": ["+1..."]}')
    listed = listing(body.get("source"), body.get("expires_at"), SOURCE_API, services.clock())
    raw = body.get("phone_numbers", [body["phone_number"]] if "phone_number" in body else None)
    if not isinstance(raw, list) or not raw:
        raise InvalidField("phone_numbers", "must be a non-empty list of numbers in E.164 form")
    if len(raw) > MAX_NUMBERS_PER_REQUEST:
        raise InvalidField(
            "phone_numbers",
            f"lists {len(raw)} numbers; send at most {MAX_NUMBERS_PER_REQUEST}, "
            "or upload a CSV to /suppression-list/upload",
        )
    numbers = []
    for index, value in enumerate(raw):
        e164 = e164_of(value)
        if e164 is None:
            raise InvalidField(
                f"phone_numbers.{index}",
                f"{value!r} is not a valid phone number in E.164 form (+14155550100)",
            )
        numbers.append(e164)
    return _added(services, queue, workspace_id, numbers, listed)


def upload_numbers(
    services: Services,
    queue: LoadQueue,
    workspace_id: str,
    data: bytes,
    filename: str | None,
    *,
    listed: Listing,
) -> Added:
    """POST /suppression-list/upload: a file with a phone_number column (any format a
    contact file may have), such as a do-not-call extract; rows that are no valid number
    are listed, the rest added."""
    try:
        table = read_table(data, filename)
        if PHONE_COLUMN not in table.header:
            raise InvalidField("file", "has no phone_number column: name the numbers' column so")
        column = table.header.index(PHONE_COLUMN)
        numbers, invalid = [], []
        for row, cells in table.rows:
            e164 = e164_of(cells[column] if column < len(cells) else "")
            if e164 is None:
                invalid.append(row)
            else:
                numbers.append(e164)
    except FileRejected as rejected:
        raise ValidationFailed(rejected_file_body(rejected)) from None
    added = _added(services, queue, workspace_id, numbers, listed)
    return dataclasses.replace(added, invalid_rows=invalid)


def _added(
    services: Services, queue: LoadQueue, workspace_id: str, numbers: list[str], listed: Listing
) -> Added:
    added = services.database.suppress(
        workspace_id,
        numbers,
        listed.source,
        services.clock(),
        expires=listed.expires,
        permanent=listed.source == SOURCE_OPT_OUT,
    )
    if added:
        queue.request_suppression_sweep(workspace_id)
    unique = len(set(numbers))
    return Added(added, unique - added, unique)


def suppress_opted_out(services: Services, queue: LoadQueue, workspace_id: str, e164: str) -> None:
    """A provider reported that the person asked not to be called again: listed for
    good, whatever an import said of the number's expiry."""
    _added(services, queue, workspace_id, [e164], Listing(SOURCE_OPT_OUT, None))


def remove_number(services: Services, workspace_id: str, phone_number: str) -> str:
    """The number taken off the list, in E.164 form."""
    e164 = e164_of(phone_number)
    if e164 is None:
        raise InvalidField("phone_number", "is not a valid phone number in E.164 form")
    if not services.database.unsuppress(workspace_id, e164):
        raise NotFound(f"{e164} is not on this workspace's suppression list")
    return e164


def list_numbers(
    services: Services, workspace_id: str, cursor: str | None, limit: int, prefix: str = ""
) -> SuppressedPage:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidField("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    if not _NUMBER_PREFIX.fullmatch(prefix):
        raise InvalidField("prefix", "must be the start of an E.164 number, such as +1415")
    try:
        entries, next_cursor = services.database.list_suppressed(
            workspace_id, cursor or None, limit, prefix
        )
    except InvalidCursor:
        raise InvalidField("cursor", "is not a cursor this API returned") from None
    return SuppressedPage(entries, next_cursor)


def sweep(services: Services, workspace_id: str) -> int:
    """Skip everyone waiting in an active batch whose number is on the list."""
    suppressed = services.database.suppressed_numbers(workspace_id, services.clock())
    skipped = 0
    for batch_id in services.database.active_batch_ids(workspace_id) if suppressed else ():
        skipped += _skip(services, workspace_id, batch_id, suppressed)
    return skipped


def _skip(services: Services, workspace_id: str, batch_id: str, suppressed: set[str]) -> int:
    hits: Iterable[Any] = [
        due
        for due in services.attempts.waiting(workspace_id, batch_id)
        if due.phone_number in suppressed
    ]
    skipped = sum(services.attempts.skip(workspace_id, batch_id, due, SUPPRESSED) for due in hits)
    batch = services.database.get_batch(workspace_id, batch_id) if skipped else None
    if batch is not None:
        advance(services, batch)  # nobody left waiting: the batch may be complete
    return skipped
