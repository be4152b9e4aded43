"""The twilio provider against a local server: the exact Calls API request, every
CallStatus and AnsweredBy, X-Twilio-Signature, throttling, refusals and lookups."""

from __future__ import annotations

import base64
import dataclasses
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import formatdate

import pytest

from batch_calls.telephony.base import (
    CallNotPlaced,
    DispatchUnknown,
    InvalidSignature,
    Outcome,
    PermanentCallError,
)
from batch_calls.telephony.transport import Backoff
from batch_calls.telephony.twilio import TwilioProvider, outcome_of, signature
from tests.telephony.fakes import FakeServer, json_reply
from tests.telephony.support import Clock, call_request
from tests.telephony.test_http_provider import Answers

SID = "AC" + "0" * 32
TOKEN = "auth-token"
NOW = 1_700_000_000.0
CALLBACK = "https://api.example.com/prod/provider-events/twilio?call_id=call_b_1_1_1"


@pytest.fixture
def answers() -> Answers:
    return Answers(json_reply(201, {"sid": "CA1", "status": "queued"}))


@pytest.fixture
def server(answers: Answers) -> Iterator[FakeServer]:
    with FakeServer(answers) as running:
        yield running


def provider(
    server: FakeServer, sleeps: list[float] | None = None, **options: str
) -> TwilioProvider:
    chosen = options or {"stream_url": "wss://agents.example.com/stream"}
    return TwilioProvider(
        SID,
        TOKEN,
        "https://api.example.com/prod",
        api_base_url=server.url,
        backoff=Backoff(sleep=(sleeps if sleeps is not None else []).append),
        clock=Clock(NOW),
        **chosen,  # type: ignore[arg-type]
    )


def test_the_signature_is_twilios_documented_example() -> None:
    params = {
        "CallSid": ["CA1234567890ABCDE"],
        "Caller": ["+12349013030"],
        "Digits": ["1234"],
        "From": ["+12349013030"],
        "To": ["+18005551212"],
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_the_calls_request_is_exact(server: FakeServer) -> None:
    request = call_request(variables={"customer_name": "Asha & Co"})
    assert provider(server).place_call(request).provider_call_id == "CA1"
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", f"/2010-04-01/Accounts/{SID}/Calls.json")
    assert (
        sent.header("Authorization")
        == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    )
    assert sent.header("Content-Type") == "application/x-www-form-urlencoded"
    assert sent.form() == [
        ("To", "+14155550101"),
        ("From", "+14155550100"),
        (
            "Twiml",
            '<Response><Connect><Stream url="wss://agents.example.com/stream">'
            '<Parameter name="customer_name" value="Asha &amp; Co"/>'
            '<Parameter name="call_id" value="call_b_1_1_1"/>'
            '<Parameter name="agent_id" value="agent_1"/>'
            "</Stream></Connect></Response>",
        ),
        ("StatusCallback", CALLBACK),
        ("StatusCallbackMethod", "POST"),
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "ringing"),
        ("StatusCallbackEvent", "answered"),
        ("StatusCallbackEvent", "completed"),
        ("MachineDetection", "Enable"),
    ]


def test_a_twiml_url_names_the_agent_and_the_call(server: FakeServer) -> None:
    twilio = provider(server, twiml_url="https://agents.example.com/twiml/{agent_id}?lang=en")
    twilio.place_call(call_request())
    form = dict(server.requests[0].form())
    assert form["Url"] == (
        "https://agents.example.com/twiml/agent_1?lang=en&call_id=call_b_1_1_1&agent_id=agent_1"
    )
    assert "Twiml" not in form


def test_too_many_variables_for_twiml_are_refused_before_any_request(server: FakeServer) -> None:
    with pytest.raises(PermanentCallError, match="over Twilio's 4000"):
        provider(server).place_call(call_request(variables={"notes": "x" * 4000}))
    assert server.requests == []


def test_throttling_then_success_places_one_call(server: FakeServer, answers: Answers) -> None:
    answers.replies = [
        json_reply(429, {"code": 20429, "message": "Too Many Requests"}, {"Retry-After": "1"}),
        json_reply(201, {"sid": "CA9"}),
    ]
    sleeps: list[float] = []
    assert provider(server, sleeps).place_call(call_request()).provider_call_id == "CA9"
    assert len(server.requests) == 2 and sleeps == [1.0]


def test_throttled_to_the_end_is_not_placed(server: FakeServer, answers: Answers) -> None:
    answers.replies = [json_reply(429, {"code": 20429, "message": "Too Many Requests"})]
    with pytest.raises(CallNotPlaced, match="Too Many Requests"):
        provider(server).place_call(call_request())


def test_a_server_error_is_never_sent_twice(server: FakeServer, answers: Answers) -> None:
    answers.replies = [json_reply(503, {"message": "unavailable"}), json_reply(201, {"sid": "x"})]
    with pytest.raises(DispatchUnknown):
        provider(server).place_call(call_request())
    assert len(server.requests) == 1  # Twilio takes no idempotency key


@pytest.mark.parametrize(
    ("code", "message"),
    [(21211, "The 'To' number is not a valid phone number."), (21210, "'From' is not verified")],
)
def test_refusals_are_permanent_with_twilios_reason(
    server: FakeServer, answers: Answers, code: int, message: str
) -> None:
    answers.replies = [json_reply(400, {"code": code, "message": message, "status": 400})]
    with pytest.raises(PermanentCallError) as refused:
        provider(server).place_call(call_request())
    assert str(refused.value) == f"twilio: {message} (error {code})"


@pytest.mark.parametrize(
    ("status", "answered_by", "outcome"),
    [
        ("queued", None, None),
        ("initiated", None, None),
        ("ringing", None, None),
        ("in-progress", None, None),
        ("completed", None, Outcome.COMPLETED),
        ("completed", "human", Outcome.COMPLETED),
        ("completed", "unknown", Outcome.COMPLETED),
        ("completed", "machine_start", Outcome.VOICEMAIL),
        ("completed", "machine_end_beep", Outcome.VOICEMAIL),
        ("completed", "machine_end_silence", Outcome.VOICEMAIL),
        ("completed", "machine_end_other", Outcome.VOICEMAIL),
        ("completed", "fax", Outcome.FAILED),
        ("busy", None, Outcome.BUSY),
        ("no-answer", None, Outcome.NO_ANSWER),
        ("canceled", None, Outcome.FAILED),
        ("failed", None, Outcome.FAILED),
    ],
)
def test_every_status_and_answered_by_is_mapped(
    server: FakeServer, status: str, answered_by: str | None, outcome: Outcome | None
) -> None:
    assert outcome_of(status, answered_by) is outcome
    params = {"CallSid": "CA1", "CallStatus": status, "CallDuration": "7"}
    if answered_by:
        params["AnsweredBy"] = answered_by
    event = provider(server).parse_event(*signed(params))
    assert (event.call_id, event.outcome, event.provider_call_id) == (
        "call_b_1_1_1",
        outcome,
        "CA1",
    )
    assert event.duration_seconds == 7.0


def test_an_undocumented_status_is_a_bad_event(server: FakeServer) -> None:
    with pytest.raises(ValueError, match="unknown CallStatus"):
        provider(server).parse_event(*signed({"CallStatus": "hung"}))


def signed(
    params: dict[str, str], url: str = CALLBACK, token: str = TOKEN
) -> tuple[dict[str, str], bytes, str]:
    body = urllib.parse.urlencode(params).encode()
    headers = {"X-Twilio-Signature": signature(token, url, {k: [v] for k, v in params.items()})}
    return headers, body, url


def test_forged_tampered_and_replayed_callbacks_are_refused(server: FakeServer) -> None:
    twilio = provider(server)
    params = {"CallSid": "CA1", "CallStatus": "completed"}
    with pytest.raises(InvalidSignature, match="does not match"):
        twilio.parse_event(*signed(params, token="not-the-token"))
    headers, body, url = signed(params)
    with pytest.raises(InvalidSignature, match="does not match"):
        twilio.parse_event(headers, body, url.replace("call_b_1_1_1", "call_other"))
    with pytest.raises(InvalidSignature, match="does not match"):
        twilio.parse_event(headers, body.replace(b"completed", b"busy"), url)
    with pytest.raises(InvalidSignature, match="missing"):
        twilio.parse_event({}, body, url)
    stale = {**params, "Timestamp": formatdate(NOW - 3600)}
    with pytest.raises(InvalidSignature, match="replay"):
        twilio.parse_event(*signed(stale))
    fresh = {**params, "Timestamp": formatdate(NOW - 60)}
    assert twilio.parse_event(*signed(fresh)).outcome is Outcome.COMPLETED


@pytest.mark.parametrize("usegmt", [False, True])  # "-0000" and "GMT": both UTC
def test_the_timestamp_is_when_the_event_occurred(server: FakeServer, usegmt: bool) -> None:
    twilio = provider(server)
    params = {"CallSid": "CA1", "CallStatus": "ringing"}
    stamped = {**params, "Timestamp": formatdate(NOW - 60, usegmt=usegmt)}
    event = twilio.parse_event(*signed(stamped))
    assert event.occurred_at == datetime(2023, 11, 14, 22, 12, 20, tzinfo=UTC)
    assert twilio.parse_event(*signed(params)).occurred_at is None


def test_lookup_fetches_the_call(server: FakeServer, answers: Answers) -> None:
    answers.replies = [
        json_reply(200, {"sid": "CA1", "status": "completed", "answered_by": "machine_start"}),
        json_reply(404, {"code": 20404, "message": "not found"}),
    ]
    twilio = provider(server)
    event = twilio.lookup("call_1", "CA1")
    assert event is not None and event.outcome is Outcome.VOICEMAIL
    assert (server.requests[0].method, server.requests[0].path) == (
        "GET",
        f"/2010-04-01/Accounts/{SID}/Calls/CA1.json",
    )
    assert twilio.lookup("call_1", "CA2") is None
    assert twilio.lookup("call_1", None) is None  # never placed: nothing to ask
    assert len(server.requests) == 2


def test_a_callback_tells_who_answered_and_where_the_recording_is(server: FakeServer) -> None:
    params = {
        "CallSid": "CA1",
        "CallStatus": "completed",
        "CallDuration": "31",
        "AnsweredBy": "machine_end_beep",
        "RecordingUrl": "https://api.twilio.com/recordings/RE1",
    }
    facts = provider(server).parse_event(*signed(params)).facts()
    assert facts.answered_by == "machine"
    assert (facts.duration_seconds, facts.ended_reason) == (31.0, "completed")
    assert facts.recording_url == "https://api.twilio.com/recordings/RE1"
    human = provider(server).parse_event(*signed({**params, "AnsweredBy": "human"}))
    assert human.answered_by == "human"
    unanswered = provider(server).parse_event(*signed({"CallSid": "CA2", "CallStatus": "busy"}))
    assert (unanswered.answered_by, unanswered.ended_reason) == (None, "busy")


def test_a_fetched_call_tells_its_price(server: FakeServer, answers: Answers) -> None:
    answers.replies = [
        json_reply(
            200,
            {"sid": "CA1", "status": "completed", "duration": "60", "answered_by": "human",
             "price": "-0.01300", "price_unit": "USD"},
        )
    ]  # fmt: skip
    event = provider(server).lookup("call_1", "CA1")
    assert event is not None
    assert (event.cost, event.cost_currency, event.answered_by) == (0.013, "USD", "human")


def test_leave_message_waits_for_the_greetings_end(server: FakeServer) -> None:
    request = dataclasses.replace(call_request(), voicemail="leave_message")
    provider(server).place_call(request)
    assert ("MachineDetection", "DetectMessageEnd") in server.requests[0].form()
