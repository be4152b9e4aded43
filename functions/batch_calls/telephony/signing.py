"""HMAC-SHA256 webhook signatures with a timestamp, for every signed webhook we send or
receive (the simulated and http providers' status callbacks, outgoing webhooks).

Header: `X-Signature: t=<unix seconds>,v1=<hex>`, where the hex is
HMAC-SHA256(secret, `<t>.<raw body>`). Signing the timestamp with the body makes an old
request useless to whoever captured it: `verify` refuses a timestamp more than
`tolerance_seconds` from now, either way (a clock far ahead is as suspect as a replay).
Several `v1=` entries may be given (a sender rotating its secret signs with both); one
matching is enough.
"""

import hashlib
import hmac
from collections.abc import Mapping

from batch_calls.telephony.base import InvalidSignature

SIGNATURE_HEADER = "X-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    """The hex HMAC of `timestamp.body`."""
    if not secret:
        # An empty key signs nothing: a deployment without its secret must not look secure.
        raise ValueError("the signing secret is empty")
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(
    secret: bytes, body: bytes, now: float, *, header: str = SIGNATURE_HEADER
) -> dict[str, str]:
    """The headers that sign `body` at time `now` (seconds since the epoch)."""
    timestamp = int(now)
    return {header: f"t={timestamp},{SCHEME}={signature(secret, body, timestamp)}"}


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secret: bytes,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    *,
    header: str = SIGNATURE_HEADER,
) -> int:
    """The signed timestamp (seconds since the epoch); InvalidSignature unless `body` was
    signed with `secret` within the tolerance."""
    value = header_value(headers, header)
    if value is None:
        raise InvalidSignature(f"missing {header} header")
    timestamp, candidates = _parse(value, header)
    expected = signature(secret, body, timestamp)
    # compare_digest on every candidate: the time taken says nothing about the secret.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(candidate.encode(), expected.encode())
    if not matched:
        raise InvalidSignature(f"{header} does not match the body")
    if abs(now - timestamp) > tolerance_seconds:
        raise InvalidSignature(
            f"{header} timestamp {timestamp} is more than {tolerance_seconds} s from now "
            "(a replay, or a clock out of sync)"
        )
    return timestamp


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    # HTTP header names are case-insensitive, and API Gateway passes them as sent.
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _parse(value: str, header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    candidates: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            raise InvalidSignature(f"malformed {header} header")
        if key == "t":
            if timestamp is not None or not item.isascii() or not item.isdigit() or len(item) > 12:
                raise InvalidSignature(f"malformed {header} timestamp")
            timestamp = int(item)
        elif key == SCHEME:
            candidates.append(item)
        # Other keys (future schemes) are ignored, so a sender can add one before we read it.
    if timestamp is None or not candidates:
        raise InvalidSignature(f"malformed {header} header: t= and {SCHEME}= are required")
    return timestamp, candidates
