"""The only place that talks to DynamoDB, S3 and SQS.

Handlers get their stores from these factories, built once per cold start from the
environment the stack (or the embedded runtime) gives each function.
"""

import os
from functools import cache

from batch_calls.store.blobs import Blobs
from batch_calls.store.database import Database
from batch_calls.store.queues import LoadQueue


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


__all__ = ["Blobs", "Database", "LoadQueue", "blobs", "database", "load_queue", "required"]
