"""The only place that talks to DynamoDB, S3 and SQS.

Handlers get their stores from these factories, built once per cold start from the
environment the stack (or the embedded runtime) gives each function.
"""

import os
from functools import cache

from batch_calls.store.attempts import Attempts
from batch_calls.store.blobs import Blobs
from batch_calls.store.database import Database
from batch_calls.store.events import EventBus
from batch_calls.store.pacing import Pacing
from batch_calls.store.queues import LoadQueue, WebhookQueue
from batch_calls.store.workflow import Workflow


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


@cache
def database() -> Database:
    return Database(required("TABLE_NAME"))


@cache
def blobs() -> Blobs:
    return Blobs(required("BUCKET_NAME"))


@cache
def load_queue() -> LoadQueue:
    return LoadQueue(required("LOAD_QUEUE_URL"))


@cache
def event_bus() -> EventBus:
    return EventBus(required("EVENT_BUS_NAME"))


@cache
def webhook_queue() -> WebhookQueue:
    return WebhookQueue(required("WEBHOOK_QUEUE_URL"))


@cache
def attempts() -> Attempts:
    return Attempts(required("TABLE_NAME"))


@cache
def pacing() -> Pacing:
    return Pacing(required("TABLE_NAME"))


@cache
def workflow() -> Workflow:
    return Workflow(
        required("STATE_MACHINE_ARN"),
        required("SCHEDULER_GROUP"),
        required("SCHEDULER_ROLE_ARN"),
        required("START_ROUND_FUNCTION_ARN"),
    )


__all__ = [
    "Attempts",
    "Blobs",
    "Database",
    "EventBus",
    "LoadQueue",
    "Pacing",
    "WebhookQueue",
    "Workflow",
    "attempts",
    "blobs",
    "database",
    "event_bus",
    "load_queue",
    "pacing",
    "required",
    "webhook_queue",
    "workflow",
]
