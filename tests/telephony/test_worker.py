"""The simulator worker: ends the call, then POSTs a signed callback; failures are retried."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from batch_calls.handlers import simulator, wiring
from batch_calls.telephony.base import Outcome
from batch_calls.telephony.simulated import SimulatedProvider, simulator_calls
from local.lambda_runtime import LambdaContext
from tests.telephony.fakes import FakeServer
from tests.telephony.support import QUEUE_URL, SECRET, FakeSqs, call_request


class CallbackServer(FakeServer):
    """Records the callbacks and answers each with an empty `status` reply."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        super().__init__(lambda request: (self.status, {}, b""))


def context(seconds: float = 30.0) -> Any:
    """A Lambda-like context (local.lambda_runtime's), with `seconds` left to run."""
    return LambdaContext(
        function_name="simulator",
        function_version="$LATEST",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:simulator",
        memory_limit_in_mb=256,
        aws_request_id="req-1",
        log_group_name="/aws/lambda/simulator",
        log_stream_name="stream",
        deadline=time.monotonic() + seconds,
    )


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[CallbackServer]:
    with CallbackServer() as running:
        monkeypatch.setenv("CALLBACK_URL", running.url + "/")
        wiring.forget()  # the deployment is read once, at cold start
        monkeypatch.setattr(wiring, "simulator_key", lambda: SECRET)
        yield running
    wiring.forget()


def placed_messages(*variables: dict[str, str]) -> tuple[SimulatedProvider, list[dict[str, Any]]]:
    """Place calls with a fake SQS and turn what it was sent into Lambda SQS records."""
    sqs = FakeSqs()
    sim = SimulatedProvider(SECRET, QUEUE_URL, sqs)
    for row, values in enumerate(variables):
        sim.place_call(call_request(row=row, variables=values))
    records = [
        {
            "messageId": f"m{i}",
            "body": m["MessageBody"],
            "attributes": {"SentTimestamp": str(int(time.time() * 1000))},
        }
        for i, m in enumerate(sqs.sent)
    ]
    return sim, records


def test_posts_a_signed_callback_that_the_provider_accepts(server: CallbackServer) -> None:
    sim, records = placed_messages({"sim_outcomes": "busy", "sim_duration_seconds": "0.3"})
    started = time.time()
    result = simulator.lambda_handler({"Records": records}, context())
    assert result == {"batchItemFailures": []}
    (callback,) = server.requests
    assert (callback.method, callback.path) == ("POST", "/provider-events/simulated")
    assert callback.header("Content-Type") == "application/json"
    assert callback.json() == {
        "call_id": "call_b_1_0_1",
        "status": "busy",
        "duration_seconds": 0.3,
    }
    # The worker slept the fraction SQS could not delay.
    assert callback.received_at - started >= 0.25
    event = sim.parse_event(callback.headers, callback.body)
    assert (event.call_id, event.outcome, event.duration_seconds) == (
        "call_b_1_0_1",
        Outcome.BUSY,
        0.3,
    )
    # The registry's end was recorded before the POST.
    (call,) = simulator_calls("b_1")
    assert call["ended_at"] is not None


def test_a_late_message_does_not_sleep_again(server: CallbackServer) -> None:
    _, records = placed_messages({"sim_outcomes": "completed", "sim_duration_seconds": "0.9"})
    records[0]["attributes"]["SentTimestamp"] = str(int((time.time() - 5) * 1000))
    started = time.monotonic()
    simulator.lambda_handler({"Records": records}, context())
    assert time.monotonic() - started < 0.5
    assert len(server.requests) == 1


def test_a_batch_is_delivered_soonest_end_first(server: CallbackServer) -> None:
    _, records = placed_messages(
        {"sim_outcomes": "completed", "sim_duration_seconds": "0.6"},
        {"sim_outcomes": "busy", "sim_duration_seconds": "0.1"},
    )
    started = time.monotonic()
    assert simulator.lambda_handler({"Records": records}, context()) == {"batchItemFailures": []}
    assert [callback.json()["status"] for callback in server.requests] == [
        "busy",
        "completed",
    ]
    assert time.monotonic() - started < 0.9  # the sleeps overlap instead of adding up


def test_non_2xx_is_reported_for_retry(server: CallbackServer) -> None:
    server.status = 500
    _, records = placed_messages(
        {"sim_outcomes": "completed", "sim_duration_seconds": "0"},
        {"sim_outcomes": "failed", "sim_duration_seconds": "0"},
    )
    result = simulator.lambda_handler({"Records": records}, context())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
    assert len(server.requests) == 2
    # A redelivery that succeeds keeps the first end time.
    ended = [c["ended_at"] for c in simulator_calls()]
    server.status = 204
    assert simulator.lambda_handler({"Records": records}, context()) == {"batchItemFailures": []}
    assert [c["ended_at"] for c in simulator_calls()] == ended


def test_network_errors_and_unreadable_messages_are_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with CallbackServer() as gone:
        url = gone.url  # nothing listens there once it is closed
    monkeypatch.setenv("CALLBACK_URL", url)
    wiring.forget()
    monkeypatch.setattr(wiring, "simulator_key", lambda: SECRET)
    _, records = placed_messages({"sim_outcomes": "completed", "sim_duration_seconds": "0"})
    records.append({"messageId": "bad", "body": "{not json"})
    result = simulator.lambda_handler({"Records": records}, context())
    wiring.forget()
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["bad", "m0"]


def test_records_are_handed_back_when_time_runs_out(server: CallbackServer) -> None:
    _, records = placed_messages({"sim_outcomes": "completed", "sim_duration_seconds": "0"})
    result = simulator.lambda_handler({"Records": records}, context(seconds=5))
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert server.requests == []


def test_missing_settings_fail_the_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLBACK_URL", raising=False)
    with pytest.raises(RuntimeError, match="CALLBACK_URL"):
        simulator.lambda_handler({"Records": []}, context())
