"""The simulated provider: scripted and hashed fates, idempotency, events, lookup, registry."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from batch_calls.handlers import wiring
from batch_calls.handlers.wiring import provider
from batch_calls.telephony.base import (
    InvalidSignature,
    Outcome,
    PermanentCallError,
)
from batch_calls.telephony.signing import sign
from batch_calls.telephony.simulated import (
    SimulatedProvider,
    callback_body,
    end_call,
    hashed_fate,
    peak_simultaneous,
    simulator_calls,
    simulator_stats,
)
from tests.telephony.support import QUEUE_URL, SECRET, Clock, FakeSqs, call_request


def make(
    clock: Clock | None = None, sqs: FakeSqs | None = None
) -> tuple[SimulatedProvider, FakeSqs]:
    fake = sqs or FakeSqs()
    return SimulatedProvider(SECRET, QUEUE_URL, fake, clock or Clock()), fake


def sent_bodies(sqs: FakeSqs) -> list[dict[str, object]]:
    return [json.loads(m["MessageBody"]) for m in sqs.sent]


# -- scripted fates -------------------------------------------------------------------


def test_scripted_outcomes_per_attempt_and_the_last_repeats() -> None:
    sim, sqs = make()
    script = {"sim_outcomes": "no_answer, busy,completed"}
    for attempt in range(1, 6):
        sim.place_call(call_request(attempt=attempt, variables=script))
    assert [m["outcome"] for m in sent_bodies(sqs)] == [
        "no_answer",
        "busy",
        "completed",
        "completed",
        "completed",
    ]


def test_scripted_duration_splits_into_delay_and_remainder() -> None:
    sim, sqs = make()
    placed = sim.place_call(
        call_request(variables={"sim_outcomes": "voicemail", "sim_duration_seconds": "2.75"})
    )
    (message,) = sqs.sent
    assert message["QueueUrl"] == QUEUE_URL
    assert message["DelaySeconds"] == 2
    assert json.loads(message["MessageBody"]) == {
        "call_id": "call_b_1_1_1",
        "provider_call_id": placed.provider_call_id,
        "outcome": "voicemail",
        "duration_seconds": 2.75,
        "remainder_seconds": 0.75,
        "batch_id": "b_1",
        "facts": {
            "answered_by": "machine",
            "recording_url": f"https://simulator.invalid/recordings/{placed.provider_call_id}.wav",
            "transcript_url": f"https://simulator.invalid/transcripts/{placed.provider_call_id}.txt",
        },
    }
    assert placed.provider_call_id.startswith("sim_")


SCRIPTED_FACTS = {
    "sim_outcomes": "completed",
    "sim_answered_by": "unknown",
    "sim_data": '{"interest": "high", "slots": [1, 2], "score": 0.5}',
    "sim_cost": "0.042",
    "sim_ended_reason": "customer-ended-call",
    "sim_callback_at": "2026-12-05T17:30:00",
}


def test_scripted_facts_reach_the_callback_and_the_event() -> None:
    sim, sqs = make()
    sim.place_call(call_request(variables=SCRIPTED_FACTS))
    (message,) = sent_bodies(sqs)
    facts = message["facts"]
    assert isinstance(facts, dict)
    body = callback_body("call_1", "completed", 3.0, facts)
    event = sim.parse_event(signed(body), body)
    assert event.answered_by == "unknown"
    assert event.data == {"interest": "high", "slots": "[1,2]", "score": "0.5"}
    assert (event.cost, event.cost_currency) == (0.042, "USD")
    assert event.ended_reason == "customer-ended-call"
    assert event.callback_at == "2026-12-05T17:30:00"
    assert event.recording_url and event.recording_url.endswith(".wav")
    assert event.facts().duration_seconds == 3.0


def test_a_callback_request_is_scripted_for_the_first_attempt_only() -> None:
    sim, sqs = make()
    sim.place_call(call_request(attempt=2, variables=SCRIPTED_FACTS))
    assert "callback_at" not in sent_bodies(sqs)[0]["facts"]  # type: ignore[operator]


def test_a_call_nobody_answered_tells_only_its_ended_reason() -> None:
    sim, sqs = make()
    sim.place_call(call_request(variables={**SCRIPTED_FACTS, "sim_outcomes": "no_answer"}))
    assert sent_bodies(sqs)[0]["facts"] == {"ended_reason": "customer-ended-call"}


def test_with_leave_message_a_voicemail_leaves_the_agents_message() -> None:
    sim, sqs = make()
    request = call_request(variables={"sim_outcomes": "voicemail"})
    sim.place_call(dataclasses.replace(request, voicemail="leave_message"))
    assert sent_bodies(sqs)[0]["facts"]["ended_reason"] == "voicemail_message_left"  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "value"),
    [("sim_data", "[1]"), ("sim_data", "{oops"), ("sim_answered_by", "robot"),
     ("sim_callback_at", "tomorrow"), ("sim_cost", "cheap")],
)  # fmt: skip
def test_an_unreadable_facts_script_refuses_the_call(name: str, value: str) -> None:
    sim, sqs = make()
    with pytest.raises(PermanentCallError, match="sim_"):
        sim.place_call(call_request(variables={"sim_outcomes": "completed", name: value}))
    assert sqs.sent == []


@pytest.mark.parametrize(
    ("raw", "delay", "remainder"), [("0", 0, 0.0), ("0.4", 0, 0.4), ("900", 900, 0.0)]
)
def test_durations_from_zero_to_the_sqs_maximum(raw: str, delay: int, remainder: float) -> None:
    sim, sqs = make()
    sim.place_call(
        call_request(variables={"sim_outcomes": "completed", "sim_duration_seconds": raw})
    )
    assert sqs.sent[0]["DelaySeconds"] == delay
    assert sent_bodies(sqs)[0]["remainder_seconds"] == remainder


def test_scripted_calls_last_one_second_by_default() -> None:
    sim, sqs = make()
    sim.place_call(call_request(variables={"sim_outcomes": "completed"}))
    assert sent_bodies(sqs)[0]["duration_seconds"] == 1.0
    assert sqs.sent[0]["DelaySeconds"] == 1


def test_lost_call_schedules_no_callback_but_is_recorded() -> None:
    clock = Clock(100.0)
    sim, sqs = make(clock)
    placed = sim.place_call(
        call_request(variables={"sim_outcomes": "lost", "sim_duration_seconds": "20"})
    )
    assert sqs.sent == []
    (call,) = simulator_calls("b_1")
    assert call["outcome"] == "lost"
    # Only the callback is lost: asked while it runs, the provider says it is live (so
    # reconciliation never frees its slot early); after its end it has no record of it.
    live = sim.lookup("call_b_1_1_1", placed.provider_call_id)
    assert live is not None and live.outcome is None
    clock.now = 120.0
    assert sim.lookup("call_b_1_1_1", placed.provider_call_id) is None


def test_reject_raises_and_records_nothing() -> None:
    sim, sqs = make()
    with pytest.raises(PermanentCallError, match="simulated: number rejected"):
        sim.place_call(call_request(variables={"sim_outcomes": "busy,reject"}, attempt=2))
    assert sqs.sent == []
    assert simulator_calls() == []
    # The first attempt of the same script is a plain busy call.
    sim.place_call(call_request(variables={"sim_outcomes": "busy,reject"}, attempt=1))
    assert sent_bodies(sqs)[0]["outcome"] == "busy"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"sim_outcomes": "completed,hangup"}, "unknown outcome 'hangup'"),
        ({"sim_outcomes": "busy,,completed"}, "unknown outcome ''"),
        ({"sim_outcomes": "busy", "sim_duration_seconds": "soon"}, "sim_duration_seconds"),
        ({"sim_outcomes": "busy", "sim_duration_seconds": "-1"}, "sim_duration_seconds"),
        ({"sim_outcomes": "busy", "sim_duration_seconds": "901"}, "sim_duration_seconds"),
        ({"sim_outcomes": "busy", "sim_duration_seconds": "nan"}, "sim_duration_seconds"),
    ],
)
def test_bad_scripts_are_permanent_errors_naming_the_value(
    variables: dict[str, str], message: str
) -> None:
    sim, sqs = make()
    with pytest.raises(PermanentCallError, match=message):
        sim.place_call(call_request(variables=variables))
    assert sqs.sent == []


def test_blank_script_means_not_scripted() -> None:
    sim, sqs = make()
    sim.place_call(call_request(variables={"sim_outcomes": "  ", "sim_duration_seconds": ""}))
    expected = hashed_fate("+14155550101", 1)
    assert sent_bodies(sqs)[0]["outcome"] == expected.outcome
    assert sent_bodies(sqs)[0]["duration_seconds"] == expected.duration_seconds


# -- the documented distribution ------------------------------------------------------


def test_unscripted_fate_is_deterministic_per_number_and_attempt() -> None:
    assert hashed_fate("+14155550101", 1) == hashed_fate("+14155550101", 1)
    fates = {hashed_fate("+14155550101", attempt) for attempt in range(1, 30)}
    assert len(fates) > 1  # a retry gets a fresh draw
    sim, sqs = make()
    sim.place_call(call_request(to="+14155550177"))
    other, other_sqs = make()
    reset = sent_bodies(sqs)[0]
    other.place_call(call_request(to="+14155550177", batch_id="b_2"))
    again = sent_bodies(other_sqs)[0]
    assert (reset["outcome"], reset["duration_seconds"]) == (
        again["outcome"],
        again["duration_seconds"],
    )


def test_unscripted_shares_match_the_documented_distribution() -> None:
    fates = [hashed_fate(f"+1415{n:07d}", 1) for n in range(10_000)]
    shares = Counter(f.outcome for f in fates)
    documented = {
        "completed": 0.55,
        "no_answer": 0.20,
        "voicemail": 0.10,
        "busy": 0.10,
        "failed": 0.05,
    }
    assert set(shares) == set(documented)
    for outcome, share in documented.items():
        assert abs(shares[outcome] / len(fates) - share) < 0.02, outcome
    durations = [f.duration_seconds for f in fates]
    assert 0.5 <= min(durations) < 0.6
    assert 2.9 < max(durations) <= 3.0


# -- idempotency ----------------------------------------------------------------------


def test_same_idempotency_key_places_one_call() -> None:
    sim, sqs = make()
    request = call_request(variables={"sim_outcomes": "completed"})
    first = sim.place_call(request)
    assert sim.place_call(request) == first
    # Another provider instance (a new cold start in this process) sees the same registry.
    second, second_sqs = make()
    assert second.place_call(request) == first
    assert len(sqs.sent) == 1
    assert second_sqs.sent == []
    assert len(simulator_calls()) == 1


def test_concurrent_places_of_one_attempt_send_one_message() -> None:
    sim, sqs = make()
    request = call_request()
    with ThreadPoolExecutor(8) as pool:
        placed = set(pool.map(lambda _: sim.place_call(request), range(32)))
    assert len(placed) == 1
    assert len(sqs.sent) == 1


def test_a_failed_send_is_forgotten_so_a_retry_places_the_call() -> None:
    sim, _ = make(sqs=FakeSqs(fail=True))
    request = call_request()
    with pytest.raises(ConnectionError):
        sim.place_call(request)
    assert simulator_calls() == []
    working, sqs = make()
    working.place_call(request)
    assert len(sqs.sent) == 1


def test_different_attempts_are_different_calls() -> None:
    sim, sqs = make()
    first = sim.place_call(call_request(attempt=1))
    second = sim.place_call(call_request(attempt=2))
    assert first != second
    assert len(sqs.sent) == 2


# -- parse_event ----------------------------------------------------------------------


def signed(body: bytes, now: float = 1_700_000_000.0) -> dict[str, str]:
    return {"content-type": "application/json", **sign(SECRET, body, now)}


@pytest.mark.parametrize("status", [o.value for o in Outcome])
def test_final_statuses_become_outcomes(status: str) -> None:
    sim, _ = make()
    body = callback_body("call_1", status, 2.5)
    event = sim.parse_event(signed(body), body)
    assert (event.call_id, event.outcome, event.provider_status) == (
        "call_1",
        Outcome(status),
        status,
    )
    assert event.duration_seconds == 2.5


@pytest.mark.parametrize("status", ["ringing", "answered"])
def test_progress_statuses_have_no_outcome(status: str) -> None:
    sim, _ = make()
    body = callback_body("call_1", status, None)
    event = sim.parse_event(signed(body), body)
    assert event.outcome is None
    assert event.provider_status == status
    assert event.duration_seconds is None


def test_the_signed_time_is_when_the_event_occurred() -> None:
    sim, _ = make()
    body = callback_body("call_1", "completed", 1.0)
    event = sim.parse_event(signed(body, 1_700_000_000.0 - 30), body)
    assert event.occurred_at == datetime(2023, 11, 14, 22, 12, 50, tzinfo=UTC)


def test_parse_event_verifies_the_signature_first() -> None:
    sim, _ = make()
    body = callback_body("call_1", "completed", 1.0)
    with pytest.raises(InvalidSignature):
        sim.parse_event({"X-Signature": sign(b"wrong", body, 1_700_000_000.0)["X-Signature"]}, body)
    with pytest.raises(InvalidSignature):
        sim.parse_event({}, b"not json")  # the signature is checked before the body is read
    with pytest.raises(InvalidSignature, match="from now"):
        sim.parse_event(signed(body, now=1_700_000_000.0 - 3600), body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"status": "completed"}', "call_id"),
        (b'{"call_id": "c", "status": "hung_up"}', "unknown status 'hung_up'"),
        (b'{"call_id": "c"}', "unknown status None"),
        (b'{"call_id": "c", "status": "completed", "duration_seconds": "2"}', "duration_seconds"),
        (b'{"call_id": "c", "status": "completed", "duration_seconds": -1}', "duration_seconds"),
        (b'{"call_id": "c", "status": "completed", "duration_seconds": true}', "duration_seconds"),
    ],
)
def test_bad_bodies_after_a_valid_signature_are_value_errors(body: bytes, message: str) -> None:
    sim, _ = make()
    with pytest.raises(ValueError, match=message):
        sim.parse_event(signed(body), body)


# -- lookup ---------------------------------------------------------------------------


def test_lookup_follows_the_call() -> None:
    clock = Clock()
    sim, _ = make(clock)
    placed = sim.place_call(call_request(variables={"sim_outcomes": "no_answer,completed"}))
    running = sim.lookup("call_b_1_1_1", placed.provider_call_id)
    assert running is not None
    assert (running.outcome, running.provider_status) == (None, "in_progress")
    assert end_call(placed.provider_call_id, clock.now + 1)
    ended = sim.lookup("call_b_1_1_1", None)  # by our call id alone
    assert ended is not None
    assert (ended.call_id, ended.outcome, ended.duration_seconds) == (
        "call_b_1_1_1",
        Outcome.NO_ANSWER,
        1.0,
    )
    assert sim.lookup("call_unknown", None) is None
    assert sim.lookup("call_unknown", "sim_unknown") is None
    assert not end_call("sim_unknown", clock.now)


# -- the registry ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intervals", "peak"),
    [
        ([], 0),
        ([(0.0, 1.0)], 1),
        ([(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)], 1),  # back to back: the slot is handed over
        ([(0.0, 2.0), (1.0, 3.0), (1.5, 1.6), (2.5, 4.0)], 3),
        ([(0.0, None), (5.0, 6.0), (10.0, None)], 2),  # not ended: still live
        ([(0.0, None), (5.0, None), (10.0, 11.0)], 3),
        ([(0.0, 1.0), (0.0, 1.0), (1.0, None)], 2),
        ([(3.0, 4.0), (0.0, 10.0), (1.0, 2.0), (2.0, 3.0)], 2),  # any order
    ],
)
def test_peak_simultaneous(intervals: list[tuple[float, float | None]], peak: int) -> None:
    assert peak_simultaneous(intervals) == peak


def test_stats_and_calls_per_batch() -> None:
    clock = Clock(1_700_000_000.0)
    sim, _ = make(clock)
    ids = []
    for row, (batch, start) in enumerate([("b_1", 0.0), ("b_1", 1.0), ("b_2", 1.5), ("b_1", 2.0)]):
        clock.now = 1_700_000_000.0 + start
        ids.append(sim.place_call(call_request(batch_id=batch, row=row)).provider_call_id)
    end_call(ids[0], 1_700_000_002.0)  # ends exactly when the fourth starts
    end_call(ids[2], 1_700_000_003.0)
    assert simulator_stats() == {
        "b_1": {"calls": 3, "peak_simultaneous": 2},
        "b_2": {"calls": 1, "peak_simultaneous": 1},
    }
    calls = simulator_calls("b_1")
    assert [c["started_at"] for c in calls] == [
        "2023-11-14T22:13:20+00:00",
        "2023-11-14T22:13:21+00:00",
        "2023-11-14T22:13:22+00:00",
    ]
    assert calls[0]["ended_at"] == "2023-11-14T22:13:22+00:00"
    assert calls[1]["ended_at"] is None
    assert {c["to"] for c in calls} == {"+14155550101"}
    assert calls[0]["from"] == "+14155550100"
    assert calls[0]["attempt"] == 1
    assert len(simulator_calls()) == 4
    # The first end counts: a redelivered callback does not move it.
    end_call(ids[0], 1_700_000_009.0)
    assert simulator_calls("b_1")[0]["ended_at"] == "2023-11-14T22:13:22+00:00"


def test_lost_calls_end_on_schedule_in_the_timeline() -> None:
    # Only the callback is lost: the call itself does not hold the simulator's peak.
    clock = Clock(100.0)
    sim, _ = make(clock)
    sim.place_call(
        call_request(row=1, variables={"sim_outcomes": "lost", "sim_duration_seconds": "2"})
    )
    clock.now = 103.0
    sim.place_call(call_request(row=2, variables={"sim_outcomes": "completed"}))
    assert simulator_stats()["b_1"]["peak_simultaneous"] == 1


def test_registry_is_thread_safe() -> None:
    sim, sqs = make()
    barrier = threading.Barrier(8)

    def place(worker: int) -> None:
        barrier.wait()
        for row in range(100):
            sim.place_call(call_request(row=worker * 1000 + row))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(place, range(8)))
    assert len(sqs.sent) == 800
    assert simulator_stats()["b_1"]["calls"] == 800


# -- the factory ----------------------------------------------------------------------


def test_factory_builds_the_simulated_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    wiring.forget()
    monkeypatch.delenv("TELEPHONY_PROVIDER", raising=False)
    monkeypatch.setattr(wiring, "simulator_key", lambda: b"abc")
    monkeypatch.setenv("SIMULATOR_QUEUE_URL", QUEUE_URL)
    try:
        built = provider()
        assert isinstance(built, SimulatedProvider)
        assert built.name == "simulated"
        assert provider() is built
    finally:
        wiring.forget()


def test_factory_refuses_other_providers_and_checks_settings_when_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wiring.forget()
    try:
        monkeypatch.setenv("TELEPHONY_PROVIDER", "twilio")
        monkeypatch.delenv("TELEPHONY_SECRET_ARN", raising=False)
        with pytest.raises(RuntimeError, match="has no 'twilio' object: twilio is not configured"):
            provider()
        monkeypatch.setenv("TELEPHONY_PROVIDER", "simulated")
        monkeypatch.setattr(wiring, "simulator_key", lambda: b"")
        monkeypatch.delenv("SIMULATOR_QUEUE_URL", raising=False)
        wiring.forget()
        # Each setting is needed by one side only, and checked there.
        built = provider()
        with pytest.raises(RuntimeError, match="SIMULATOR_SECRET_ARN"):
            built.parse_event({}, b"{}")
        with pytest.raises(RuntimeError, match="SIMULATOR_QUEUE_URL"):
            built.place_call(call_request())
        assert simulator_calls() == []
    finally:
        wiring.forget()
