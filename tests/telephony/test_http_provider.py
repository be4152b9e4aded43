"""The http provider against a local server: the exact request, every status, signatures,
throttling, refusals and lookups."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from batch_calls.telephony import signing
from batch_calls.telephony.base import (
    CallNotPlaced,
    DispatchUnknown,
    InvalidSignature,
    Outcome,
    PermanentCallError,
)
from batch_calls.telephony.http import HttpProvider
from batch_calls.telephony.transport import Backoff, Retry
from tests.telephony.fakes import FakeServer, Recorded, Reply, json_reply
from tests.telephony.support import Clock, call_request

SECRET = b"shared-secret"
NOW = 1_700_000_000.0


class Answers:
    """Replies in order (the last repeats)."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def __call__(self, request: Recorded) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


@pytest.fixture
def answers() -> Answers:
    return Answers(json_reply(201, {"provider_call_id": "pc_1"}))


@pytest.fixture
def server(answers: Answers) -> Iterator[FakeServer]:
    with FakeServer(answers) as running:
        yield running


def provider(server: FakeServer, sleeps: list[float] | None = None) -> HttpProvider:
    return HttpProvider(
        server.url + "/calls",
        server.url + "/calls/{call_id}",
        SECRET,
        "https://api.example.com/prod/",
        api_key="key-1",
        backoff=Backoff(sleep=(sleeps if sleeps is not None else []).append),
        clock=Clock(NOW),
    )


def test_the_call_request_is_exactly_the_documented_one(server: FakeServer) -> None:
    request = call_request(variables={"customer_name": "Asha"})
    request = replace(request, agent_version=3, prompt="Hi Asha")
    placed = provider(server).place_call(request)
    assert placed.provider_call_id == "pc_1"
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", "/calls")
    assert sent.header("Content-Type") == "application/json"
    assert sent.header("Idempotency-Key") == "b_1:1:1:1"
    assert sent.header("Authorization") == "Bearer key-1"
    assert sent.header("X-Signature") == signing.sign(SECRET, sent.body, NOW)["X-Signature"]
    signing.verify(sent.headers, sent.body, SECRET, NOW)
    assert sent.json() == {
        "call_id": "call_b_1_1_1",
        "idempotency_key": "b_1:1:1:1",
        "to": "+14155550101",
        "from": "+14155550100",
        "agent": {"id": "agent_1", "version": 3, "prompt": "Hi Asha"},
        "variables": {"customer_name": "Asha"},
        "batch_id": "b_1",
        "attempt": 1,
        "voicemail": "hang_up",
        "callback_url": "https://api.example.com/prod/provider-events/http",
    }


@pytest.mark.parametrize("first", [429, 503])
def test_throttling_then_success_places_one_call_with_one_key(
    server: FakeServer, answers: Answers, first: int
) -> None:
    answers.replies = [
        json_reply(first, {"error": {"message": "slow down"}}, {"Retry-After": "2"}),
        json_reply(201, {"provider_call_id": "pc_1"}),
    ]
    sleeps: list[float] = []
    assert provider(server, sleeps).place_call(call_request()).provider_call_id == "pc_1"
    assert len(server.requests) == 2
    assert {r.header("Idempotency-Key") for r in server.requests} == {"b_1:1:1:1"}
    assert {r.body for r in server.requests} == {server.requests[0].body}
    assert sleeps == [2.0]  # Retry-After honoured


def test_throttled_to_the_end_is_not_placed(server: FakeServer, answers: Answers) -> None:
    answers.replies = [json_reply(429, {}, {"Retry-After": "0"})]
    sleeps: list[float] = []
    with pytest.raises(CallNotPlaced, match="throttled after 5 tries"):
        provider(server, sleeps).place_call(call_request())
    assert len(server.requests) == 5
    assert sleeps == [0.0] * 4  # "retry now" is taken at its word


def test_a_refusal_is_permanent_with_the_platforms_reason(
    server: FakeServer, answers: Answers
) -> None:
    answers.replies = [json_reply(422, {"error": {"message": "number is on a DNC list"}})]
    with pytest.raises(PermanentCallError, match=r"http: refused \(422\): number is on a DNC"):
        provider(server).place_call(call_request())
    assert len(server.requests) == 1


def test_without_retry_after_the_waits_grow_within_the_budget(
    server: FakeServer, answers: Answers
) -> None:
    answers.replies = [json_reply(503, {})]
    sleeps: list[float] = []
    with pytest.raises(DispatchUnknown, match="HTTP 503 after 5 tries"):
        provider(server, sleeps).place_call(call_request())
    assert sleeps == [0.5, 1.0, 2.0, 4.0]


def test_no_try_starts_after_the_budget_counting_slow_requests() -> None:
    now = [0.0]

    def slow_throttled() -> None:
        now[0] += 9.0  # each request takes 9 s before its 429
        raise Retry("HTTP 429", throttled=True, after=1.0)

    backoff = Backoff(sleep=lambda s: None, monotonic=lambda: now[0])
    with pytest.raises(CallNotPlaced, match="throttled after 3 tries"):  # starts: 0, 10, 19 s
        backoff.run(slow_throttled, "http")


def test_an_unreachable_platform_is_an_unknown_dispatch() -> None:
    with FakeServer(lambda r: json_reply(200, {})) as gone:
        url = gone.url
    unreachable = HttpProvider(
        url + "/calls",
        url + "/calls/{call_id}",
        SECRET,
        "https://x",
        backoff=Backoff(sleep=[].append),
    )
    with pytest.raises(DispatchUnknown):
        unreachable.place_call(call_request())


def callback(body: dict[str, object], at: float = NOW) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(body).encode()
    return signing.sign(SECRET, raw, at), raw


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("queued", None),
        ("ringing", None),
        ("answered", None),
        ("in_progress", None),
        ("completed", Outcome.COMPLETED),
        ("no_answer", Outcome.NO_ANSWER),
        ("busy", Outcome.BUSY),
        ("voicemail", Outcome.VOICEMAIL),
        ("failed", Outcome.FAILED),
    ],
)
def test_every_status_is_mapped(server: FakeServer, status: str, outcome: Outcome | None) -> None:
    headers, body = callback({"call_id": "call_1", "status": status, "duration_seconds": 12})
    event = provider(server).parse_event(headers, body)
    assert (event.call_id, event.outcome, event.duration_seconds) == ("call_1", outcome, 12.0)


def test_opted_out_and_reason_are_read(server: FakeServer) -> None:
    headers, body = callback(
        {"call_id": "c", "status": "completed", "opted_out": True, "reason": "asked"}
    )
    event = provider(server).parse_event(headers, body)
    assert event.opted_out and event.detail == {"reason": "asked"}


def test_the_signed_time_is_when_the_event_occurred(server: FakeServer) -> None:
    headers, body = callback({"call_id": "c", "status": "completed"}, at=NOW - 30)
    event = provider(server).parse_event(headers, body)
    assert event.occurred_at == datetime(2023, 11, 14, 22, 12, 50, tzinfo=UTC)


def test_bad_stale_and_unsigned_callbacks_are_refused(server: FakeServer) -> None:
    http = provider(server)
    _, body = callback({"call_id": "c", "status": "completed"})
    with pytest.raises(InvalidSignature):
        http.parse_event(signing.sign(b"other", body, NOW), body)
    with pytest.raises(InvalidSignature, match="replay"):
        http.parse_event(*callback({"call_id": "c", "status": "completed"}, at=NOW - 3600))
    with pytest.raises(InvalidSignature, match="missing"):
        http.parse_event({}, body)
    with pytest.raises(ValueError, match="unknown status"):
        http.parse_event(*callback({"call_id": "c", "status": "hung"}))


def test_lookup_gets_the_signed_status_url(server: FakeServer, answers: Answers) -> None:
    answers.replies = [
        json_reply(200, {"call_id": "call/1", "status": "voicemail", "duration_seconds": 5}),
        json_reply(404, {"error": {"message": "no such call"}}),
    ]
    http = provider(server)
    event = http.lookup("call/1", None)
    assert event is not None and event.outcome is Outcome.VOICEMAIL
    [sent] = server.requests
    assert (sent.method, sent.path) == ("GET", "/calls/call%2F1")
    signing.verify(sent.headers, b"", SECRET, NOW)
    assert http.lookup("call_2", None) is None


def test_a_status_url_without_call_id_is_refused() -> None:
    with pytest.raises(ValueError, match="call_id"):
        HttpProvider("https://p/calls", "https://p/status", SECRET, "https://x")


def test_signatures_are_fresh_on_each_try(server: FakeServer, answers: Answers) -> None:
    answers.replies = [json_reply(429, {}), json_reply(201, {"provider_call_id": "p"})]
    clock = Clock(NOW)
    http = HttpProvider(
        server.url + "/calls",
        server.url + "/calls/{call_id}",
        SECRET,
        "https://x",
        backoff=Backoff(sleep=lambda s: setattr(clock, "now", clock.now + 400)),
        clock=clock,
    )
    http.place_call(call_request())
    stamps = [r.header("X-Signature").split(",")[0] for r in server.requests]  # type: ignore[union-attr]
    assert stamps == [f"t={int(NOW)}", f"t={int(NOW) + 400}"]
