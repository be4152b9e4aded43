"""Batches and recipients: statuses, settings and the rules on them (no AWS here)."""

import re
import secrets
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

MAX_RETRIES = 10
MAX_RETRY_WAIT_MINUTES = 7 * 24 * 60
MAX_CALLS_PER_SECOND = 1000
MAX_CALLER_NUMBERS = 100
DEFAULT_PRIORITY, MAX_PRIORITY = 5, 10


class BatchStatus(StrEnum):
    INITIATED = "initiated"  # created and starting now
    DRAFT = "draft"  # staged: contacts may still be added
    SCHEDULED = "scheduled"  # waiting for scheduled_at
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


FINAL_BATCH_STATUSES = frozenset({BatchStatus.COMPLETED, BatchStatus.CANCELLED})


class RecipientStatus(StrEnum):
    PENDING = "pending"
    DIALING = "dialing"
    IN_PROGRESS = "in_progress"
    WAITING_RETRY = "waiting_retry"
    COMPLETED = "completed"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    """How an attempt ended, as every provider's statuses map onto it."""

    COMPLETED = "completed"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    FAILED = "failed"


# What `GET /batch-calls/{id}` counts: dialing is shown as in progress and a recipient
# waiting for its retry as pending, as users of comparable products read them.
COUNTER_OF_STATUS: dict[RecipientStatus, str] = {
    RecipientStatus.PENDING: "pending",
    RecipientStatus.WAITING_RETRY: "pending",
    RecipientStatus.DIALING: "in_progress",
    RecipientStatus.IN_PROGRESS: "in_progress",
    RecipientStatus.COMPLETED: "completed",
    RecipientStatus.NO_ANSWER: "no_answer",
    RecipientStatus.VOICEMAIL: "voicemail",
    RecipientStatus.FAILED: "failed",
    RecipientStatus.SKIPPED: "skipped",
    RecipientStatus.CANCELLED: "cancelled",
}
COUNTERS = (
    "pending",
    "in_progress",
    "completed",
    "no_answer",
    "voicemail",
    "failed",
    "skipped",
    "cancelled",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Minutes = Annotated[float, Field(ge=0, le=MAX_RETRY_WAIT_MINUTES)]


class RetryConfig(_Strict):
    """Seed 000's retry_config, with a wait per outcome (default: the shared interval)."""

    max_retries: int = Field(default=0, ge=0, le=MAX_RETRIES)
    retry_interval_minutes: Minutes = 60
    retry_on_no_answer: bool = True
    retry_on_busy: bool = True
    retry_on_voicemail: bool = False
    retry_on_failed: bool = False
    no_answer_wait_minutes: Minutes | None = None
    busy_wait_minutes: Minutes | None = None
    voicemail_wait_minutes: Minutes | None = None
    failed_wait_minutes: Minutes | None = None


_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class CallingWindow(_Strict):
    """When calls may start: local clock times on allowed days (0 = Sunday)."""

    timezone: str = "UTC"
    start: str = "09:00"
    end: str = "18:00"
    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    recipient_local_time: bool = False
    # Local dates (YYYY-MM-DD) on which the window does not open (public holidays).
    blackout_dates: tuple[str, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{zone!r} is not an IANA time zone such as Asia/Kolkata") from None
        return zone

    @field_validator("start", "end")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"{value!r} is not a time of day written HH:MM (00:00 to 23:59)")
        return value

    @field_validator("days")
    @classmethod
    def _weekdays(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if not days or any(day not in range(7) for day in days):
            raise ValueError("days must list at least one weekday, 0 (Sunday) to 6 (Saturday)")
        return tuple(sorted(set(days)))

    @field_validator("blackout_dates")
    @classmethod
    def _dates(cls, dates: tuple[str, ...]) -> tuple[str, ...]:
        for value in dates:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a date written YYYY-MM-DD") from None
            if len(value) != len("2026-12-25"):
                raise ValueError(f"{value!r} is not a date written YYYY-MM-DD")
        return tuple(sorted(set(dates)))

    @model_validator(mode="after")
    def _not_empty(self) -> "CallingWindow":
        if self.start == self.end:
            raise ValueError("start and end are equal, so the window would never be open")
        return self

    def opens_at(self) -> time:
        return time.fromisoformat(self.start)

    def closes_at(self) -> time:
        return time.fromisoformat(self.end)


# A receiver on this machine may take plain http (the embedded runtime, tests); anywhere
# else a webhook carries call data and its signature, so only https.
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_URL_LENGTH = 2048


class Webhooks(_Strict):
    """Where the batch's webhooks go (seed 003 `webhooks.onCallComplete`): a POST of a
    signed JSON event for each call that ended, and one when the batch ends."""

    on_call_complete: str | None = None
    on_batch_complete: str | None = None

    @field_validator("on_call_complete", "on_batch_complete")
    @classmethod
    def _https(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if len(url) > MAX_URL_LENGTH:
            raise ValueError(f"is longer than {MAX_URL_LENGTH} characters")
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            host = None
        if host is None or parts.scheme not in {"https", "http"}:
            raise ValueError(f"{url!r} is not an absolute https:// URL")
        if parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
            raise ValueError(f"{url!r} must use https (http only for localhost/127.0.0.1)")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials: receivers verify the signature")
        return url


class BatchSettings(_Strict):
    """What a user chose for a batch; may change while it is paused or scheduled."""

    name: str = Field(min_length=1, max_length=200)
    agent_id: str = Field(min_length=1, max_length=100)
    from_phone_number: str
    scheduled_at: datetime | None = None
    max_concurrent_calls: int = Field(default=1, ge=1)
    retry_config: RetryConfig = RetryConfig()
    calling_window: CallingWindow | None = None
    on_invalid_rows: Literal["reject", "skip"] = "reject"
    dedupe: bool = True
    webhooks: Webhooks | None = None
    # Caller IDs rotated across calls (seed 004's callingNumbers); from_phone_number is
    # the first of them and the region national numbers in the file are read in.
    from_phone_numbers: tuple[str, ...] = Field(default=(), validate_default=True)
    # Call starts per second (seed 003's maxCallsPerSecond); None: no pace of its own.
    max_calls_per_second: int | None = Field(default=None, ge=1, le=MAX_CALLS_PER_SECOND)
    # Who gets a freed unit of the workspace's concurrency first (seed 003's priority,
    # 1-10): the higher, then the older batch.
    priority: int = Field(default=DEFAULT_PRIORITY, ge=1, le=MAX_PRIORITY)
    # What a call answered by a machine does: hang up (retried per retry_on_voicemail),
    # or leave the agent's message once and call that recipient no more.
    voicemail_policy: Literal["hang_up", "leave_message"] = "hang_up"

    @model_validator(mode="before")
    @classmethod
    def _first_caller_number(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("from_phone_number"):
            numbers = data.get("from_phone_numbers")
            if isinstance(numbers, list | tuple) and numbers:
                return {**data, "from_phone_number": numbers[0]}
        return data

    @field_validator("from_phone_numbers")
    @classmethod
    def _pool(cls, numbers: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        """from_phone_number first, then the others, each once."""
        first = info.data.get("from_phone_number")
        pool = tuple(dict.fromkeys(((first,) if first else ()) + numbers))
        if len(pool) > MAX_CALLER_NUMBERS:
            raise ValueError(f"lists more than {MAX_CALLER_NUMBERS} numbers")
        return pool

    @field_validator("scheduled_at")
    @classmethod
    def _in_utc(cls, moment: datetime | None) -> datetime | None:
        """Stored and shown in UTC; a time that has no UTC date (year 9999 at -05:00)
        is refused here rather than failing every later read of the batch."""
        if moment is None:
            return None
        if moment.tzinfo is None:
            raise ValueError("needs a UTC offset, for example 2026-12-01T09:30:00+05:30")
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValueError("is out of range") from None


def new_batch_id() -> str:
    """Sortable by creation time, unguessable."""
    return f"batch_{int(datetime.now().timestamp() * 1000):011x}{secrets.token_hex(5)}"


class Batch(BaseModel):
    """The batch item: settings, lifecycle and counters (one read gives progress)."""

    model_config = ConfigDict(extra="forbid")

    batch_id: str
    workspace_id: str
    settings: BatchSettings
    status: BatchStatus
    counts: dict[str, int]
    variables: list[str]
    # The contact files' header in file order, phone_number included (the report's
    # columns); empty for batches stored before it was kept.
    columns: list[str] = Field(default_factory=list)
    parts: int = 1  # contact files added (staged batches take more than one)
    loaded_parts: int = 0  # of them, written as recipient items
    round: int = 0  # the last round started
    active_round: int | None = None  # the round running now, if any
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # The status before the last write that set it: tells whether a round's start moved
    # the batch to running (a lifecycle event) or found it running.
    previous_status: BatchStatus | None = None
    # When the next round is scheduled while nobody is due, and why (retry_wait or
    # calling_window); set by `advance`, cleared when a round begins.
    next_round_at: datetime | None = None
    waiting_for: str | None = None
    # A re-run's source batch, and the re-runs made of this one (POST .../rerun).
    rerun_of: str | None = None
    reruns: list[str] = Field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def report_columns(self) -> list[str]:
        """The original columns, in file order."""
        return self.columns or ["phone_number", *self.variables]

    @property
    def settled(self) -> bool:
        """Ended, and nothing about any recipient can change any more."""
        return (
            self.status in FINAL_BATCH_STATUSES
            and self.counts["pending"] == 0
            and self.counts["in_progress"] == 0
        )


def initial_counts(accepted: int, skipped: int) -> dict[str, int]:
    counts = dict.fromkeys(COUNTERS, 0)
    counts["pending"] = accepted
    counts["skipped"] = skipped
    return counts


class Recipient(BaseModel):
    """One row of a contact file: a call to make, or a row skipped with its reason."""

    model_config = ConfigDict(extra="forbid")

    part: int
    row: int
    phone_number: str  # E.164 when callable, the cell as written when skipped
    region: str | None = None
    status: RecipientStatus
    variables: dict[str, str]
    skip_reason: str | None = None
    attempts: int = 0
    last_outcome: str | None = None
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    call_id: str | None = None
    caller_id: str | None = None  # kept for every attempt of this recipient
    # Why it is not called before `waiting_until` although due (calling_window,
    # contact_limit); None when it is not held back.
    waiting_for: str | None = None
    waiting_until: datetime | None = None
    # What the provider told of its calls (domain/results.py): the last connected
    # attempt's duration, the last attempt's other facts, its attempts' total cost.
    duration_seconds: float | None = None
    answered_by: str | None = None
    ended_reason: str | None = None
    recording_url: str | None = None
    transcript_url: str | None = None
    cost: float | None = None
    cost_currency: str | None = None
    data: dict[str, str] = Field(default_factory=dict)
