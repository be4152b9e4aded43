"""Webhook retries: the backoff spans more than 24 h before the dead-letter queue, and a
delivery that keeps failing lands there (a webhook-only stack on the embedded AWS, with a
queue that dead-letters after the first failure); as deployed, nothing is ever posted to
a private address."""

import dataclasses
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from batch_calls.handlers import wiring
from batch_calls.logic import admin
from batch_calls.logic.webhooks import (
    MAX_DELAY_SECONDS,
    delivery,
    retry_delay_seconds,
)
from infra.resources import (
    MAIN_TABLE,
    WEBHOOK_ADDRESSES_SETTING,
    WEBHOOK_FUNCTION,
    WEBHOOK_QUEUE,
    setting_name,
)
from local.aws import DLQ_SUFFIX, EmbeddedAws
from local.runtime import forget_clients
from tests.results.receiver import receiving


def test_retries_span_more_than_a_day_before_the_dead_letter_queue() -> None:
    waits = [retry_delay_seconds(n) for n in range(1, WEBHOOK_QUEUE.max_receive_count + 1)]
    assert waits[:3] == [5, 10, 20]  # exponential
    assert waits == sorted(waits)
    assert max(waits) == MAX_DELAY_SECONDS <= 12 * 3600  # SQS's longest invisibility
    # The last delivery is the max_receive_count-th; SQS dead-letters the next receive.
    assert sum(waits[:-1]) >= 24 * 3600
    assert WEBHOOK_FUNCTION.timeout_seconds <= WEBHOOK_QUEUE.visibility_timeout_seconds


@contextmanager
def _webhook_stack(settings: dict[str, str]) -> Iterator[EmbeddedAws]:
    queue = dataclasses.replace(WEBHOOK_QUEUE, max_receive_count=1)
    functions = (WEBHOOK_FUNCTION,)
    with EmbeddedAws(functions, tables=(MAIN_TABLE,), queues=(queue,), settings=settings) as aws:
        forget_clients()
        yield aws
    forget_clients()


@pytest.fixture
def webhook_stack() -> Iterator[EmbeddedAws]:
    """As the embedded runtime runs it: webhooks to any address (receivers on 127.0.0.1)."""
    with _webhook_stack({str(setting_name(WEBHOOK_ADDRESSES_SETTING)): "any"}) as aws:
        yield aws


def _dead_lettered(stack: EmbeddedAws, receiver_url: str, event_id: str) -> dict[str, Any]:
    """Enqueue a delivery to `receiver_url`; the message once it is dead-lettered."""
    workspace = admin.create_workspace(wiring.database(), "Hooks").workspace
    detail = {"event_id": event_id, "batch_id": "batch_x", "call_id": "call_x"}
    message = delivery(workspace.workspace_id, receiver_url, "call.completed", detail)
    wiring.webhook_queue().enqueue(message)
    sqs = stack.client("sqs")
    dlq = stack.resources[WEBHOOK_QUEUE.logical_id + DLQ_SUFFIX].url
    deadline = time.monotonic() + 30
    dead: list[dict[str, str]] = []
    while not dead and time.monotonic() < deadline:
        dead = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])
    assert dead, "nothing reached the dead-letter queue"
    assert json.loads(dead[0]["Body"]) == message
    return message


def test_a_delivery_that_keeps_failing_is_dead_lettered(webhook_stack: EmbeddedAws) -> None:
    with receiving(failures_per_event=None) as receiver:
        _dead_lettered(webhook_stack, receiver.url + "/hook", "evt_dead")
        assert [r.answered for r in receiver.received] == [500]


def test_a_deployment_never_posts_to_a_private_address() -> None:
    """Without the embedded runtime's setting (as deployed), a receiver on 127.0.0.1 (the
    function's own runtime API lives there) is never sent anything."""
    with _webhook_stack({}) as stack, receiving() as receiver:
        _dead_lettered(stack, receiver.url + "/hook", "evt_private")
        assert receiver.received == []
