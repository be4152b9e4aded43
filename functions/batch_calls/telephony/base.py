"""The one telephony interface (architecture.md section 6) and its vocabulary.

A provider places a call, turns its webhook into a CallEvent after verifying it, and
looks a call up when its callback was lost (reconciliation).

What can go wrong when placing a call, and what the dial does about it:
- `CallNotPlaced` (and its `PermanentCallError`): the provider did not take the call
  (invalid number, unverified caller ID, still throttled after the backoff): the attempt
  is recorded `failed` with the provider's reason as its last outcome.
- `DispatchUnknown`: the request may or may not have reached the provider (a timeout, a
  reset connection, a 5xx after the retries): the attempt stays live and the Dial task's
  timeout reconciles it by asking the provider; it is never dialled again.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from batch_calls.domain.batch import Outcome
from batch_calls.domain.results import AnsweredBy, CallFacts

__all__ = [
    "CallEvent",
    "CallNotPlaced",
    "CallRequest",
    "DispatchUnknown",
    "InvalidSignature",
    "Outcome",
    "PermanentCallError",
    "PlacedCall",
    "Provider",
    "ProviderNotConfigured",
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
    agent_version: int | None = None  # the agent's published version, when it has one
    prompt: str = ""  # the agent's prompt with the recipient's variables filled in
    # The batch's voicemail policy: hang_up, or leave_message (the agent leaves its
    # message on the machine), as far as the provider can (docs/providers/*.md).
    voicemail: str = "hang_up"


@dataclass(frozen=True)
class PlacedCall:
    provider_call_id: str


@dataclass(frozen=True)
class CallEvent:
    """A verified provider event about one of our calls. `outcome` is None while the
    call is still going (ringing, answered): such events only show it is alive."""

    call_id: str  # ours; "" when the provider only knows its own id (Amazon Connect)
    outcome: Outcome | None
    provider_status: str
    duration_seconds: float | None = None
    detail: Mapping[str, str] = field(default_factory=dict)
    provider_call_id: str | None = None
    # The person asked not to be called again: the number joins the suppression list.
    opted_out: bool = False
    # When the provider says the event happened or was sent (timezone-aware; whole
    # seconds, as providers stamp them): the CallbackLatency metric measures from it.
    # None when it does not say.
    occurred_at: datetime | None = None
    # What the provider tells about the call besides its outcome (docs/providers/*.md).
    answered_by: AnsweredBy | None = None
    ended_reason: str | None = None
    recording_url: str | None = None
    transcript_url: str | None = None
    cost: float | None = None
    cost_currency: str | None = None
    data: Mapping[str, str] = field(default_factory=dict)
    # "Call me at <time>": ISO 8601 as sent; one without an offset is a wall-clock time
    # in the recipient's zone, which only the product knows (logic/rounds.py record).
    callback_at: str | None = None

    def facts(self) -> CallFacts:
        return CallFacts(
            duration_seconds=self.duration_seconds,
            answered_by=self.answered_by,
            ended_reason=self.ended_reason,
            recording_url=self.recording_url,
            transcript_url=self.transcript_url,
            cost=self.cost,
            cost_currency=self.cost_currency,
            data=self.data,
            callback_at=self.callback_at,
        )


class InvalidSignature(Exception):
    """The webhook is not signed by the provider, or is too old (a replay)."""


class CallNotPlaced(Exception):
    """The provider did not take the call: the attempt is recorded as failed, with this
    message (the provider's reason) as its last outcome."""


class PermanentCallError(CallNotPlaced):
    """The provider refused the call for good (invalid number, unverified caller ID)."""


class DispatchUnknown(Exception):
    """Whether the provider took the call is unknown: reconciliation will ask it."""


class ProviderNotConfigured(RuntimeError):
    """The deployment has no settings (credentials) for this provider."""


class Provider(Protocol):
    name: str

    def place_call(self, request: CallRequest) -> PlacedCall:
        """Place the call; the same idempotency key never places a second call."""
        ...

    def parse_event(self, headers: Mapping[str, str], body: bytes, url: str = "") -> CallEvent:
        """Verify the webhook (raise InvalidSignature) and read it (ValueError says what
        is wrong with it). `url` is the public URL it was sent to, query included (Twilio
        signs it)."""
        ...

    def lookup(self, call_id: str, provider_call_id: str | None) -> CallEvent | None:
        """The call's current state, for a lost callback; None if the provider has no
        such call."""
        ...
