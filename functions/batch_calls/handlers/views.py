"""What the API shows of batches and recipients (api-contract.md shapes): the logic's
results rendered as JSON."""

import math
from datetime import datetime, timedelta
from typing import Any

from batch_calls.domain.batch import Batch, BatchSettings, BatchStatus, Recipient
from batch_calls.domain.times import utc_text
from batch_calls.logic.batches import BatchPage, Created, Preview, RecipientPage, Upload
from batch_calls.logic.calling_rules import CALLING_WINDOW, SCHEDULED_START
from batch_calls.logic.reports import URL_EXPIRES_SECONDS, Report
from batch_calls.logic.suppression import Added, SuppressedPage


def batch_view(batch: Batch) -> dict[str, Any]:
    settings = batch.settings
    path = f"/batch-calls/{batch.batch_id}"
    return {
        "id": batch.batch_id,
        "name": settings.name,
        "status": str(batch.status),
        "total_leads": batch.total,
        "completed": batch.counts["completed"],
        "failed": batch.counts["failed"],
        "skipped": batch.counts["skipped"],
        "agent_id": settings.agent_id,
        "created_at": utc_text(batch.created_at),
        "updated_at": utc_text(batch.updated_at),
        "scheduled_at": utc_text(settings.scheduled_at),
        "started_at": utc_text(batch.started_at),
        "finished_at": utc_text(batch.finished_at),
        "counts": {"total": batch.total, **batch.counts},
        "rerun_of": batch.rerun_of,
        "reruns": batch.reruns,
        **_waiting(batch),
        **settings_view(batch.settings),
        "variables": batch.variables,
        "links": {
            "self": path,
            "recipients": f"{path}/recipients",
            "report": f"{path}/report",
            "analytics": f"{path}/analytics",
        },
    }


# Shown among the seed's fields, above.
_SHOWN_FIRST = {"name", "agent_id", "scheduled_at"}


def settings_view(settings: BatchSettings) -> dict[str, Any]:
    """Every other setting as the description names it (api_models.BatchView documents
    the same list)."""
    return settings.model_dump(mode="json", exclude=_SHOWN_FIRST)


_STARTED = frozenset({BatchStatus.INITIATED, BatchStatus.RUNNING})


def _waiting(batch: Batch) -> dict[str, Any]:
    """When the batch calls next and why it is not calling now: its scheduled start, a
    retry wait or a closed calling window (null while it calls, is paused or is over)."""
    at, reason = None, None
    if batch.status is BatchStatus.SCHEDULED:
        at, reason = batch.settings.scheduled_at, SCHEDULED_START
    elif batch.status in _STARTED and batch.active_round is None:
        at, reason = batch.next_round_at, batch.waiting_for
    return {
        "next_attempt_at": utc_text(at),
        "waiting_for": reason,
        "waiting_for_window": reason == CALLING_WINDOW,
    }


def recipient_view(recipient: Recipient) -> dict[str, Any]:
    return {
        "part": recipient.part,
        "row": recipient.row,
        "phone_number": recipient.phone_number,
        "status": str(recipient.status),
        "attempts_made": recipient.attempts,
        "last_attempt_at": utc_text(recipient.last_attempt_at),
        "last_outcome": recipient.last_outcome,
        "call_id": recipient.call_id,
        "caller_id": recipient.caller_id,
        "next_attempt_at": utc_text(recipient.next_attempt_at),
        "waiting_for": recipient.waiting_for,
        "waiting_until": utc_text(recipient.waiting_until),
        "skip_reason": recipient.skip_reason,
        "variables": recipient.variables,
        "duration_seconds": recipient.duration_seconds,
        "answered_by": recipient.answered_by,
        "ended_reason": recipient.ended_reason,
        "recording_url": recipient.recording_url,
        "transcript_url": recipient.transcript_url,
        "cost": recipient.cost,
        "cost_currency": recipient.cost_currency,
        "data": recipient.data,
    }


def created_view(created: Created) -> dict[str, Any]:
    """The batch with its upload's warnings (duplicates, suppressed numbers, unknown time
    zones)."""
    return {**batch_view(created.batch), "warnings": created.warnings}


def batch_page_view(page: BatchPage) -> dict[str, Any]:
    return {
        "data": [batch_view(batch) for batch in page.batches],
        "meta": {
            "page": page.page,
            "limit": page.limit,
            "total": page.total,
            "totalPages": math.ceil(page.total / page.limit),
        },
    }


def recipient_page_view(page: RecipientPage) -> dict[str, Any]:
    return {
        "data": [recipient_view(recipient) for recipient in page.recipients],
        "next_cursor": page.next_cursor,
    }


def upload_view(upload: Upload) -> dict[str, Any]:
    return {
        "upload_id": upload.upload_id,
        "url": upload.url,
        "fields": upload.fields,
        "max_bytes": upload.max_bytes,
        "expires_at": utc_text(upload.expires_at),  # as every other time the API gives
    }


def preview_view(preview: Preview) -> dict[str, Any]:
    return {**preview.validation, "agent_placeholders": preview.agent_placeholders}


def suppression_added_view(added: Added) -> dict[str, Any]:
    view: dict[str, Any] = {
        "added": added.added,
        "already_listed": added.already_listed,
        "phone_numbers": added.phone_numbers,
    }
    if added.invalid_rows is not None:  # a file's rows that hold no valid number
        view["invalid_rows"] = added.invalid_rows
    return view


def suppressed_page_view(page: SuppressedPage) -> dict[str, Any]:
    return {"data": page.entries, "next_cursor": page.next_cursor}


def report_link_view(report: Report, now: datetime) -> dict[str, Any]:
    """`?as=url`'s answer: where to download the CSV, and until when the URL works."""
    expires_at = now + timedelta(seconds=URL_EXPIRES_SECONDS)
    return {"url": report.url, "expires_at": utc_text(expires_at)}
