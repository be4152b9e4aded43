"""The `twilio` provider: Twilio's Programmable Voice REST API (plain HTTPS, form bodies).

Placing: POST /2010-04-01/Accounts/{AccountSid}/Calls.json with To, From, the agent (as
TwiML that connects the call to the voice agent's media stream, with the call's id, agent
and variables as stream parameters; or as a TwiML URL), answering-machine detection, and
a StatusCallback for initiated, ringing, answered and completed at
`<CALLBACK_URL>/provider-events/twilio?call_id=<our call id>`.

Callbacks are verified with X-Twilio-Signature (base64 HMAC-SHA1 with the auth token over
the full URL followed by every form parameter, name then value, sorted by name). The
scheme has no timestamp, so a callback whose signed `Timestamp` parameter is older than
`REPLAY_TOLERANCE_SECONDS` is refused as a replay.

Twilio's Calls API takes no idempotency key, so only a 429 (the request was refused) is
retried; a network failure or a 5xx is left to reconciliation (GET the call), never
sent again.

Secret object `twilio`: account_sid, auth_token, and stream_url (wss://...) or twiml_url
(`{agent_id}` is replaced); optionally api_key_sid and api_key_secret (REST calls then
authenticate with the key), machine_detection (Enable, the default, or
DetectMessageEnd), api_base_url (a test double's) and timeout_seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import time
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from xml.sax.saxutils import quoteattr

from batch_calls.domain import results
from batch_calls.domain.results import AnsweredBy
from batch_calls.telephony.base import (
    CallEvent,
    CallRequest,
    DispatchUnknown,
    InvalidSignature,
    Outcome,
    PermanentCallError,
    PlacedCall,
)
from batch_calls.telephony.credentials import Settings
from batch_calls.telephony.signing import header_value
from batch_calls.telephony.transport import (
    DEFAULT_BACKOFF,
    DEFAULT_TIMEOUT_SECONDS,
    Backoff,
    Response,
    Retry,
    exchange,
    lookup_json,
    reason,
    retry_after,
)

NAME = "twilio"
API_BASE_URL = "https://api.twilio.com"
SIGNATURE_HEADER = "X-Twilio-Signature"
REPLAY_TOLERANCE_SECONDS = 900
MAX_TWIML_CHARS = 4000  # Twilio's limit on the Twiml parameter
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")

# CallStatus values (Twilio's documented set) and what they mean for us.
PROGRESS_STATUSES = frozenset({"queued", "initiated", "ringing", "in-progress"})
FINAL_STATUSES: dict[str, Outcome] = {
    "completed": Outcome.COMPLETED,
    "busy": Outcome.BUSY,
    "no-answer": Outcome.NO_ANSWER,
    "canceled": Outcome.FAILED,
    "failed": Outcome.FAILED,
}
# AnsweredBy (answering-machine detection) of a completed call.
ANSWERED_BY: dict[str, Outcome] = {
    "human": Outcome.COMPLETED,
    "unknown": Outcome.COMPLETED,  # AMD could not tell: someone or something answered
    "machine_start": Outcome.VOICEMAIL,
    "machine_end_beep": Outcome.VOICEMAIL,
    "machine_end_silence": Outcome.VOICEMAIL,
    "machine_end_other": Outcome.VOICEMAIL,
    "fax": Outcome.FAILED,
}
# With the voicemail policy leave_message, detection waits for the greeting's end (the
# beep), so the agent's stream starts when its message can be recorded.
LEAVE_MESSAGE_DETECTION = "DetectMessageEnd"


def who_answered(answered_by: str | None) -> AnsweredBy | None:
    """Twilio's AnsweredBy as human, machine or unknown (a fax is a machine)."""
    if not answered_by:
        return None
    if answered_by == "human":
        return AnsweredBy.HUMAN
    if answered_by.startswith("machine") or answered_by == "fax":
        return AnsweredBy.MACHINE
    return AnsweredBy.UNKNOWN


def outcome_of(status: str, answered_by: str | None) -> Outcome | None:
    """A CallStatus (and AnsweredBy) as our outcome; None while the call is going.
    ValueError for a status Twilio does not document."""
    if status in PROGRESS_STATUSES:
        return None
    if status not in FINAL_STATUSES:
        raise ValueError(f"twilio: unknown CallStatus {status!r}")
    if status == "completed" and answered_by:
        return ANSWERED_BY.get(answered_by, Outcome.COMPLETED)
    return FINAL_STATUSES[status]


def call_event(
    call_id: str,
    status: str,
    *,
    answered_by: str | None,
    duration: str,
    provider_call_id: str | None,
    occurred_at: datetime | None = None,
    recording_url: str | None = None,
    price: str | None = None,
    price_unit: str | None = None,
) -> CallEvent:
    """A callback's (or a fetched call's) fields as a CallEvent; ValueError for a status
    Twilio does not document. `duration` is whole seconds, "" while unknown; `price` is
    what a fetched call cost (Twilio writes it negative, a debit), once known."""
    cost = _price(price)
    return CallEvent(
        call_id=call_id,
        outcome=outcome_of(status, answered_by),
        provider_status=status,
        duration_seconds=float(duration) if duration.isdigit() else None,
        detail={"answered_by": answered_by} if answered_by else {},
        provider_call_id=provider_call_id,
        occurred_at=occurred_at,
        answered_by=who_answered(answered_by),
        ended_reason=None if status in PROGRESS_STATUSES else status,
        recording_url=results.text(recording_url),
        cost=cost,
        cost_currency=results.text(price_unit) if cost is not None else None,
    )


def _price(price: str | None) -> float | None:
    try:
        value = abs(float(price)) if price else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def signature(auth_token: str, url: str, params: Mapping[str, list[str]]) -> str:
    """Twilio's request signature of a form POST to `url`."""
    text = url + "".join(name + value for name in sorted(params) for value in params[name])
    digest = hmac.new(auth_token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class TwilioProvider:
    name = NAME

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        callback_base: str,
        *,
        stream_url: str | None = None,
        twiml_url: str | None = None,
        api_key: tuple[str, str] | None = None,
        machine_detection: str = "Enable",
        api_base_url: str = API_BASE_URL,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        backoff: Backoff = DEFAULT_BACKOFF,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (stream_url is None) == (twiml_url is None):
            raise ValueError("twilio: give exactly one of stream_url and twiml_url")
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.callback_url = callback_base.rstrip("/") + f"/provider-events/{NAME}"
        self.stream_url = stream_url
        self.twiml_url = twiml_url
        user, password = api_key or (account_sid, auth_token)
        self._authorization = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.machine_detection = machine_detection
        self.calls_url = f"{api_base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Calls"
        self._timeout = timeout_seconds
        self._backoff = backoff
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, callback_base: str) -> TwilioProvider:
        key_sid = settings.optional_text("api_key_sid")
        return cls(
            settings.text("account_sid"),
            settings.text("auth_token"),
            callback_base,
            stream_url=settings.optional_text("stream_url"),
            twiml_url=settings.optional_text("twiml_url"),
            api_key=(key_sid, settings.text("api_key_secret")) if key_sid else None,
            machine_detection=settings.text("machine_detection", "Enable"),
            api_base_url=settings.url("api_base_url", API_BASE_URL),
            timeout_seconds=settings.number("timeout_seconds", DEFAULT_TIMEOUT_SECONDS),
        )

    # -- placing a call -------------------------------------------------------------------

    def status_callback(self, call_id: str) -> str:
        return f"{self.callback_url}?{urllib.parse.urlencode({'call_id': call_id})}"

    def form(self, request: CallRequest) -> list[tuple[str, str]]:
        fields = [("To", request.to), ("From", request.from_number)]
        if self.twiml_url is not None:
            url = self.twiml_url.replace("{agent_id}", urllib.parse.quote(request.agent_id))
            separator = "&" if "?" in url else "?"
            fields.append(("Url", url + separator + urllib.parse.urlencode(_ids(request))))
        else:
            fields.append(("Twiml", self.twiml(request)))
        fields += [
            ("StatusCallback", self.status_callback(request.call_id)),
            ("StatusCallbackMethod", "POST"),
            *(("StatusCallbackEvent", event) for event in STATUS_EVENTS),
            (
                "MachineDetection",
                LEAVE_MESSAGE_DETECTION
                if request.voicemail == "leave_message"
                else self.machine_detection,
            ),
        ]
        return fields

    def twiml(self, request: CallRequest) -> str:
        """Connects the answered call to the agent's media stream; the agent reads the
        call's id, agent and variables from the stream's start message."""
        parameters = {**dict(request.variables), **_ids(request)}
        tags = "".join(
            f"<Parameter name={quoteattr(name)} value={quoteattr(str(value))}/>"
            for name, value in parameters.items()
        )
        assert self.stream_url is not None
        twiml = (
            f"<Response><Connect><Stream url={quoteattr(self.stream_url)}>{tags}"
            "</Stream></Connect></Response>"
        )
        if len(twiml) > MAX_TWIML_CHARS:
            raise PermanentCallError(
                f"twilio: the call's TwiML is {len(twiml)} characters, over Twilio's "
                f"{MAX_TWIML_CHARS} (fewer or shorter variables, or use twiml_url)"
            )
        return twiml

    def place_call(self, request: CallRequest) -> PlacedCall:
        body = urllib.parse.urlencode(self.form(request)).encode()
        headers = {
            "Authorization": self._authorization,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }

        def attempt() -> PlacedCall:
            # A network failure propagates as DispatchUnknown: never sent twice.
            response = exchange("POST", self.calls_url + ".json", headers, body, self._timeout)
            return self._placed(response)

        return self._backoff.run(attempt, NAME)

    def _placed(self, response: Response) -> PlacedCall:
        data = response.json_object()
        if response.status == 429:
            raise Retry(_error(data, response), throttled=True, after=retry_after(response))
        if response.status >= 500:
            raise DispatchUnknown(f"twilio: {_error(data, response)}")
        if not 200 <= response.status < 300:
            raise PermanentCallError(reason(f"twilio: {_error(data, response)}"))
        sid = data.get("sid") if data else None
        if not isinstance(sid, str) or not sid:
            raise DispatchUnknown("twilio: the answer to the call request has no sid")
        return PlacedCall(sid)

    # -- status callbacks and lookups -----------------------------------------------------

    def parse_event(self, headers: Mapping[str, str], body: bytes, url: str = "") -> CallEvent:
        given = header_value(headers, SIGNATURE_HEADER)
        if given is None:
            raise InvalidSignature(f"missing {SIGNATURE_HEADER} header")
        params = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        expected = signature(self._auth_token, url, params)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise InvalidSignature(f"{SIGNATURE_HEADER} does not match the URL and body")
        sent_at = self._sent_at(params)
        call_id = _one(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query), "call_id")
        if not call_id:
            raise ValueError("twilio callback: the URL has no call_id")
        return call_event(
            call_id,
            _one(params, "CallStatus"),
            answered_by=_one(params, "AnsweredBy") or None,
            duration=_one(params, "CallDuration"),
            provider_call_id=_one(params, "CallSid") or None,
            occurred_at=sent_at,
            recording_url=_one(params, "RecordingUrl") or None,
        )

    def _sent_at(self, params: Mapping[str, list[str]]) -> datetime | None:
        """The signed `Timestamp` parameter; InvalidSignature when it is too far from now
        (a replay). None when Twilio did not send one."""
        stamp = _one(params, "Timestamp")
        if not stamp:
            return None
        try:
            sent_at = parsedate_to_datetime(stamp)
        except (TypeError, ValueError):
            raise InvalidSignature("twilio callback: unreadable Timestamp") from None
        if sent_at.tzinfo is None:  # "-0000": RFC 2822's UTC with no local zone given
            sent_at = sent_at.replace(tzinfo=UTC)
        if abs(self._clock() - sent_at.timestamp()) > REPLAY_TOLERANCE_SECONDS:
            raise InvalidSignature(
                f"twilio callback: Timestamp {stamp} is more than "
                f"{REPLAY_TOLERANCE_SECONDS} s from now (a replay, or a clock out of sync)"
            )
        return sent_at

    def lookup(self, call_id: str, provider_call_id: str | None) -> CallEvent | None:
        if not provider_call_id:
            return None  # never placed as far as we know; Twilio cannot be asked by our id
        url = f"{self.calls_url}/{urllib.parse.quote(provider_call_id, safe='')}.json"
        headers = {"Authorization": self._authorization, "Accept": "application/json"}
        data = lookup_json(url, headers, self._timeout, "twilio: fetching the call")
        if data is None:
            return None
        try:
            return call_event(
                call_id,
                str(data.get("status") or ""),
                answered_by=data.get("answered_by") or None,
                duration=str(data.get("duration") or ""),
                provider_call_id=provider_call_id,
                price=str(data.get("price") or ""),
                price_unit=data.get("price_unit") or None,
            )
        except ValueError as error:
            raise DispatchUnknown(str(error)) from error


def _ids(request: CallRequest) -> dict[str, str]:
    ids = {"call_id": request.call_id, "agent_id": request.agent_id}
    if request.agent_version is not None:
        ids["agent_version"] = str(request.agent_version)
    return ids


def _one(params: Mapping[str, list[str]], name: str) -> str:
    values = params.get(name) or [""]
    return values[0]


def _error(data: Mapping[str, Any] | None, response: Response) -> str:
    """Twilio's error body: {"code": 21211, "message": "...", "more_info", "status"}."""
    if data and data.get("message"):
        code = f" (error {data['code']})" if data.get("code") else ""
        return f"{data['message']}{code}"
    return f"HTTP {response.status}"
