"""What the stores hand to logic and take from it: plain values, no storage in them.

The stores (store/) build these from their items and logic (logic/) decides with them;
logic names the stores only through its ports (logic/ports.py), so it can run against
in-memory fakes as well as against DynamoDB.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's limit on one item: a batch larger is refused


class InvalidCursor(ValueError):
    """A pagination cursor the store did not hand out."""


class Claim(Enum):
    """What came of a claim: the recipient is ours, or why not."""

    CLAIMED = "claimed"
    BATCH_REFUSED = "batch_refused"  # not running, or every concurrency slot is taken
    WORKSPACE_FULL = "workspace_full"  # the workspace's limit across its batches
    SLOT_SPENT = "slot_spent"  # the slot placed its share of calls
    RECIPIENT_MOVED = "recipient_moved"  # another slot claimed it, or it changed
    CONTACT_CHANGED = "contact_changed"  # another call to the number was claimed meanwhile


@dataclass(frozen=True)
class ContactCalls:
    """A number's placed calls a contact limit still counts, as read (`revision` makes
    the claim that adds one fail if another claim added one meanwhile)."""

    calls: tuple[datetime, ...]
    revision: int


@dataclass(frozen=True)
class ContactUpdate:
    """A claim's change to a number's history: `calls` instead of what was `read`."""

    number: str
    read: ContactCalls
    calls: tuple[datetime, ...]


@dataclass(frozen=True)
class WorkspaceLive:
    """The workspace's live calls, and the batches waiting for a unit: batch id ->
    (its rank, lower first; until when its wait counts, epoch seconds)."""

    calls: int
    waiting: dict[str, tuple[str, float]]


@dataclass(frozen=True)
class SlotRef:
    """One slot of a run: the loop that dials the batch's recipients one after another."""

    workspace_id: str
    batch_id: str
    round: int
    slot: int


@dataclass(frozen=True)
class SlotState:
    call_id: str | None  # the call it claimed last
    calls: int  # how many it claimed


@dataclass(frozen=True)
class DueRecipient:
    part: int
    row: int
    attempts: int


@dataclass(frozen=True)
class Due(DueRecipient):
    """A recipient in the due index, with what its calling rules are checked on."""

    phone_number: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    due_at: datetime | None = None  # None: due since always (never deferred)
    retry_at: datetime | None = None  # when its retry wait ends, if it waits for one
    waiting_for: str | None = None  # why it was deferred past its retry wait, if it was


@dataclass(frozen=True)
class Analytics:
    """What one outcome adds to its batch's analytics item (domain.results)."""

    counters: dict[str, int | float] = field(default_factory=dict)
    data_fields: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CallRecord:
    """The CALL# item: finds a recipient from a provider webhook."""

    call_id: str
    workspace_id: str
    batch_id: str
    part: int
    row: int
    attempt: int
    task_token: str | None
    provider_call_id: str | None
    outcome: str | None
    provider: str | None = None  # the telephony provider that placed it


@dataclass(frozen=True)
class AuditedCall:
    """A placed call and the rules its claim checked (`logic/calling_rules.audit`)."""

    call_id: str
    attempt: int
    started_at: str
    outcome: str | None
    audit: dict[str, Any]
