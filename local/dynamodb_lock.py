"""Makes moto's DynamoDB atomic, as DynamoDB is.

moto's server answers requests on many threads and applies an UpdateItem or a
TransactWriteItems as read-modify-write of its in-memory items without a lock, so two
concurrent `SET counts.x = counts.x + :one` lose one of the increments. Every DynamoDB
request of the embedded server is serialized instead (moto answers each in about a
millisecond, so this costs little).
"""

import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.responses import DynamoHandler

_lock = threading.RLock()
_original: Callable[..., Any] | None = None


def install() -> None:
    global _original  # noqa: PLW0603 - one patch for the process, as moto's state is
    if _original is not None:
        return
    original = DynamoHandler.call_action
    _original = original

    def call_action(self: DynamoHandler) -> Any:
        with _lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def uninstall() -> None:
    global _original  # noqa: PLW0603
    if _original is not None:
        DynamoHandler.call_action = _original  # type: ignore[method-assign]
        _original = None
