"""The compliance audit of a batch: one CSV row per placed call, with the rules its
claim checked and the facts it used (GET /batch-calls/{id}/audit), so a team can answer
a complaint with evidence: the recipient's zones and local times, the windows, the
compliance profile and the number's state, the calls each contact limit counted.

The rows come from the call items (each claim keeps its audit there), found from the
recipients in file order (a recipient's calls have ids of its batch, row and attempt).
Like the results report, the CSV is written into a spooled file and answered inline up
to 1 MB, else as a redirect to S3 (or as its presigned URL, asked `?as=url`).
"""

import csv
from collections.abc import Iterator
from typing import IO

from batch_calls.domain.batch import Batch
from batch_calls.domain.calls import call_id
from batch_calls.domain.records import AuditedCall
from batch_calls.domain.report_keys import audit_key
from batch_calls.logic.errors import NotFound
from batch_calls.logic.ports import Attempts, Blobs, Database
from batch_calls.logic.reports import Report, delivered, neutralised, spooled_csv

PAGE = 100  # calls read at once
AUDIT_COLUMNS = (
    "call_id",
    "phone_number",
    "attempt",
    "started_at",
    "outcome",
    "checked_at",
    "profile",
    "state",
    "windows",
    "local_times",
    "limit_counts",
    "consent",
    "holidays",
)


def audit(
    database: Database,
    attempts: Attempts,
    blobs: Blobs,
    workspace_id: str,
    batch_id: str,
    *,
    as_url: bool = False,
) -> Report:
    """GET /batch-calls/{id}/audit (as_url: a presigned URL whatever its size)."""
    batch = database.get_batch(workspace_id, batch_id)
    if batch is None:
        raise NotFound(f"there is no batch {batch_id}")
    filename = f"{batch_id}-audit.csv"

    def write(out: IO[str]) -> None:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(AUDIT_COLUMNS)
        for number, call in _calls(database, attempts, batch):
            writer.writerow([neutralised(cell) for cell in row(number, call)])

    with spooled_csv(write) as built:
        return delivered(blobs, built, audit_key(workspace_id, batch_id), filename, as_url=as_url)


def row(number: str, call: AuditedCall) -> list[str]:
    facts = call.audit
    return [
        call.call_id,
        number,
        str(call.attempt),
        call.started_at,
        call.outcome or "",
        str(facts.get("checked_at", "")),
        str(facts.get("profile", "")),
        str(facts.get("state", "")),
        "; ".join(facts.get("windows") or ()),
        "; ".join(facts.get("local_times") or ()),
        "; ".join(f"{name}: {count}" for name, count in (facts.get("limit_counts") or {}).items()),
        str(facts.get("consent", "")),
        str(facts.get("holidays", "")),
    ]


def _calls(
    database: Database, attempts: Attempts, batch: Batch
) -> Iterator[tuple[str, AuditedCall]]:
    """Each placed call of the batch with its recipient's number, in file order, a page
    of recipients at a time."""
    page: dict[str, str] = {}  # call id -> number
    for recipient in database.all_recipients(batch.workspace_id, batch.batch_id):
        for attempt in range(1, recipient.attempts + 1):
            page[call_id(batch.batch_id, recipient.part, recipient.row, attempt)] = (
                recipient.phone_number
            )
        if len(page) >= PAGE:
            yield from _read(attempts, page)
            page = {}
    yield from _read(attempts, page)


def _read(attempts: Attempts, page: dict[str, str]) -> Iterator[tuple[str, AuditedCall]]:
    for call in attempts.audited_calls(list(page)):
        yield page[call.call_id], call
