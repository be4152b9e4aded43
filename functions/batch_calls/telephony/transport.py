"""What the real providers share: one HTTPS exchange (standard library) and the backoff
that retries a throttled (or, where the provider de-duplicates, a failed) request.

Retries stay inside one Dial invocation (the Dial function has 60 s): at most
`Backoff.tries` tries, none starting more than `Backoff.budget_seconds` after the first,
so a provider that keeps throttling ends as a failed attempt rather than as a timed-out
Lambda.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from batch_calls.telephony.base import CallNotPlaced, DispatchUnknown
from batch_calls.telephony.signing import header_value

DEFAULT_TIMEOUT_SECONDS = 10.0
USER_AGENT = "batch-calls/1"
# What a reason quoted from a provider may add to a recipient's last_outcome.
MAX_REASON_CHARS = 300

T = TypeVar("T")


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object; None when it is not one (an error page, nothing)."""
        try:
            value = json.loads(self.body) if self.body else None
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def exchange(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> Response:
    """One request; any HTTP status is a Response, a network failure is DispatchUnknown
    (the request may have arrived: only the caller knows whether a retry is safe)."""
    request = urllib.request.Request(
        url, data=body, headers={"User-Agent": USER_AGENT, **headers}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return Response(int(reply.status), dict(reply.headers.items()), reply.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers.items()), error.read())
    except (OSError, ValueError) as error:  # URLError, timeouts, refused connections
        # The URL only: credentials travel in headers, never in it.
        raise DispatchUnknown(f"{method} {_no_query(url)} failed: {error}") from error


def lookup_json(
    url: str, headers: Mapping[str, str], timeout: float, what: str
) -> dict[str, Any] | None:
    """GET a call's state: its JSON object, or None on a 404 (the provider has no such
    call); DispatchUnknown, naming `what` was asked, for any other answer."""
    response = exchange("GET", url, headers, None, timeout)
    if response.status == 404:
        return None
    data = response.json_object()
    if response.status != 200 or data is None:
        raise DispatchUnknown(f"{what} answered {response.status}")
    return data


def _no_query(url: str) -> str:
    return url.split("?", 1)[0]


class Retry(Exception):
    """Raised by a try that may be repeated: `reason` says why, `after` is the wait the
    provider asked for (Retry-After), if it said."""

    def __init__(self, reason: str, *, throttled: bool, after: float | None = None) -> None:
        super().__init__(reason)
        self.throttled = throttled
        self.after = after


@dataclass(frozen=True)
class Backoff:
    tries: int = 5
    first_wait_seconds: float = 0.5
    factor: float = 2.0
    max_wait_seconds: float = 8.0
    # No new try starts later than this after the first (requests' own time included):
    # with a 10 s request timeout a dial ends well within the function's 60 s.
    budget_seconds: float = 20.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    monotonic: Callable[[], float] = field(default=time.monotonic, compare=False)

    def run(self, attempt: Callable[[], T], provider: str) -> T:
        """`attempt()` until it returns; a `Retry` is retried after a wait. When the
        tries or the budget run out: CallNotPlaced if the provider was throttling (it
        refused the request, so no call exists), else DispatchUnknown."""
        started = self.monotonic()
        waited = 0.0  # what the sleeps took, for a `sleep` that does not pass time (tests)
        wait = self.first_wait_seconds
        for number in range(1, self.tries + 1):
            try:
                return attempt()
            except Retry as retry:
                pause = min(self.max_wait_seconds, wait if retry.after is None else retry.after)
                elapsed = max(self.monotonic() - started, waited)
                if number == self.tries or elapsed + pause > self.budget_seconds:
                    if retry.throttled:
                        raise CallNotPlaced(
                            f"{provider}: throttled after {number} tries ({retry})"
                        ) from retry
                    raise DispatchUnknown(f"{provider}: {retry} after {number} tries") from retry
                self.sleep(pause)
                waited += pause
                wait *= self.factor
        raise AssertionError("unreachable: the last try returns or raises")


def retry_after(response: Response) -> float | None:
    """Retry-After in seconds (the HTTP-date form is not used by these providers)."""
    value = response.header("Retry-After")
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def reason(text: str) -> str:
    """A provider's message, one line, short enough for last_outcome."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_REASON_CHARS else flat[: MAX_REASON_CHARS - 1] + "…"


DEFAULT_BACKOFF = Backoff()
