"""Webhook signatures: HMAC-SHA256 over `timestamp.body`, with a replay window."""

import hashlib
import hmac

import pytest

from batch_calls.telephony.base import InvalidSignature
from batch_calls.telephony.signing import sign, verify

SECRET = b"s3cret"
BODY = b'{"call_id": "c1", "status": "completed"}'
NOW = 1_700_000_000.7


def test_header_is_t_and_hex_hmac_of_timestamp_dot_body() -> None:
    headers = sign(SECRET, BODY, NOW)
    expected = hmac.new(SECRET, b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert headers == {"X-Signature": f"t=1700000000,v1={expected}"}


def test_valid_signature_passes_whatever_the_header_case() -> None:
    (value,) = sign(SECRET, BODY, NOW).values()
    for name in ("X-Signature", "x-signature", "X-SIGNATURE"):
        verify({"Content-Type": "application/json", name: value}, BODY, SECRET, NOW + 5)


def test_tampered_body_fails() -> None:
    with pytest.raises(InvalidSignature, match="does not match"):
        verify(sign(SECRET, BODY, NOW), BODY.replace(b"completed", b"failed"), SECRET, NOW)


def test_wrong_secret_fails() -> None:
    with pytest.raises(InvalidSignature, match="does not match"):
        verify(sign(b"other", BODY, NOW), BODY, SECRET, NOW)


def test_missing_header_fails() -> None:
    with pytest.raises(InvalidSignature, match="missing"):
        verify({"Content-Type": "application/json"}, BODY, SECRET, NOW)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "t=1700000000",
        "v1=abc",
        "t=abc,v1=abc",
        "t=-5,v1=abc",
        "t=1,t=2,v1=abc",
        "t=١٧٠٠,v1=abc",  # non-ASCII digits
    ],
)
def test_malformed_header_fails(value: str) -> None:
    with pytest.raises(InvalidSignature, match="malformed"):
        verify({"X-Signature": value}, BODY, SECRET, NOW)


@pytest.mark.parametrize("offset", [-301, 301, -86_400, 86_400])
def test_timestamp_outside_tolerance_is_a_replay(offset: int) -> None:
    headers = sign(SECRET, BODY, NOW)
    with pytest.raises(InvalidSignature, match="from now"):
        verify(headers, BODY, SECRET, NOW + offset)


def test_tolerance_edge_and_custom_tolerance() -> None:
    headers = sign(SECRET, BODY, 1000)
    verify(headers, BODY, SECRET, 1300)
    verify(headers, BODY, SECRET, 700)
    with pytest.raises(InvalidSignature):
        verify(headers, BODY, SECRET, 1011, tolerance_seconds=10)


def test_any_of_several_signatures_may_match() -> None:
    # A sender rotating its secret signs with the old and the new one.
    (value,) = sign(SECRET, BODY, NOW).values()
    (old,) = sign(b"old", BODY, NOW).values()
    both = f"{old},v1={value.split('v1=')[1]}"
    verify({"X-Signature": both}, BODY, SECRET, NOW)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        sign(b"", BODY, NOW)
