"""Every SQS consumer reports a record that fails alone in batchItemFailures, and does the
others of its batch (handlers/sqs.py: Powertools' batch processing)."""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from batch_calls.domain.workspace import Workspace
from batch_calls.handlers import call_events, load_recipients, s3_drop, webhooks, wiring
from batch_calls.logic.call_events import Received
from batch_calls.logic.loading import BatchWork
from batch_calls.logic.webhooks import delivery
from local.lambda_runtime import LambdaContext
from tests.results.receiver import receiving

BAD = "the bad one"


def context() -> Any:
    return LambdaContext(
        function_name="consumer",
        function_version="$LATEST",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:consumer",
        memory_limit_in_mb=256,
        aws_request_id="req-1",
        log_group_name="/aws/lambda/consumer",
        log_stream_name="stream",
        deadline=time.monotonic() + 60,
    )


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{index}",
                "receiptHandle": f"receipt-{index}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:queue",
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


def failed(result: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]


def recorder(done: list[Any], fails: Callable[[Any], bool], result: object) -> Callable[..., Any]:
    """A stand-in for the logic a consumer calls: records what it was asked, fails some."""

    def record(_: object, what: Any) -> object:
        done.append(what)
        if fails(what):
            raise RuntimeError(BAD)
        return result

    return record


def test_batch_work_fails_only_the_unreadable_and_the_failing_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    done: list[BatchWork] = []
    monkeypatch.setattr(load_recipients, "services", object)
    monkeypatch.setattr(
        load_recipients.loading, "do", recorder(done, lambda work: work.batch_id == "batch_bad", 1)
    )
    result = load_recipients.lambda_handler(
        sqs_event(
            json.dumps({"action": "load", "workspace_id": "ws_a", "batch_id": "b1", "part": 2}),
            "{not json",
            json.dumps({"action": "cancel", "workspace_id": "ws_a", "batch_id": "batch_bad"}),
            json.dumps({"action": "explode", "workspace_id": "ws_a"}),
            json.dumps({"action": "load", "workspace_id": "ws_a", "batch_id": "b2"}),  # no part
            json.dumps({"action": "suppression_sweep", "workspace_id": "ws_a"}),
            json.dumps({"action": "window_reset", "workspace_id": "ws_a", "batch_id": "b3"}),
        ),
        context(),
    )
    assert failed(result) == ["m1", "m2", "m3", "m4"]
    assert done == [
        BatchWork("load", "ws_a", "b1", 2),
        BatchWork("cancel", "ws_a", "batch_bad"),
        BatchWork("suppression_sweep", "ws_a"),
        BatchWork("window_reset", "ws_a", "b3"),
    ]


def _notification(key: str) -> str:
    return json.dumps({"detail-type": "Object Created", "detail": {"object": {"key": key}}})


def test_a_drop_that_fails_is_retried_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    done: list[str] = []
    monkeypatch.setattr(s3_drop, "services", object)
    monkeypatch.setattr(
        s3_drop, "handle_drop", recorder(done, lambda key: "bad" in key, {"batch": "b"})
    )
    result = s3_drop.lambda_handler(
        sqs_event(
            _notification("incoming/ws_a/first.csv"),
            _notification("incoming/ws_a/bad.csv"),
            "{not json",
            _notification("elsewhere/x.csv"),  # not a drop: nothing to do
            _notification("incoming/ws_a/second%20file.csv"),
        ),
        context(),
    )
    assert failed(result) == ["m1", "m2"]
    assert done == [
        "incoming/ws_a/first.csv",
        "incoming/ws_a/bad.csv",
        "incoming/ws_a/second file.csv",
    ]


class FakeWebhookQueue:
    def __init__(self) -> None:
        self.delayed: list[tuple[str, int]] = []

    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        self.delayed.append((receipt_handle, seconds))


def test_a_webhook_that_fails_waits_its_backoff_and_is_retried_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signer = Workspace(
        workspace_id="ws_hooks", name="Hooks", created_at=datetime.now(UTC), webhook_secret="s"
    )
    known = {signer.workspace_id: signer}
    queue = FakeWebhookQueue()
    monkeypatch.setattr(wiring, "database", lambda: SimpleNamespace(get_workspace=known.get))
    monkeypatch.setattr(wiring, "webhook_queue", lambda: queue)
    monkeypatch.setattr(wiring, "deployment", lambda: SimpleNamespace(webhooks_to_any_address=True))
    with receiving() as receiver:

        def hook(workspace_id: str, event_id: str) -> str:
            detail = {"event_id": event_id, "batch_id": "batch_x", "call_id": "call_x"}
            return json.dumps(delivery(workspace_id, receiver.url, "call.completed", detail))

        result = webhooks.lambda_handler(
            sqs_event(
                hook("ws_hooks", "evt_1"),
                hook("ws_gone", "evt_2"),  # no workspace to sign with
                hook("ws_hooks", "evt_3"),
            ),
            context(),
        )
        delivered = [r.headers["x-event-id"] for r in receiver.delivered()]
    assert failed(result) == ["m1"]
    assert queue.delayed == [("receipt-1", 5)]  # the first retry's backoff
    assert sorted(delivered) == ["evt_1", "evt_3"]


def test_a_contact_event_unread_or_unknown_is_handed_back_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fates = {"known": Received.RECORDED, "unknown": Received.UNKNOWN_CALL}
    received: list[str] = []

    def read(body: bytes) -> Any:
        contact = json.loads(body)["contact"]  # a KeyError: not a contact event
        if contact == "garbled":
            raise ValueError("not a contact event")
        return SimpleNamespace(provider_call_id=contact, provider_status="DISCONNECTED")

    def receive(_: object, __: object, ___: str, event: Any) -> Received:
        received.append(event.provider_call_id)
        return fates[event.provider_call_id]

    monkeypatch.setattr(call_events, "read_contact_event", read)
    monkeypatch.setattr(call_events, "receive", receive)
    monkeypatch.setattr(call_events, "services", object)
    monkeypatch.setattr(wiring, "load_queue", lambda: None)
    result = call_events.contact_events(
        sqs_event(
            json.dumps({"contact": "known"}),
            json.dumps({"contact": "garbled"}),
            json.dumps({"contact": "unknown"}),  # its first delivery: handed back
            json.dumps({"contact": "known"}),
        ),
        context(),
    )
    assert failed(result) == ["m1", "m2"]
    assert received == ["known", "unknown", "known"]
