"""Webhooks go to public addresses only, unless the embedded runtime allows any: the
address a connection reached is checked before anything is sent."""

import pytest

from batch_calls.logic.webhooks import deliver, delivery, is_public
from tests.results.receiver import receiving

MESSAGE_DETAIL = {"event_id": "evt_1", "batch_id": "batch_x", "call_id": "call_x"}


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),  # the Lambda runtime API listens here
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # metadata endpoints
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fd00::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:10.0.0.1", False),  # IPv4 written as IPv6 counts as itself
        ("::ffff:93.184.216.34", True),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(address) is public


def test_nothing_is_sent_to_a_private_address() -> None:
    with receiving() as receiver:
        message = delivery("ws_1", receiver.url + "/hook", "call.completed", MESSAGE_DETAIL)
        attempt = deliver(message, b"secret", 1, 1_700_000_000.0)
        assert not attempt.delivered
        assert "not a public address" in attempt.detail
        assert receiver.received == []


def test_the_embedded_runtime_may_post_to_any_address() -> None:
    with receiving() as receiver:
        message = delivery("ws_1", receiver.url + "/hook", "call.completed", MESSAGE_DETAIL)
        attempt = deliver(message, b"secret", 1, 1_700_000_000.0, any_address=True)
        assert attempt.delivered
        assert len(receiver.received) == 1
