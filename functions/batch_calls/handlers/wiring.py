"""The services each handler gets, built once per cold start from its environment."""

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache

from batch_calls import store, telephony
from batch_calls.logic.batches import Services
from batch_calls.logic.notifications import Notifications
from batch_calls.logic.rounds import DEFAULT_CALL_WATCH, Rounds


def utc_now() -> datetime:
    return datetime.now(UTC)


# The product's clock. The embedded runtime replaces it to move time (tests of calling
# windows); in AWS it is the system clock.
_clock: list[Callable[[], datetime]] = [utc_now]


def use_clock(clock: Callable[[], datetime]) -> None:
    _clock[0] = clock


def _now() -> datetime:
    return _clock[0]()


@cache
def rounds() -> Rounds:
    notifications = Notifications(
        store.database(), store.event_bus(), store.webhook_queue(), store.load_queue()
    )
    return Rounds(
        store.database(),
        store.attempts(),
        store.pacing(),
        store.blobs(),
        store.workflow(),
        telephony.provider,
        notifications,
        clock=_now,
        call_watch=_call_watch(),
    )


def _call_watch() -> timedelta:
    """How long a slot waits for a call's outcome before asking the provider (the
    deployment's CallWatchSeconds setting)."""
    seconds = os.environ.get("CALL_WATCH_SECONDS")
    return DEFAULT_CALL_WATCH if not seconds else timedelta(seconds=int(seconds))


@cache
def services() -> Services:
    return Services(store.database(), store.blobs(), store.load_queue(), rounds())
