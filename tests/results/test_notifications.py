"""Notifications never fail the change they tell about, and carry deterministic ids."""

from datetime import UTC, datetime
from typing import Any

import pytest

from batch_calls.domain.batch import (
    Batch,
    BatchSettings,
    BatchStatus,
    Outcome,
    Recipient,
    RecipientStatus,
    Webhooks,
    initial_counts,
)
from batch_calls.domain.records import CallRecord
from batch_calls.domain.results import AnsweredBy, CallFacts
from batch_calls.logic.notifications import Notifications, batch_status_detail

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
BATCH = Batch(
    batch_id="batch_n",
    workspace_id="ws_n",
    settings=BatchSettings(
        name="n",
        agent_id="agt",
        from_phone_number="+14155550100",
        webhooks=Webhooks(
            on_call_complete="https://crm.example/c", on_batch_complete="https://crm.example/b"
        ),
    ),
    status=BatchStatus.COMPLETED,
    counts=initial_counts(0, 0),
    variables=["name"],
    created_at=NOW,
    updated_at=NOW,
)
CALL = CallRecord("call_n", "ws_n", "batch_n", 1, 2, 1, None, None, None)


class Unavailable:
    """EventBridge, SQS and DynamoDB all failing."""

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> None:
            raise ConnectionError(f"{name} is unavailable")

        return fail


class Recording:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.sent.append((detail_type, detail))

    def enqueue(self, message: dict[str, Any]) -> None:
        self.sent.append(("webhook", message))

    def request_report(self, workspace_id: str, batch_id: str) -> None:
        self.sent.append(("report", batch_id))

    def get_recipient(self, workspace_id: str, batch_id: str, part: int, row: int) -> Recipient:
        return Recipient(
            part=part,
            row=row,
            phone_number="+14155551234",
            status=RecipientStatus.COMPLETED,
            variables={"name": "Ann"},
        )


def test_a_failure_to_send_is_logged_and_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    down = Notifications(Unavailable(), Unavailable(), Unavailable(), Unavailable())  # type: ignore[arg-type]
    down.batch_status_changed(BATCH, BatchStatus.RUNNING)
    down.call_ended(
        BATCH,
        CALL,
        outcome=Outcome.COMPLETED,
        reported="completed",
        status=RecipientStatus.COMPLETED,
        next_attempt_at=None,
        ended_at=NOW,
    )
    assert "could not send the batch event" in caplog.text
    assert "could not send the call event" in caplog.text


def test_an_ended_batch_asks_for_its_report_and_calls_its_webhook() -> None:
    recording = Recording()
    told = Notifications(recording, recording, recording, recording)  # type: ignore[arg-type]
    told.batch_status_changed(BATCH, BatchStatus.RUNNING)
    kinds = [kind for kind, _ in recording.sent]
    assert kinds == ["Batch Status Changed", "report", "webhook"]
    webhook = recording.sent[2][1]
    assert webhook["url"] == "https://crm.example/b"
    assert webhook["type"] == "batch.completed"
    assert "secret" not in str(webhook)


def test_event_ids_depend_on_the_change_only() -> None:
    first = batch_status_detail(BATCH, BatchStatus.RUNNING)["event_id"]
    assert batch_status_detail(BATCH, BatchStatus.RUNNING)["event_id"] == first
    later = BATCH.model_copy(update={"updated_at": datetime(2026, 11, 22, 12, 1, tzinfo=UTC)})
    assert batch_status_detail(later, BatchStatus.RUNNING)["event_id"] != first


def test_the_call_event_and_its_webhook_carry_the_calls_facts() -> None:
    recording = Recording()
    told = Notifications(recording, recording, recording, recording)  # type: ignore[arg-type]
    facts = CallFacts(
        duration_seconds=73.5,
        answered_by=AnsweredBy.HUMAN,
        ended_reason="customer-ended-call",
        recording_url="https://rec.example/1.wav",
        transcript_url="https://rec.example/1.txt",
        cost=0.042,
        cost_currency="USD",
        data={"interest": "high"},
        callback_at="2026-12-05T17:30:00",
    )
    told.call_ended(
        BATCH,
        CALL,
        outcome=Outcome.COMPLETED,
        reported="completed",
        status=RecipientStatus.WAITING_RETRY,
        next_attempt_at=NOW,
        ended_at=NOW,
        facts=facts,
    )
    (_, event), (_, webhook) = recording.sent
    expected = {
        "duration_seconds": 73.5,
        "answered_by": "human",
        "ended_reason": "customer-ended-call",
        "recording_url": "https://rec.example/1.wav",
        "transcript_url": "https://rec.example/1.txt",
        "cost": 0.042,
        "cost_currency": "USD",
        "data": {"interest": "high"},
        "callback_at": "2026-12-05T17:30:00",
    }
    assert {name: event[name] for name in expected} == expected
    assert webhook["type"] == "call.completed"
    assert webhook["body"]["data"]["data"] == {"interest": "high"}
