"""What a team does with a batch's results: read its analytics, and call again the
recipients whose final status it chooses (a re-run: a new, ordinary batch)."""

from collections.abc import Iterator, Mapping
from typing import Any

from batch_calls.domain import results
from batch_calls.domain.batch import Batch, RecipientStatus
from batch_calls.ingest.table import Table
from batch_calls.logic.batches import Contacts, Created, CreateRequest, create_batch, find_batch
from batch_calls.logic.errors import InvalidField
from batch_calls.logic.services import Services
from batch_calls.logic.settings import SETTINGS, SettingsRequest, refuse_unknown

# The final statuses a re-run can select (skipped rows were never callable).
RERUNNABLE = (
    RecipientStatus.COMPLETED,
    RecipientStatus.NO_ANSWER,
    RecipientStatus.VOICEMAIL,
    RecipientStatus.FAILED,
    RecipientStatus.CANCELLED,
)
# What a re-run does not copy from its source: its start time has passed, and its
# name says what it is.
_NOT_COPIED = frozenset({"scheduled_at", "name"})


def analytics(services: Services, workspace_id: str, batch_id: str) -> dict[str, Any]:
    """GET /batch-calls/{id}/analytics: two reads, whatever the batch's size."""
    batch = find_batch(services, workspace_id, batch_id)
    counters = services.database.analytics(workspace_id, batch_id)
    return {
        "batch_id": batch.batch_id,
        "status": str(batch.status),
        "recipients": {"total": batch.total, **batch.counts},
        **results.summarise(counters),
    }


def rerun(services: Services, workspace_id: str, batch_id: str, body: Mapping[str, Any]) -> Created:
    """POST /batch-calls/{id}/rerun: a new batch of the recipients whose status is one
    of `statuses`, with their original variables and the source's settings, each
    overridable in the body. The new batch names its source (rerun_of) and the source
    lists it (reruns)."""
    source = find_batch(services, workspace_id, batch_id)
    wanted = _statuses(body.get("statuses"))
    overrides = {name: value for name, value in body.items() if name != "statuses"}
    refuse_unknown(overrides, SETTINGS)
    settings = source.settings.model_dump(mode="json", exclude=set(_NOT_COPIED))
    fields = {**settings, "name": f"{source.settings.name} (re-run)", **overrides}
    selected = sum(source.counts[str(status)] for status in wanted if str(status) in source.counts)
    if selected == 0:
        raise InvalidField(
            "statuses",
            f"no recipient of {batch_id} has the status {', '.join(wanted)} (yet)",
        )
    table = Table(header=source.report_columns, header_row=1, rows=_rows(services, source, wanted))
    request = CreateRequest(SettingsRequest(fields=fields), Contacts(table=table))
    created = create_batch(services, workspace_id, request, rerun_of=source.batch_id)
    services.database.add_rerun(workspace_id, source.batch_id, created.batch.batch_id)
    # Read again: its loading may have moved it on already.
    return Created(find_batch(services, workspace_id, created.batch.batch_id), created.warnings)


def _rows(
    services: Services, source: Batch, wanted: frozenset[RecipientStatus]
) -> Iterator[tuple[int, list[str]]]:
    """The selected recipients as contact rows (row numbers of the new file)."""
    columns = source.report_columns
    number = 1
    for recipient in services.database.all_recipients(source.workspace_id, source.batch_id):
        if recipient.status not in wanted:
            continue
        number += 1
        cells = {**recipient.variables, "phone_number": recipient.phone_number}
        yield number, [cells.get(column, "") for column in columns]


def _statuses(value: Any) -> frozenset[RecipientStatus]:
    allowed = ", ".join(RERUNNABLE)
    if not isinstance(value, list) or not value:
        raise InvalidField("statuses", f"must be a non-empty list of: {allowed}")
    chosen = set()
    for status in value:
        if status not in RERUNNABLE:
            raise InvalidField("statuses", f"{status!r} is not one of {allowed}")
        chosen.add(RecipientStatus(status))
    return frozenset(chosen)
