"""What the outside world is told when a batch changes status or a call ends: an event
on the project's EventBridge bus, the batch's webhooks, and the call metrics.

Each change is told once: by the invocation whose conditional write made it, right after
that write succeeded. A retried Lambda's write fails its condition, so it tells nothing
again. Event ids are derived from the change itself (the same change, the same id), so
a receiver can deduplicate whatever happens. A failure to tell is logged and never fails
or undoes the change (docs/events.md): the change is what matters; its event is then
lost, never duplicated.
"""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batch_calls import monitoring
from batch_calls.domain.batch import (
    FINAL_BATCH_STATUSES,
    Batch,
    BatchStatus,
    Outcome,
    RecipientStatus,
)
from batch_calls.domain.records import CallRecord
from batch_calls.domain.results import CallFacts
from batch_calls.domain.times import utc_text
from batch_calls.logic.ports import Database, EventBus, LoadQueue, WebhookQueue
from batch_calls.logic.webhooks import delivery

logger = logging.getLogger(__name__)

# EventBridge detail types (docs/events.md).
BATCH_STATUS_CHANGED = "Batch Status Changed"
CALL_COMPLETED = "Call Completed"
# Webhook event types.
CALL_COMPLETED_WEBHOOK = "call.completed"


def event_id(*parts: object) -> str:
    text = ":".join(str(part) for part in parts)
    return "evt_" + hashlib.sha256(text.encode()).hexdigest()[:32]


def batch_status_detail(batch: Batch, previous: BatchStatus | None) -> dict[str, Any]:
    path = f"/batch-calls/{batch.batch_id}"
    return {
        # updated_at is written by the status change itself: one change, one id.
        "event_id": event_id(batch.batch_id, batch.status, utc_text(batch.updated_at)),
        "batch_id": batch.batch_id,
        "workspace_id": batch.workspace_id,
        "name": batch.settings.name,
        "status": str(batch.status),
        "previous_status": None if previous is None else str(previous),
        "counts": {"total": batch.total, **batch.counts},
        "occurred_at": utc_text(batch.updated_at),
        "links": {"self": path, "report": f"{path}/report"},
    }


@dataclass(frozen=True)
class Notifications:
    database: Database
    bus: EventBus
    webhooks: WebhookQueue
    work: LoadQueue

    def batch_status_changed(self, batch: Batch, previous: BatchStatus | None) -> None:
        detail = batch_status_detail(batch, previous)
        self._attempt("batch event", lambda: self.bus.publish(BATCH_STATUS_CHANGED, detail))
        if batch.status not in FINAL_BATCH_STATUSES:
            return
        # The report is written next to the upload once the batch has settled.
        work = self.work
        self._attempt(
            "report request", lambda: work.request_report(batch.workspace_id, batch.batch_id)
        )
        url = batch.settings.webhooks.on_batch_complete if batch.settings.webhooks else None
        if url:
            self._enqueue(batch, url, f"batch.{batch.status}", detail)

    def call_ended(
        self,
        batch: Batch,
        call: CallRecord,
        *,
        outcome: Outcome,
        reported: str,
        status: RecipientStatus,
        next_attempt_at: datetime | None,
        ended_at: datetime,
        facts: CallFacts | None = None,
    ) -> None:
        """An attempt's outcome was recorded (`reported` is the provider's word for it:
        `unknown` for a lost call recorded as failed), with what the provider told of
        the call (`facts`)."""
        facts = facts or CallFacts()
        monitoring.count(monitoring.CALL_OUTCOME_METRICS[str(outcome)])
        if status is RecipientStatus.WAITING_RETRY:
            monitoring.count(monitoring.RETRIES_SCHEDULED)

        def publish() -> None:
            recipient = self.database.get_recipient(
                call.workspace_id, call.batch_id, call.part, call.row
            )
            detail = {
                "event_id": event_id(call.call_id, "ended"),
                "batch_id": call.batch_id,
                "workspace_id": call.workspace_id,
                "call_id": call.call_id,
                "part": call.part,
                "row": call.row,
                "phone_number": recipient.phone_number,
                "attempt": call.attempt,
                "outcome": reported,
                "recipient_status": str(status),
                "final": status is not RecipientStatus.WAITING_RETRY,
                "next_attempt_at": utc_text(next_attempt_at),
                "ended_at": utc_text(ended_at),
                "variables": recipient.variables,
                "duration_seconds": facts.duration_seconds,
                "answered_by": None if facts.answered_by is None else str(facts.answered_by),
                "ended_reason": facts.ended_reason,
                "recording_url": facts.recording_url,
                "transcript_url": facts.transcript_url,
                "cost": facts.cost,
                "cost_currency": facts.cost_currency,
                "data": dict(facts.data),
                "callback_at": facts.callback_at,
            }
            self.bus.publish(CALL_COMPLETED, detail)
            url = batch.settings.webhooks.on_call_complete if batch.settings.webhooks else None
            if url:
                self._enqueue(batch, url, CALL_COMPLETED_WEBHOOK, detail)

        self._attempt("call event", publish)

    def _enqueue(self, batch: Batch, url: str, kind: str, detail: dict[str, Any]) -> None:
        message = delivery(batch.workspace_id, url, kind, detail)
        self._attempt("webhook", lambda: self.webhooks.enqueue(message))

    @staticmethod
    def _attempt(what: str, send: Callable[[], None]) -> None:
        try:
            send()
        except Exception:
            logger.exception("could not send the %s; the change itself is recorded", what)
