"""The test stack (fake handlers in place of the product's) and a polling helper."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from infra.resources import DROP_QUEUE, LOAD_QUEUE, FunctionSpec, QueueSpec

T = TypeVar("T")

HANDLERS = "tests.local.fake_handlers"
_DATA = {"TABLE_NAME": "Table", "BUCKET_NAME": "Bucket", "LOAD_QUEUE_URL": "LoadQueue"}

# A queue that gives up quickly: redelivery after 1 s, the DLQ after 2 receives.
FAIL_QUEUE = QueueSpec("FailQueue", visibility_timeout_seconds=1, max_receive_count=2)

TEST_FUNCTIONS = (
    FunctionSpec("ApiFunction", f"{HANDLERS}.echo", 29, 1769, _DATA),
    FunctionSpec("AuthorizerFunction", f"{HANDLERS}.authorizer", 10, 256, {}),
    FunctionSpec("DropFunction", f"{HANDLERS}.record", 120, 512, _DATA, (DROP_QUEUE.logical_id, 1)),
    FunctionSpec(
        "LoadRecipientsFunction", f"{HANDLERS}.record", 900, 512, _DATA, (LOAD_QUEUE.logical_id, 1)
    ),
    FunctionSpec("FailFunction", f"{HANDLERS}.fail", 10, 128, {}, (FAIL_QUEUE.logical_id, 1)),
    FunctionSpec("AsyncFunction", f"{HANDLERS}.record_async", 10, 128, {}),
    FunctionSpec("CrashFunction", f"{HANDLERS}.crash", 10, 128, {}),
    FunctionSpec("DoubleFunction", f"{HANDLERS}.double", 10, 128, {}),
)


def wait_until(probe: Callable[[], T | None], timeout: float = 10.0) -> T:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing after {timeout} s")
        time.sleep(0.05)
