"""The results report: one CSV row per contact row, in file order (api-contract.md).

Every original column in its original order, then what became of the row, what the
provider told of its calls, and one `data.<name>` column per post-call data field any
call of the batch returned (names in sorted order: the batch's analytics item keeps the
set of them, so the header is known before the first row is written). The CSV is
written row by row from the recipients as the store pages through them, into a spooled
temporary file (memory up to SPOOL_BYTES, disk beyond) that is streamed to S3: a
100,000-row report is never held whole in memory.

Small reports (at most INLINE_LIMIT_BYTES) are answered inline; larger ones as a
redirect to a presigned S3 URL. Asked for a link (`?as=url`: a browser's fetch cannot
follow the redirect usefully), any report is answered with its presigned URL. The
report of a settled batch (ended, nothing live nor waiting) is written once to S3 next
to its upload and served from there.
"""

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO

from batch_calls.domain.batch import Batch, Recipient
from batch_calls.domain.report_keys import final_report_key, snapshot_report_key
from batch_calls.domain.times import utc_text
from batch_calls.logic.errors import NotFound
from batch_calls.logic.ports import Blobs, Database

RESULT_COLUMNS = (
    "final_status",
    "attempts_made",
    "call_id",
    "last_outcome",
    "last_attempt_at",
    "skip_reason",
    "duration_seconds",
    "answered_by",
    "ended_reason",
    "recording_url",
    "transcript_url",
)
DATA_PREFIX = "data."
INLINE_LIMIT_BYTES = 1024 * 1024
SPOOL_BYTES = 8 * 1024 * 1024
URL_EXPIRES_SECONDS = 15 * 60
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Report:
    """Either the CSV itself or a presigned URL to it."""

    filename: str
    body: bytes | None = None
    url: str | None = None


def neutralised(cell: str) -> str:
    """A leading ' makes a spreadsheet show the cell as text instead of running it."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def report_row(
    columns: Sequence[str], recipient: Recipient, data_fields: Sequence[str] = ()
) -> list[str]:
    original = {**recipient.variables, "phone_number": recipient.phone_number}
    cells = [original.get(column, "") for column in columns]
    duration = recipient.duration_seconds
    cells += [
        str(recipient.status),
        str(recipient.attempts),
        recipient.call_id or "",
        recipient.last_outcome or "",
        utc_text(recipient.last_attempt_at) or "",
        recipient.skip_reason or "",
        "" if duration is None else f"{duration:g}",
        recipient.answered_by or "",
        recipient.ended_reason or "",
        recipient.recording_url or "",
        recipient.transcript_url or "",
    ]
    cells += [recipient.data.get(name, "") for name in data_fields]
    return [neutralised(cell) for cell in cells]


def write_csv(
    columns: Sequence[str],
    recipients: Iterable[Recipient],
    out: IO[str],
    data_fields: Sequence[str] = (),
) -> int:
    """The report to `out`, a row at a time; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    header = [*columns, *RESULT_COLUMNS, *(DATA_PREFIX + name for name in data_fields)]
    writer.writerow([neutralised(name) for name in header])
    rows = 0
    for recipient in recipients:
        writer.writerow(report_row(columns, recipient, data_fields))
        rows += 1
    return rows


def data_fields(database: Database, batch: Batch) -> list[str]:
    """The post-call data fields any call of the batch returned, in sorted order."""
    seen = database.analytics(batch.workspace_id, batch.batch_id).get("data_fields") or ()
    return sorted(str(name) for name in seen)


def report(
    database: Database, blobs: Blobs, workspace_id: str, batch_id: str, *, as_url: bool = False
) -> Report:
    """GET /batch-calls/{id}/report (as_url: a presigned URL whatever its size)."""
    batch = database.get_batch(workspace_id, batch_id)
    if batch is None:
        raise NotFound(f"there is no batch {batch_id}")
    filename = f"{batch_id}-report.csv"
    if batch.settled:
        key = final_report_key(workspace_id, batch_id)
        size = blobs.report_size(key)
        if size is None:
            size = store_report(database, blobs, batch, key)
        if size <= INLINE_LIMIT_BYTES and not as_url:
            return Report(filename, body=blobs.get_report(key))
        return Report(filename, url=blobs.report_url(key, filename, URL_EXPIRES_SECONDS))
    with _built(database, batch) as built:
        key = snapshot_report_key(workspace_id, batch_id)
        return delivered(blobs, built, key, filename, as_url=as_url)


def delivered(
    blobs: Blobs, built: IO[bytes], key: str, filename: str, *, as_url: bool = False
) -> Report:
    """A CSV built in a spooled file (positioned at its end): inline up to
    INLINE_LIMIT_BYTES unless `as_url`, else put at `key` and answered with a presigned
    URL."""
    if built.tell() <= INLINE_LIMIT_BYTES and not as_url:
        built.seek(0)
        return Report(filename, body=built.read())
    built.seek(0)
    blobs.put_report(key, built)
    return Report(filename, url=blobs.report_url(key, filename, URL_EXPIRES_SECONDS))


def spooled_csv(write: Callable[[IO[str]], object]) -> IO[bytes]:
    """What `write` writes, in a spooled temporary file (memory up to SPOOL_BYTES, disk
    beyond) positioned at its end. UTF-8 with a BOM, so spreadsheets read names in any
    script correctly."""
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    text = io.TextIOWrapper(spooled, encoding="utf-8-sig", newline="")
    write(text)
    text.flush()
    text.detach()
    return spooled


def store_final_report(database: Database, blobs: Blobs, workspace_id: str, batch_id: str) -> bool:
    """Write the report of a settled batch next to its upload (when the batch ends);
    False when the batch is not settled yet."""
    batch = database.get_batch(workspace_id, batch_id)
    if batch is None or not batch.settled:
        return False
    store_report(database, blobs, batch, final_report_key(workspace_id, batch_id))
    return True


def store_report(database: Database, blobs: Blobs, batch: Batch, key: str) -> int:
    """Build the report and put it at `key`; returns its size in bytes."""
    with _built(database, batch) as built:
        size = built.tell()
        built.seek(0)
        blobs.put_report(key, built)
    return size


def _built(database: Database, batch: Batch) -> IO[bytes]:
    """The report in a spooled temporary file, positioned at its end."""
    return spooled_csv(
        lambda out: write_csv(
            batch.report_columns,
            database.all_recipients(batch.workspace_id, batch.batch_id),
            out,
            data_fields(database, batch),
        )
    )
