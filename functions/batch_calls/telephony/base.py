"""The one telephony interface (architecture.md section 6) and its vocabulary.

A provider places a call, turns its webhook into a CallEvent after verifying it, and
looks a call up when its callback was lost (reconciliation).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from batch_calls.domain.batch import Outcome

__all__ = [
    "CallEvent",
    "CallRequest",
    "InvalidSignature",
    "Outcome",
    "PermanentCallError",
    "PlacedCall",
    "Provider",
]


@dataclass(frozen=True)
class CallRequest:
    """One attempt to call one recipient."""

    call_id: str  # ours: also the callback reference the provider echoes back
    idempotency_key: str  # {batch}:{part}:{row}:{attempt}: the same attempt is one call
    to: str  # E.164
    from_number: str  # E.164
    agent_id: str
    variables: Mapping[str, str]
    batch_id: str
    attempt: int


@dataclass(frozen=True)
class PlacedCall:
    provider_call_id: str


@dataclass(frozen=True)
class CallEvent:
    """A verified provider event about one of our calls. `outcome` is None while the
    call is still going (ringing, answered): such events only show it is alive."""

    call_id: str
    outcome: Outcome | None
    provider_status: str
    duration_seconds: float | None = None
    detail: Mapping[str, str] = field(default_factory=dict)
    # The person asked not to be called again: the number joins the suppression list.
    opted_out: bool = False


class InvalidSignature(Exception):
    """The webhook is not signed by the provider, or is too old (a replay)."""


class PermanentCallError(Exception):
    """The provider refused the call for good (invalid number, unverified caller ID):
    the attempt is recorded as failed with this reason."""


class Provider(Protocol):
    name: str

    def place_call(self, request: CallRequest) -> PlacedCall:
        """Place the call; the same idempotency key never places a second call."""
        ...

    def parse_event(self, headers: Mapping[str, str], body: bytes) -> CallEvent:
        """Verify the webhook (raise InvalidSignature) and read it."""
        ...

    def lookup(self, call_id: str, provider_call_id: str | None) -> CallEvent | None:
        """The call's current state, for a lost callback; None if the provider has no
        such call."""
        ...
