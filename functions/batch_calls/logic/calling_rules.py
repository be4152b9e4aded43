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
from datetime import datetime
from functools import lru_cache

from batch_calls.domain.batch import BatchSettings, CallingWindow, Recipient
from batch_calls.domain.windows import (
    TIMEZONE_COLUMN,
    is_zone,
    next_opening,
    open_in_all,
    recipient_zones,
    zones_of_number,
)
from batch_calls.ingest.phones import region_of
from batch_calls.ingest.reasons import RowReason, WarningReason
from batch_calls.ingest.validate import SkippedRow, ValidationResult
from batch_calls.store.attempts import Attempts, DueRecipient

SUPPRESSED = "suppressed"
# A recipient whose window never opens in all its zones (they never overlap).
NO_CALLING_WINDOW = "no_calling_window"
# Why a batch with pending recipients is not calling now (GET /batch-calls/{id}).
SCHEDULED_START = "scheduled_start"
RETRY_WAIT = "retry_wait"
CALLING_WINDOW = "calling_window"
# A Dial waits at most this many clock seconds ahead for a free call start (its slot
# has nothing better to do); beyond, it claims nobody and the workflow tries again.
PACE_LOOKAHEAD_SECONDS = 5
UNPACED = -1  # no pace applies: a call may start at any moment


# -- windows ---------------------------------------------------------------------------


def window_check(
    window: CallingWindow | None, e164: str, variables: dict[str, str], now: datetime
) -> tuple[bool, datetime | None]:
    """(open now, else its next opening: None if it never opens)."""
    if window is None:
        return True, None
    zones = recipient_zones(window, e164, variables)
    if open_in_all(window, zones, now):
        return True, None
    return False, next_opening(window, zones, now)


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
    attempts: Attempts,
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
            if attempts.reserve_start(workspace_id, batch_id, target, *limits):
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
    result: ValidationResult, window: CallingWindow | None, suppressed: set[str]
) -> None:
    """After validation: suppressed numbers are skipped (a warning); with
    recipient_local_time a `timezone` cell must be an IANA zone (a row error), and a
    number with no known zone is flagged (it is called in the batch's zone)."""
    local_time = window is not None and window.recipient_local_time
    if not suppressed and not local_time:
        return
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


def waiting_reason(due_at: datetime, retry_at: datetime | None) -> str:
    """Why a recipient due at `due_at` waits: its retry wait, or its window's opening."""
    return RETRY_WAIT if retry_at is not None and due_at <= retry_at else CALLING_WINDOW


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
    return attempts.defer(workspace_id, batch_id, recipient, opening)
