"""Who may be called, when, from which number and how fast (issue 8).

- Calling windows: a batch's window (or its workspace's default) is checked in the
  batch's zone, or with `recipient_local_time` in each recipient's own zones
  (domain/windows.py). A recipient whose window is closed is not called: its due time
  in the due index moves to the window's next opening, so no round reads it again before
  then and the next round is simply scheduled for the earliest due time.
- Suppression: the workspace's list of numbers never to call; checked at upload, at the
  moment of dialling, and swept through the active batches when numbers are added.
- Caller IDs: rotated across the batch's numbers, preferring one of the recipient's own
  country; a recipient keeps the one of its first attempt.
- Pacing: call starts per clock second, per batch and per workspace.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from batch_calls.domain import compliance
from batch_calls.domain.batch import BatchSettings, CallingWindow, Profile, Recipient
from batch_calls.domain.compliance import CONSENT_COLUMN, ContactLimit, Guardrails
from batch_calls.domain.records import ContactUpdate, DueRecipient
from batch_calls.domain.windows import (
    HORIZON,
    TIMEZONE_COLUMN,
    is_zone,
    next_opening,
    open_in_all,
    recipient_zones,
    zone,
    zones_of_number,
)
from batch_calls.domain.workspace import Workspace
from batch_calls.ingest.phones import region_of
from batch_calls.ingest.reasons import RowReason, WarningReason
from batch_calls.ingest.validate import SkippedRow, ValidationResult
from batch_calls.logic.ports import Attempts, Pacing

SUPPRESSED = "suppressed"
# A recipient whose window never opens in all its zones (they never overlap).
NO_CALLING_WINDOW = "no_calling_window"
# A recipient without the consent its workspace's compliance profile requires.
NO_CONSENT = "no_consent"
# Why a batch with pending recipients is not calling now (GET /batch-calls/{id}), and
# why a recipient is held back past its retry wait.
SCHEDULED_START = "scheduled_start"
RETRY_WAIT = "retry_wait"
CALLING_WINDOW = "calling_window"
CONTACT_LIMIT = "contact_limit"
DIAL_ERROR = "dial_error"
# A Dial waits at most this many clock seconds ahead for a free call start (its slot
# has nothing better to do); beyond, it claims nobody and the workflow tries again.
PACE_LOOKAHEAD_SECONDS = 5
UNPACED = -1  # no pace applies: a call may start at any moment


# -- windows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Hours:
    """A window a call must be inside, the zones it is checked in, and its name (the
    batch's own, or a compliance rule's)."""

    name: str
    window: CallingWindow
    zones: tuple[str, ...]


def hours(
    window: CallingWindow | None,
    profile: Guardrails,
    e164: str,
    variables: dict[str, str],
) -> list[Hours]:
    """Every window a call to this recipient must be inside: the batch's, and each hours
    rule of its compliance profile in the recipient's own time (every US zone when its
    zone is unknown)."""
    checked = []
    if window is not None:
        checked.append(Hours("calling_window", window, recipient_zones(window, e164, variables)))
    for rule in profile.hours:
        rule_window = compliance.hours_window(rule, profile.blackout_dates)
        column = str(variables.get(TIMEZONE_COLUMN) or "").strip()
        zones = (column,) if is_zone(column) else zones_of_number(e164) or compliance.US_ZONES
        checked.append(Hours(rule.name, rule_window, zones))
    return checked


def window_check(checked: list[Hours], now: datetime) -> tuple[bool, datetime | None]:
    """(open now in every window, else the first moment they all are: None if never)."""
    if all(open_in_all(h.window, h.zones, now) for h in checked):
        return True, None
    moment: datetime | None = now
    limit = now + HORIZON
    while moment is not None and moment <= limit:
        later = moment
        for h in checked:
            opening = next_opening(h.window, h.zones, later)
            if opening is None:
                return False, None
            later = opening
        if later == moment:
            return False, moment
        moment = later
    return False, None


def guardrails(
    profile: Profile, e164: str, now: datetime, observe_holidays: bool = True
) -> Guardrails:
    """What the profile requires of a call to `e164` around `now` (holidays of this
    year and the next, unless the batch opted out of them)."""
    return compliance.guardrails(
        profile, e164, observe_holidays=observe_holidays, years=(now.year, now.year + 1)
    )


def contact_limits(workspace: Workspace | None, guardrails: Guardrails) -> tuple[ContactLimit, ...]:
    """The workspace's own limits and its profile's for this number (a state's)."""
    own = () if workspace is None else workspace.contact_limits
    return (*own, *guardrails.limits)


def audit(
    profile: Profile,
    guardrails: Guardrails,
    checked: list[Hours],
    *,
    limits: tuple[ContactLimit, ...],
    contact: ContactUpdate | None,
    now: datetime,
) -> dict[str, Any]:
    """The rules a call was checked against and the facts used, kept with its attempt
    (GET /batch-calls/{id}/audit): text only, as DynamoDB keeps it. The counts are the
    calls each contact limit counted before this one."""
    calls = () if contact is None else contact.read.calls
    counted = compliance.counts_in_windows(calls, limits, now)
    return {
        "checked_at": now.isoformat(),
        "profile": str(profile),
        "state": guardrails.state or "",
        "windows": [f"{h.name} {h.window.start}-{h.window.end}" for h in checked],
        "local_times": local_times(checked, now),
        "limit_counts": {name: str(count) for name, count in counted.items()},
        "consent": "required" if guardrails.needs_consent else "not required",
        "holidays": _holidays(profile, guardrails),
    }


def _holidays(profile: Profile, guardrails: Guardrails) -> str:
    if profile is Profile.NONE:
        return ""
    return "observed" if guardrails.blackout_dates else "not observed (the batch opted out)"


def local_times(checked: list[Hours], now: datetime) -> list[str]:
    """For the audit: the wall-clock time in each zone a window was checked in."""
    zones = dict.fromkeys(zone_name for h in checked for zone_name in h.zones)
    return [f"{name} {now.astimezone(zone(name)):%Y-%m-%d %H:%M}" for name in zones]


def recipient_zone(window: CallingWindow | None, e164: str, variables: dict[str, str]) -> str:
    """The one zone a recipient's wall-clock times are read in (a callback request
    without an offset): its `timezone` column, else its number's zone when it has one,
    else the batch's zone, else UTC."""
    column = str(variables.get(TIMEZONE_COLUMN) or "").strip()
    if column and is_zone(column):
        return column
    zones = zones_of_number(e164)
    if len(zones) == 1:
        return zones[0]
    return window.timezone if window is not None else "UTC"


def batch_opening(window: CallingWindow | None, after: datetime) -> datetime | None:
    """A batch-wide window's next opening at or after `after` (`after` itself when it
    is open or there is no window); None if it never opens. A window in each
    recipient's local time has no batch-wide opening: `after`."""
    if window is None or window.recipient_local_time:
        return after
    return next_opening(window, (window.timezone,), after)


def due_after_retry_wait(
    window: CallingWindow | None, e164: str, variables: dict[str, str], retry_at: datetime
) -> datetime:
    """When a retry that may start at `retry_at` is due: then, or at the window's next
    opening when it is closed then (a window that never opens: then, and the round
    that picks it up skips it)."""
    if window is None:
        return retry_at
    return next_opening(window, recipient_zones(window, e164, variables), retry_at) or retry_at


# -- caller IDs ------------------------------------------------------------------------


@lru_cache(maxsize=1024)  # the batches' caller numbers
def _region(e164: str) -> str | None:
    return region_of(e164)


def caller_id(settings: BatchSettings, recipient: Recipient) -> str:
    """The recipient's caller ID: the one it was first called from, else the next of the
    batch's numbers in rotation (by row), among those of its own country if any."""
    if recipient.caller_id:
        return recipient.caller_id
    pool = settings.from_phone_numbers or (settings.from_phone_number,)
    region = recipient.region or _region(recipient.phone_number)
    local = [number for number in pool if _region(number) == region]
    choices = local or list(pool)
    return choices[recipient.row % len(choices)]


# -- pacing ----------------------------------------------------------------------------


def reserve_call_start(
    pacing: Pacing,
    workspace_id: str,
    batch_id: str,
    limits: tuple[int | None, int | None],
    *,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None] = time.sleep,
) -> int | None:
    """Take a call start in this clock second or one of the next few and wait for it:
    the second (epoch) taken, UNPACED when no cap applies, None when none is free."""
    batch_limit, workspace_limit = limits
    if batch_limit is None and workspace_limit is None:
        return UNPACED
    for _ in range(2):
        second = int(clock().timestamp())
        for ahead in range(PACE_LOOKAHEAD_SECONDS + 1):
            target = second + ahead
            if pacing.reserve_start(workspace_id, batch_id, target, *limits):
                sleep(max(0.0, target - clock().timestamp()))
                if within(target, clock):
                    return target
                break  # overslept into a later second: that start is lost, take another
        else:
            return None
    return None


def within(second: int, clock: Callable[[], datetime], margin: float = 0.0) -> bool:
    """Whether a call may start now under the start taken for `second`, and still
    would `margin` seconds from now (the time the request takes to reach the provider)."""
    if second == UNPACED:
        return True
    now = clock().timestamp()
    return int(now) == second and int(now + margin) == second


# -- uploads ---------------------------------------------------------------------------


def apply_upload_rules(
    result: ValidationResult,
    window: CallingWindow | None,
    suppressed: set[str],
    *,
    needs_consent: bool = False,
) -> None:
    """After validation: suppressed numbers are skipped (a warning), and so are rows
    without consent when the compliance profile requires it; with recipient_local_time
    a `timezone` cell must be an IANA zone (a row error), and a number with no known
    zone is flagged (it is called in the batch's zone)."""
    local_time = window is not None and window.recipient_local_time
    if not suppressed and not local_time and not needs_consent:
        return
    consent_index = (
        result.variables.index(CONSENT_COLUMN) if CONSENT_COLUMN in result.variables else None
    )
    zone_index = (
        result.variables.index(TIMEZONE_COLUMN)
        if local_time and TIMEZONE_COLUMN in result.variables
        else None
    )
    kept = []
    for row in result.accepted:
        e164 = row.phone.e164
        zone_cell = "" if zone_index is None else row.values[zone_index].strip()
        if e164 in suppressed:
            result.flag(WarningReason.SUPPRESSED, row.row, e164)
            result.skipped.append(SkippedRow(row.row, SUPPRESSED, row.values, e164))
            continue
        consent = "" if consent_index is None else row.values[consent_index]
        if needs_consent and not compliance.has_consent({CONSENT_COLUMN: consent}):
            result.flag(WarningReason.NO_CONSENT, row.row, e164)
            result.skipped.append(SkippedRow(row.row, NO_CONSENT, row.values, e164))
            continue
        if zone_cell and not is_zone(zone_cell):
            result.flag(RowReason.INVALID_TIMEZONE, row.row, zone_cell)
            result.skipped.append(
                SkippedRow(row.row, str(RowReason.INVALID_TIMEZONE), row.values, e164)
            )
            continue
        if local_time and not zone_cell and not zones_of_number(e164):
            result.flag(WarningReason.UNKNOWN_TIME_ZONE, row.row, e164)
        kept.append(row)
    result.accepted[:] = kept


def waiting_reason(due_at: datetime, retry_at: datetime | None, waiting_for: str | None) -> str:
    """Why a recipient due at `due_at` waits: its retry wait, or what deferred it past
    that (its window's opening when nothing says otherwise)."""
    if retry_at is not None and due_at <= retry_at:
        return RETRY_WAIT
    return waiting_for or CALLING_WINDOW


def defer_or_skip(
    attempts: Attempts,
    workspace_id: str,
    batch_id: str,
    recipient: DueRecipient,
    opening: datetime | None,
) -> bool:
    """A recipient outside its window: due again at the opening, or skipped if none."""
    if opening is None:
        return attempts.skip(workspace_id, batch_id, recipient, NO_CALLING_WINDOW)
    return attempts.defer(workspace_id, batch_id, recipient, opening, CALLING_WINDOW)
