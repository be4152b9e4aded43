"""Batches and recipients: statuses, settings and the rules on them (no AWS here)."""

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

MAX_RETRIES = 10
MAX_RETRY_WAIT_MINUTES = 7 * 24 * 60
MAX_CALLS_PER_SECOND = 1000
MAX_CALLER_NUMBERS = 100
DEFAULT_PRIORITY, MAX_PRIORITY = 5, 10
MAX_BLACKOUT_DATES = 366
MAX_TAGS, MAX_TAG_LENGTH = 20, 64
MAX_PHONE_NUMBER_LENGTH = 32  # E.164 is 16 characters; room for a caller's spaces


def _printable(text: str) -> str:
    """No control characters (NUL, ESC, CR, LF, TAB, ...): they end up in reports,
    dashboards and log lines, where they break or forge lines."""
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise ValueError("must not contain control characters (such as NUL, ESC or line breaks)")
    return text


# Text a user names something with: printable, and bounded where it is declared.
Text = Annotated[str, AfterValidator(_printable)]


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


# Numbers and booleans are taken as they are typed (no `true` for 1, no "5" for 5): a
# form's text is converted by its adapter (logic/settings.py), knowing the setting's type.
Minutes = Annotated[StrictFloat, Field(ge=0, le=MAX_RETRY_WAIT_MINUTES)]


class RetryConfig(_Strict):
    """Seed 000's retry_config, with a wait per outcome (default: the shared interval)."""

    max_retries: StrictInt = Field(default=0, ge=0, le=MAX_RETRIES)
    retry_interval_minutes: Minutes = 60
    retry_on_no_answer: StrictBool = True
    retry_on_busy: StrictBool = True
    retry_on_voicemail: StrictBool = False
    retry_on_failed: StrictBool = False
    no_answer_wait_minutes: Minutes | None = None
    busy_wait_minutes: Minutes | None = None
    voicemail_wait_minutes: Minutes | None = None
    failed_wait_minutes: Minutes | None = None


def known_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{zone!r} is not an IANA time zone such as Asia/Kolkata") from None
    return zone


_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class CallingWindow(_Strict):
    """When calls may start: local clock times on allowed days (0 = Sunday)."""

    timezone: str = "UTC"
    start: str = "09:00"
    end: str = "18:00"
    days: tuple[StrictInt, ...] = (0, 1, 2, 3, 4, 5, 6)
    recipient_local_time: StrictBool = False
    # Local dates (YYYY-MM-DD) on which the window does not open (public holidays).
    blackout_dates: tuple[str, ...] = Field(default=(), max_length=MAX_BLACKOUT_DATES)

    @model_validator(mode="before")
    @classmethod
    def _says_something(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data:
            raise ValueError(
                'is empty: give at least its start and end, like {"start": "09:00", "end": "17:00"}'
            )
        return data

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        return known_zone(zone)

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


class Profile(StrEnum):
    """A compliance profile: the rules a workspace's or a batch's calls follow, besides its
    own (domain/compliance.py says what each requires, and where the rule comes from)."""

    NONE = "none"
    US_TCPA = "us_tcpa"


@dataclass(frozen=True)
class Names:
    """How a setting of BatchSettings is named in the request shapes besides ours, and
    when it may change. Ours (the multipart form, our JSON, PATCH) is its own name; the S3
    drop's metadata is that name with dashes (retry-config)."""

    # Seed 003 (Dialgen JSON): a dotted path such as "options.priority".
    dialgen: str | None = None
    # Seed 004 (Nexus JSON): a top-level field.
    nexus: str | None = None
    # PATCH may change it while the batch is paused, scheduled or draft...
    changeable: bool = False
    # ... and while it runs too (it takes effect within seconds, or touches no call).
    while_running: bool = False


PhoneNumber = Annotated[str, Field(min_length=1, max_length=MAX_PHONE_NUMBER_LENGTH)]


class BatchSettings(_Strict):
    """What a user chose for a batch: THE description of a batch's settings. Every request
    shape (multipart, JSON, seeds 003 and 004, S3 metadata, PATCH) is read through it,
    and the API's document, README's defaults table and the validation messages come
    from it (logic/settings.py). Adding a setting means adding a field here."""

    name: Annotated[
        Text,
        Field(
            min_length=1,
            max_length=200,
            description="a label for reports and lists (default: Batch <UTC date and time>)",
        ),
        Names(nexus="batchName", changeable=True, while_running=True),
    ]
    agent_id: Annotated[
        Text,
        Field(
            min_length=1,
            max_length=100,
            description="the agent whose published version every call runs (required, unless "
            "the workspace has one agent)",
        ),
        Names(dialgen="agentId", nexus="agentId"),
    ]
    from_phone_number: Annotated[
        PhoneNumber,
        Field(
            description="the caller number, E.164, one of the workspace's (default: its only "
            "number); national numbers in the contacts are read in its country"
        ),
        Names(dialgen="fromPhoneNumber"),
    ]
    # Caller IDs rotated across calls (seed 004's callingNumbers); from_phone_number is
    # the first of them and the region national numbers in the file are read in.
    from_phone_numbers: Annotated[
        tuple[PhoneNumber, ...],
        Field(
            default=(),
            validate_default=True,
            description="caller numbers rotated across calls, from_phone_number first (in a "
            "form: a JSON list or comma-separated)",
        ),
        Names(dialgen="fromPhoneNumbers", nexus="callingNumbers", changeable=True),
    ]
    timezone: Annotated[
        str | None,
        Field(
            default=None,
            max_length=64,
            description="IANA time zone of the batch: a scheduled_at without an offset is read "
            "in it, and it is the calling window's zone when the window names none",
        ),
        Names(dialgen="options.timezone", nexus="timezone", changeable=True),
    ]
    scheduled_at: Annotated[
        datetime | None,
        Field(
            default=None,
            description="when to start, ISO 8601 with a UTC offset (or without one, read in "
            "`timezone`); at most a year ahead. Default: now",
        ),
        Names(dialgen="options.scheduledStartTime", changeable=True),
    ]
    max_concurrent_calls: Annotated[
        StrictInt,
        Field(
            default=1,
            ge=1,
            description="calls at once, at most the workspace's limit",
        ),
        Names(dialgen="options.maxConcurrentCalls", changeable=True, while_running=True),
    ]
    # Call starts per second (seed 003's maxCallsPerSecond); None: no pace of its own.
    max_calls_per_second: Annotated[
        StrictInt | None,
        Field(
            default=None,
            ge=1,
            le=MAX_CALLS_PER_SECOND,
            description="call starts per second; default: no pace of the batch's own",
        ),
        Names(dialgen="options.maxCallsPerSecond", changeable=True),
    ]
    # Who gets a freed unit of the workspace's concurrency first (seed 003's priority,
    # 1-10): the higher, then the older batch.
    priority: Annotated[
        StrictInt,
        Field(
            default=DEFAULT_PRIORITY,
            ge=1,
            le=MAX_PRIORITY,
            description=f"1-{MAX_PRIORITY}: the batch of higher priority gets a freed unit of "
            "the workspace's concurrency first",
        ),
        Names(dialgen="options.priority", changeable=True),
    ]
    retry_config: Annotated[
        RetryConfig,
        Field(
            default=RetryConfig(),
            description="redials (JSON): max_retries (default 0, at most "
            f"{MAX_RETRIES}), retry_interval_minutes (60), retry_on_no_answer (true), "
            "retry_on_busy (true), retry_on_voicemail (false), retry_on_failed (false), "
            "<outcome>_wait_minutes",
        ),
        Names(dialgen="options.retryStrategy", nexus="retry", changeable=True),
    ]
    calling_window: Annotated[
        CallingWindow | None,
        Field(
            default=None,
            description="when calls may start (JSON): timezone, start and end (HH:MM), days "
            "(0 = Sunday), recipient_local_time, blackout_dates. Default: the workspace's, "
            "else any time",
        ),
        Names(nexus="callingHour", changeable=True),
    ]
    compliance_profile: Annotated[
        Profile | None,
        Field(
            default=None,
            description="the compliance rules calls follow: none, or us_tcpa (recipient-local "
            "8:00-21:00, state rules, federal holidays, consent). Default: the workspace's; "
            "a batch can add a profile, never remove its workspace's",
        ),
        Names(changeable=True),
    ]
    observe_federal_holidays: Annotated[
        StrictBool,
        Field(
            default=True,
            description="under a compliance profile, US federal holidays are blackout dates; "
            "false opts this batch out (its hours and limits still hold)",
        ),
        Names(changeable=True),
    ]
    on_invalid_rows: Annotated[
        Literal["reject", "skip"],
        Field(
            default="reject",
            description="reject: one invalid row refuses the file; skip: invalid rows are "
            "kept as skipped",
        ),
        Names(dialgen="options.onInvalidRows"),
    ]
    dedupe: Annotated[
        StrictBool,
        Field(default=True, description="a number listed twice is called once"),
        Names(dialgen="options.dedupe"),
    ]
    webhooks: Annotated[
        Webhooks | None,
        Field(
            default=None,
            description="signed POSTs (JSON): on_call_complete, on_batch_complete (https URLs)",
        ),
        Names(dialgen="options.webhooks"),
    ]
    tags: Annotated[
        tuple[Annotated[Text, Field(min_length=1, max_length=MAX_TAG_LENGTH)], ...],
        Field(
            default=(),
            max_length=MAX_TAGS,
            description=f"labels (at most {MAX_TAGS}) to find the batch by: GET /batch-calls?tag=",
        ),
        Names(dialgen="options.tags", nexus="tags", changeable=True, while_running=True),
    ]
    # What a call answered by a machine does: hang up (retried per retry_on_voicemail),
    # or leave the agent's message once and call that recipient no more.
    voicemail_policy: Annotated[
        Literal["hang_up", "leave_message"],
        Field(
            default="hang_up",
            description="a call a machine answers: hang_up (retried per "
            "retry_on_voicemail), or leave_message (the agent's message, once; no more calls)",
        ),
        Names(dialgen="options.voicemailPolicy", changeable=True),
    ]

    @model_validator(mode="before")
    @classmethod
    def _first_caller_number(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("from_phone_number"):
            numbers = data.get("from_phone_numbers")
            if isinstance(numbers, list | tuple) and numbers:
                return {**data, "from_phone_number": numbers[0]}
        return data

    @model_validator(mode="before")
    @classmethod
    def _window_in_batch_zone(cls, data: Any) -> Any:
        """A calling window that names no zone is in the batch's."""
        if not isinstance(data, dict) or not isinstance(data.get("timezone"), str):
            return data
        window = data.get("calling_window")
        if isinstance(window, dict) and window and "timezone" not in window:
            return {**data, "calling_window": {**window, "timezone": data["timezone"]}}
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

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        return None if zone is None else known_zone(zone)

    @field_validator("scheduled_at")
    @classmethod
    def _in_utc(cls, moment: datetime | None, info: ValidationInfo) -> datetime | None:
        """Stored and shown in UTC; a time that has no UTC date (year 9999 at -05:00)
        is refused here rather than failing every later read of the batch."""
        if moment is None:
            return None
        if moment.tzinfo is None:
            zone = info.data.get("timezone")
            if zone is None:
                raise ValueError(
                    "needs a UTC offset, for example 2026-12-01T09:30:00+05:30 (or give timezone)"
                )
            moment = moment.replace(tzinfo=ZoneInfo(zone))
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
