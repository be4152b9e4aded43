"""Signed callbacks that try to break the parser get a clear refusal, never a crash."""

import time

import pytest

from batch_calls.telephony import signing
from batch_calls.telephony.base import InvalidSignature
from batch_calls.telephony.simulated import SimulatedProvider

SECRET = b"s" * 32
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (DEEP, "nested too deeply"),
        (b'{"call_id": "c1", "duration": ' + b"9" * 5000 + b"}", "more than 64 digits"),
        (b'{"call_id": "c1", "duration": NaN}', "NaN"),
        (b"{" * 10 + b"x" * (300 * 1024), "larger than"),
    ],
)
def test_a_signed_hostile_body_is_refused_with_its_problem(body: bytes, problem: str) -> None:
    provider = SimulatedProvider(SECRET, queue_url="unused")
    with pytest.raises(ValueError, match=problem):
        provider.parse_event(signing.sign(SECRET, body, time.time()), body)


def test_a_timestamp_of_thousands_of_digits_is_malformed_not_pythons_message() -> None:
    body = b'{"call_id": "c1", "status": "completed"}'
    headers = {"X-Signature": "t=" + "9" * 5000 + ",v1=00"}
    with pytest.raises(InvalidSignature) as caught:
        signing.verify(headers, body, SECRET, time.time())
    assert str(caught.value) == "malformed X-Signature timestamp"
