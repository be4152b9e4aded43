"""Calling windows: when a recipient may be called, and when that is next possible.

A window is open at an instant when, on the wall clock of its zone, the time is within
[start, end) on an allowed weekday that is not a blackout date. A window whose end is
not after its start runs overnight and belongs to the day it opened. Wall-clock reading
is unambiguous at every instant, so daylight-saving changes need no special case in
`is_open`; `next_opening` is conservative around them (in a skipped hour it may answer
up to that hour late, never early).

A recipient in several zones (a number whose area spans two) may be called only when
the window is open in all of them.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_zones

from batch_calls.domain.batch import CallingWindow

# A window that opens on no day in this long (blackout dates cover the allowed days, or
# several zones' windows never overlap) never opens.
HORIZON = timedelta(days=400)
UNKNOWN_ZONE = "Etc/Unknown"  # what phonenumbers answers for a number without a zone
TIMEZONE_COLUMN = "timezone"


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_zone(name: str) -> bool:
    """An IANA time zone name this machine knows (Asia/Kolkata, America/Los_Angeles)."""
    if not name or name == UNKNOWN_ZONE:
        return False
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _weekday(day: date) -> int:
    """0 = Sunday, as the API writes days."""
    return (day.weekday() + 1) % 7


def _opens_on(window: CallingWindow, day: date) -> bool:
    return _weekday(day) in window.days and day.isoformat() not in window.blackout_dates


def _overnight(window: CallingWindow) -> bool:
    return window.closes_at() <= window.opens_at()


def is_open(window: CallingWindow, zone_name: str, at: datetime) -> bool:
    local = at.astimezone(zone(zone_name))
    clock, today = local.time().replace(tzinfo=None), local.date()
    start, end = window.opens_at(), window.closes_at()
    if not _overnight(window):
        return start <= clock < end and _opens_on(window, today)
    if clock >= start:
        return _opens_on(window, today)
    return clock < end and _opens_on(window, today - timedelta(days=1))


def _local_instants(day: date, clock: time, zone_name: str) -> Iterable[datetime]:
    """The instants at which the wall clock of `zone_name` reads `clock` on `day` (two in
    a repeated hour, one otherwise; in a skipped hour, the readings either side)."""
    for fold in (0, 1):
        yield datetime.combine(day, clock, zone(zone_name)).replace(fold=fold).astimezone(UTC)


def _next_opening_in(window: CallingWindow, zone_name: str, after: datetime) -> datetime | None:
    if is_open(window, zone_name, after):
        return after
    first = after.astimezone(zone(zone_name)).date() - timedelta(days=1)
    for offset in range(HORIZON.days + 2):
        day = first + timedelta(days=offset)
        if not _opens_on(window, day):
            continue
        candidates = [
            moment
            for moment in _local_instants(day, window.opens_at(), zone_name)
            if moment >= after and is_open(window, zone_name, moment)
        ]
        if candidates:
            return min(candidates)
    return None


def next_opening(window: CallingWindow, zones: Sequence[str], after: datetime) -> datetime | None:
    """The first instant at or after `after` when the window is open in every zone; None
    if it never is (within HORIZON)."""
    moment = after.astimezone(UTC)
    limit = moment + HORIZON
    while moment <= limit:
        later = moment
        for name in zones:
            opening = _next_opening_in(window, name, later)
            if opening is None:
                return None
            later = opening
        if later == moment:
            return moment
        moment = later
    return None


def open_in_all(window: CallingWindow, zones: Sequence[str], at: datetime) -> bool:
    return all(is_open(window, name, at) for name in zones)


@lru_cache(maxsize=65_536)  # bounded: a warm Lambda sees many batches' numbers
def zones_of_number(e164: str) -> tuple[str, ...]:
    """The IANA zones phonenumbers knows for a number; () when it knows none. A number
    that is not geographic (toll-free, many mobiles) gets its country's zones from
    phonenumbers: kept for a country with one zone, unknown for a country with several
    (all of the US's zones are never open at once)."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return ()
    zones = tuple(name for name in phone_zones.time_zones_for_number(number) if is_zone(name))
    geographic = phonenumbers.is_number_type_geographical(
        phonenumbers.number_type(number), number.country_code or 0
    )
    return zones if geographic or len(zones) == 1 else ()


def recipient_zones(window: CallingWindow, e164: str, variables: dict[str, str]) -> tuple[str, ...]:
    """Where the window is checked for one recipient: the batch's zone, or with
    recipient_local_time its `timezone` column, else its number's zones, else (unknown)
    the batch's zone."""
    if not window.recipient_local_time:
        return (window.timezone,)
    column = str(variables.get(TIMEZONE_COLUMN) or "").strip()
    if column and is_zone(column):
        return (column,)
    return zones_of_number(e164) or (window.timezone,)
