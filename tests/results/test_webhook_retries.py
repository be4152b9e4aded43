"""Webhook retries: the backoff spans more than 24 h before the dead-letter queue, and a
delivery that keeps failing lands there (a webhook-only stack on the embedded AWS, with a
queue that dead-letters after the first failure)."""

import dataclasses
import json
import time
from collections.abc import Iterator

import pytest

from batch_calls import store
from batch_calls.logic import admin
from batch_calls.logic.webhooks import (
    MAX_DELAY_SECONDS,
    delivery,
    retry_delay_seconds,
)
from infra.resources import MAIN_TABLE, WEBHOOK_FUNCTION, WEBHOOK_QUEUE
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


@pytest.fixture(scope="module")
def webhook_stack() -> Iterator[EmbeddedAws]:
    queue = dataclasses.replace(WEBHOOK_QUEUE, max_receive_count=1)
    with EmbeddedAws((WEBHOOK_FUNCTION,), tables=(MAIN_TABLE,), queues=(queue,)) as aws:
        forget_clients()
        yield aws
    forget_clients()


def test_a_delivery_that_keeps_failing_is_dead_lettered(webhook_stack: EmbeddedAws) -> None:
    workspace = admin.create_workspace(store.database(), "Hooks").workspace
    detail = {"event_id": "evt_dead", "batch_id": "batch_x", "call_id": "call_x"}
    with receiving(failures_per_event=None) as receiver:
        message = delivery(workspace.workspace_id, receiver.url + "/hook", "call.completed", detail)
        store.webhook_queue().enqueue(message)
        sqs = webhook_stack.client("sqs")
        dlq = webhook_stack.resources[WEBHOOK_QUEUE.logical_id + DLQ_SUFFIX].url
        deadline = time.monotonic() + 30
        dead: list[dict[str, str]] = []
        while not dead and time.monotonic() < deadline:
            dead = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])
        assert dead, "nothing reached the dead-letter queue"
        assert json.loads(dead[0]["Body"]) == message
        assert [r.answered for r in receiver.received] == [500]
