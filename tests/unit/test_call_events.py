"""Each received provider event that says when it happened is measured: CallbackLatency."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from batch_calls import monitoring
from batch_calls.logic.call_events import Received, receive
from batch_calls.telephony.base import CallEvent, Outcome
from tests.fakes import World
from tests.fakes.outside import FakeClock

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def metrics() -> Iterator[dict[str, Any]]:
    """What the metrics hold after the test's events (cleared before and after)."""
    monitoring.metrics.clear_metrics()
    yield monitoring.metrics.metric_set
    monitoring.metrics.clear_metrics()


def received(event: CallEvent) -> Received:
    # A call nobody placed: receive measures the event before it looks the call up.
    world = World(clock=FakeClock(NOW))
    return receive(world.services, world.load_queue, "http", event)


def test_the_latency_is_the_time_from_the_event_to_now(metrics: dict[str, Any]) -> None:
    occurred = NOW - timedelta(seconds=2, milliseconds=250)
    assert received(CallEvent("c", Outcome.COMPLETED, "completed", occurred_at=occurred)) is (
        Received.UNKNOWN_CALL
    )
    received(CallEvent("c", None, "ringing", occurred_at=NOW - timedelta(seconds=1)))
    emitted = monitoring.metrics.serialize_metric_set()
    (directive,) = emitted["_aws"]["CloudWatchMetrics"]
    assert directive["Metrics"] == [{"Name": "CallbackLatency", "Unit": "Milliseconds"}]
    assert emitted["CallbackLatency"] == [2250.0, 1000.0]


def test_an_event_stamped_ahead_of_our_clock_counts_zero(metrics: dict[str, Any]) -> None:
    received(CallEvent("c", None, "ringing", occurred_at=NOW + timedelta(seconds=3)))
    assert monitoring.metrics.serialize_metric_set()["CallbackLatency"] == [0.0]


def test_an_event_without_its_time_is_not_measured(metrics: dict[str, Any]) -> None:
    received(CallEvent("c", Outcome.BUSY, "busy"))
    assert metrics == {}
