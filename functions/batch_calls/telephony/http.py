"""The `http` provider: any voice-agent platform that implements docs/providers/http.md.

We POST a signed JSON call request to the platform's `call_url`; the platform POSTs signed
JSON status callbacks to `<CALLBACK_URL>/provider-events/http`; for a lost callback we GET
its `status_url`. Both directions are signed with one shared secret as
`X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` (signing.py).

Secret object `http`: call_url, status_url (with `{call_id}`), signing_secret, and
optionally api_key (sent as `Authorization: Bearer`) and timeout_seconds.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from batch_calls.telephony import signing
from batch_calls.telephony.base import (
    CallEvent,
    CallRequest,
    DispatchUnknown,
    PermanentCallError,
    PlacedCall,
)
from batch_calls.telephony.callbacks import read_callback, read_status
from batch_calls.telephony.credentials import Settings
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

NAME = "http"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Statuses of a call still going; the final ones are the Outcome values.
PROGRESS_STATUSES = frozenset({"queued", "ringing", "answered", "in_progress"})
LABEL = "http callback"


class HttpProvider:
    name = NAME

    def __init__(
        self,
        call_url: str,
        status_url: str,
        signing_secret: bytes,
        callback_base: str,
        *,
        api_key: str | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        backoff: Backoff = DEFAULT_BACKOFF,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if "{call_id}" not in status_url:
            raise ValueError("http: status_url must contain {call_id}")
        self.call_url = call_url
        self.status_url = status_url
        self._secret = signing_secret
        self.callback_url = callback_base.rstrip("/") + f"/provider-events/{NAME}"
        self._api_key = api_key
        self._timeout = timeout_seconds
        self._backoff = backoff
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, callback_base: str) -> HttpProvider:
        return cls(
            settings.url("call_url"),
            settings.url("status_url"),
            settings.text("signing_secret").encode(),
            callback_base,
            api_key=settings.optional_text("api_key"),
            timeout_seconds=settings.number("timeout_seconds", DEFAULT_TIMEOUT_SECONDS),
        )

    # -- placing a call -------------------------------------------------------------------

    def request_body(self, request: CallRequest) -> bytes:
        return json.dumps(
            {
                "call_id": request.call_id,
                "idempotency_key": request.idempotency_key,
                "to": request.to,
                "from": request.from_number,
                "agent": {
                    "id": request.agent_id,
                    "version": request.agent_version,
                    "prompt": request.prompt,
                },
                "variables": dict(request.variables),
                "batch_id": request.batch_id,
                "attempt": request.attempt,
                "voicemail": request.voicemail,
                "callback_url": self.callback_url,
            },
            separators=(",", ":"),
        ).encode()

    def _headers(self, body: bytes) -> dict[str, str]:
        headers = signing.sign(self._secret, body, self._clock())
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def place_call(self, request: CallRequest) -> PlacedCall:
        body = self.request_body(request)

        def attempt() -> PlacedCall:
            # Signed afresh on each try, so a long backoff never sends a stale timestamp.
            headers = {
                **self._headers(body),
                "Content-Type": "application/json",
                IDEMPOTENCY_HEADER: request.idempotency_key,
            }
            try:
                response = exchange("POST", self.call_url, headers, body, self._timeout)
            except DispatchUnknown as error:  # the idempotency key makes a retry safe
                raise Retry(str(error), throttled=False) from error
            return self._placed(response)

        return self._backoff.run(attempt, NAME)

    def _placed(self, response: Response) -> PlacedCall:
        if response.status == 429:
            raise Retry("HTTP 429", throttled=True, after=retry_after(response))
        if response.status >= 500:
            # The same idempotency key never places a second call: safe to send again.
            raise Retry(f"HTTP {response.status}", throttled=False, after=retry_after(response))
        data = response.json_object()
        if not 200 <= response.status < 300:
            raise PermanentCallError(
                reason(f"http: refused ({response.status}): {_message(data, response.body)}")
            )
        provider_call_id = data.get("provider_call_id") if data else None
        if not isinstance(provider_call_id, str) or not provider_call_id:
            raise PermanentCallError("http: the platform's answer has no provider_call_id")
        return PlacedCall(provider_call_id)

    # -- status callbacks and lookups -----------------------------------------------------

    def parse_event(self, headers: Mapping[str, str], body: bytes, url: str = "") -> CallEvent:
        signed_at = signing.verify(headers, body, self._secret, self._clock())
        return read_callback(body, LABEL, PROGRESS_STATUSES, signed_at)

    def lookup(self, call_id: str, provider_call_id: str | None) -> CallEvent | None:
        url = self.status_url.replace("{call_id}", urllib.parse.quote(call_id, safe=""))
        data = lookup_json(url, self._headers(b""), self._timeout, "http: status lookup")
        if data is None:
            return None
        try:
            return read_status(data, LABEL, PROGRESS_STATUSES)
        except ValueError as error:
            raise DispatchUnknown(f"http: status lookup: {error}") from error


def _message(data: Mapping[str, Any] | None, body: bytes) -> str:
    if data:
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        for key in ("message", "error"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return body[:200].decode("utf-8", "replace") or "no reason given"
