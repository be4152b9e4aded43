"""Local stand-ins for the real services, on 127.0.0.1: a recording HTTP server, a
voice-agent platform that implements docs/providers/http.md, and a Twilio that answers
and calls back as Twilio's Calls API does. Each call's fate is scripted per number."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from batch_calls.telephony import signing, twilio


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.time() when it arrived

    def header(self, name: str) -> str | None:
        return signing.header_value(self.headers, name)

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> list[tuple[str, str]]:
        return urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True)


Reply = tuple[int, dict[str, str], bytes]


class FakeServer:
    """Records every request and answers with `handle(request)`."""

    def __init__(self, handle: Callable[[Recorded], Reply]) -> None:
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Recorded(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    self.rfile.read(length),
                    time.time(),
                )
                with owner._lock:
                    owner.requests.append(request)
                status, headers, body = handle(request)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body).encode(),
    )


@dataclass
class FakeCall:
    call_id: str
    provider_call_id: str
    to: str
    status: str  # the provider's current status word
    answered_by: str | None = None
    duration: float = 0.0


@dataclass
class Script:
    """Each number's fates, one per call to it (the last repeats); `throttle` numbers
    are answered 429 on their first request, `refuse` numbers 400."""

    fates: dict[str, list[str]] = field(default_factory=dict)
    default: str = "completed"
    throttle: set[str] = field(default_factory=set)
    refuse: set[str] = field(default_factory=set)
    duration: float = 0.3

    def fate(self, to: str, nth: int) -> str:
        fates = self.fates.get(to) or [self.default]
        return fates[min(nth, len(fates)) - 1]


class _Platform:
    """What the two fakes share: the script, the calls, and callbacks in threads."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.calls: dict[str, FakeCall] = {}  # by provider call id
        self.calls_to: dict[str, int] = {}
        self.throttled: set[str] = set()
        self.callback_errors: list[str] = []
        self.lock = threading.Lock()
        self.server = FakeServer(self.handle)

    def handle(self, request: Recorded) -> Reply:
        raise NotImplementedError

    def __enter__(self) -> _Platform:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)

    @property
    def url(self) -> str:
        return self.server.url

    def gate(self, to: str) -> Reply | None:
        """The scripted refusals: a 429 on a throttled number's first try, a 400."""
        with self.lock:
            if to in self.script.throttle and to not in self.throttled:
                self.throttled.add(to)
                return self.throttle_reply()
        if to in self.script.refuse:
            return self.refuse_reply()
        return None

    def throttle_reply(self) -> Reply:
        raise NotImplementedError

    def refuse_reply(self) -> Reply:
        raise NotImplementedError

    def later(self, delay: float, action: Callable[[], None]) -> None:
        def run() -> None:
            time.sleep(delay)
            try:
                action()
            except Exception as error:  # a failed callback is a test failure to show
                self.callback_errors.append(repr(error))

        threading.Thread(target=run, daemon=True).start()

    @staticmethod
    def post(url: str, body: bytes, headers: dict[str, str]) -> None:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as reply:
            reply.read()


class FakeVoicePlatform(_Platform):
    """docs/providers/http.md from the platform's side: verifies our signature, keeps one
    call per Idempotency-Key, calls back signed, answers status lookups."""

    def __init__(self, secret: bytes, script: Script, api_key: str = "platform-key") -> None:
        super().__init__(script)
        self.secret = secret
        self.api_key = api_key
        self.by_key: dict[str, str] = {}
        self.bad_requests: list[str] = []

    def handle(self, request: Recorded) -> Reply:
        try:
            signing.verify(request.headers, request.body, self.secret, time.time())
        except signing.InvalidSignature as error:
            self.bad_requests.append(str(error))
            return json_reply(401, {"error": {"message": str(error)}})
        if request.header("Authorization") != f"Bearer {self.api_key}":
            return json_reply(401, {"error": {"message": "bad api key"}})
        if request.method == "GET" and request.path.startswith("/calls/"):
            call_id = urllib.parse.unquote(request.path.rsplit("/", 1)[-1])
            call = next((c for c in self.calls.values() if c.call_id == call_id), None)
            if call is None:
                return json_reply(404, {"error": {"message": "no such call"}})
            return json_reply(200, self.status_body(call))
        if request.method != "POST" or request.path != "/calls":
            return json_reply(404, {"error": {"message": "no such route"}})
        order = request.json()
        refused = self.gate(order["to"])
        if refused is not None:
            return refused
        key = request.header("Idempotency-Key") or ""
        with self.lock:
            if key in self.by_key:
                return json_reply(200, {"provider_call_id": self.by_key[key]})
            provider_call_id = f"pc_{len(self.calls) + 1}"
            self.by_key[key] = provider_call_id
            nth = self.calls_to[order["to"]] = self.calls_to.get(order["to"], 0) + 1
            fate = self.script.fate(order["to"], nth)
            call = FakeCall(order["call_id"], provider_call_id, order["to"], "queued")
            self.calls[provider_call_id] = call
        if fate != "lost":
            self.later(self.script.duration, lambda: self.finish(call, fate, order["callback_url"]))
        return json_reply(201, {"provider_call_id": provider_call_id})

    def throttle_reply(self) -> Reply:
        return json_reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})

    def refuse_reply(self) -> Reply:
        return json_reply(422, {"error": {"message": "the number is not reachable"}})

    def status_body(self, call: FakeCall) -> dict[str, Any]:
        return {
            "call_id": call.call_id,
            "provider_call_id": call.provider_call_id,
            "status": call.status,
            "duration_seconds": call.duration,
        }

    def finish(self, call: FakeCall, fate: str, callback_url: str) -> None:
        call.status = "ringing"
        self.callback(call, callback_url)
        call.status, call.duration = fate, self.script.duration
        self.callback(call, callback_url)

    def callback(self, call: FakeCall, url: str) -> None:
        body = json.dumps(self.status_body(call)).encode()
        headers = {
            "Content-Type": "application/json",
            **signing.sign(self.secret, body, time.time()),
        }
        self.post(url, body, headers)


# Twilio's fates: CallStatus, or CallStatus/AnsweredBy for a completed call.
class FakeTwilio(_Platform):
    """Twilio's Calls API as far as the provider uses it: Basic auth, a form POST that
    creates a call, status callbacks signed with X-Twilio-Signature, GET of a call."""

    def __init__(self, account_sid: str, auth_token: str, script: Script) -> None:
        super().__init__(script)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.calls_path = f"/2010-04-01/Accounts/{account_sid}/Calls"

    def handle(self, request: Recorded) -> Reply:
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if request.header("Authorization") != expected:
            return json_reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
        if request.method == "GET" and request.path.startswith(self.calls_path + "/"):
            sid = request.path.rsplit("/", 1)[-1].removesuffix(".json")
            call = self.calls.get(sid)
            if call is None:
                return json_reply(404, {"code": 20404, "message": "not found", "status": 404})
            return json_reply(200, self.resource(call))
        if request.method != "POST" or request.path != self.calls_path + ".json":
            return json_reply(404, {"code": 20404, "message": "not found", "status": 404})
        form = dict(request.form())
        refused = self.gate(form["To"])
        if refused is not None:
            return refused
        with self.lock:
            sid = f"CA{len(self.calls) + 1:032x}"
            nth = self.calls_to[form["To"]] = self.calls_to.get(form["To"], 0) + 1
            fate = self.script.fate(form["To"], nth)
            call_id = dict(
                urllib.parse.parse_qsl(urllib.parse.urlsplit(form["StatusCallback"]).query)
            )["call_id"]
            call = FakeCall(call_id, sid, form["To"], "queued")
            self.calls[sid] = call
        if fate != "lost":
            self.later(self.script.duration, lambda: self.finish(call, fate, form))
        return json_reply(201, self.resource(call))

    def throttle_reply(self) -> Reply:
        return json_reply(
            429,
            {"code": 20429, "message": "Too Many Requests", "status": 429},
            {"Retry-After": "0"},
        )

    def refuse_reply(self) -> Reply:
        return json_reply(
            400,
            {
                "code": 21211,
                "message": "The 'To' number is not a valid phone number.",
                "status": 400,
            },
        )

    def resource(self, call: FakeCall) -> dict[str, Any]:
        return {
            "sid": call.provider_call_id,
            "status": call.status,
            "answered_by": call.answered_by,
            "duration": str(int(call.duration)) if call.duration else None,
        }

    def finish(self, call: FakeCall, fate: str, form: dict[str, str]) -> None:
        status, _, answered_by = fate.partition("/")
        for progress in ("initiated", "ringing"):
            call.status = progress
            self.callback(call, form["StatusCallback"])
        call.status, call.answered_by, call.duration = status, answered_by or None, 1.0
        self.callback(call, form["StatusCallback"])

    def callback(self, call: FakeCall, url: str) -> None:
        params = {
            "AccountSid": self.account_sid,
            "CallSid": call.provider_call_id,
            "CallStatus": call.status,
            "To": call.to,
            "Timestamp": formatdate(time.time()),
            "CallbackSource": "call-progress-events",
        }
        if call.answered_by:
            params["AnsweredBy"] = call.answered_by
        if call.status == "completed":
            params["CallDuration"] = str(int(call.duration))
        signed = twilio.signature(self.auth_token, url, {k: [v] for k, v in params.items()})
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            twilio.SIGNATURE_HEADER: signed,
        }
        self.post(url, urllib.parse.urlencode(params).encode(), headers)
