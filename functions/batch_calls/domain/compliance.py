"""Compliance guardrails across batches: how often, when and whom a workspace may call.

Pure rules, no I/O:

- Contact limits: at most `max_calls` placed calls to one number per `per_hours`, over
  every batch of the workspace (`frees_at`, `kept_calls`).
- Compliance profiles: `us_tcpa` allows calls only 8:00-21:00 in the recipient's local
  time (47 CFR 64.1200(c)(1); 16 CFR 310.4(c)), with state rules where the number's state
  is known (Florida: 8:00-20:00 and at most 3 calls per 24 h to one number, Fla. Stat.
  501.059(8), as amended 2023), US federal holidays as blackout dates (5 U.S.C. 6103)
  unless a batch opts out, and prior express consent for calls with an artificial voice,
  which the FCC holds AI voices to be (FCC 24-17, 47 U.S.C. 227(b)(1)).
- A batch's own window may narrow a profile's hours, never widen them (`widening`).

What a number's state is comes from phonenumbers' geocoder (an area code's state); a
number whose zones are unknown is checked in every US zone at once, so a call is never
placed outside the hours of wherever the person may be.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import phonenumbers
from phonenumbers import geocoder
from pydantic import BaseModel, ConfigDict, Field

from batch_calls.domain.batch import CallingWindow, Profile

# Every US zone with people: a US number whose own zone is unknown is called only when
# the hours hold in all of them.
US_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
)
MAX_CONTACT_LIMITS = 5
MAX_LIMIT_HOURS = 24 * 366
# Consent column values that mean yes (case-insensitive); anything else is no consent.
CONSENT_COLUMN = "consent"
CONSENT_YES = frozenset({"yes", "y", "true", "1", "x", "opted_in", "opt_in", "written"})


class ContactLimit(BaseModel):
    """At most `max_calls` placed calls to one number in any `per_hours` hours."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    max_calls: int = Field(ge=1, le=1000)
    per_hours: float = Field(gt=0, le=MAX_LIMIT_HOURS)

    def window(self) -> timedelta:
        return timedelta(hours=self.per_hours)


@dataclass(frozen=True)
class Rule:
    """Hours a profile allows, where they apply, and the law they come from."""

    name: str
    start: str
    end: str
    source: str


FEDERAL_HOURS = Rule(
    "us_tcpa", "08:00", "21:00", "47 CFR 64.1200(c)(1) and 16 CFR 310.4(c): 8 am to 9 pm local"
)
FLORIDA_HOURS = Rule("us_tcpa:FL", "08:00", "20:00", "Fla. Stat. 501.059(8)(a): 8 am to 8 pm local")
FLORIDA_LIMIT = ContactLimit(max_calls=3, per_hours=24)
# State -> its stricter hours and per-number limits (documented rules only).
STATE_RULES: dict[str, tuple[Rule, tuple[ContactLimit, ...]]] = {
    "FL": (FLORIDA_HOURS, (FLORIDA_LIMIT,)),
}

_STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL",
    "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN",
    "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME",
    "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN",
    "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE",
    "Nevada": "NV", "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM",
    "New York": "NY", "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH",
    "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA", "Rhode Island": "RI",
    "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX",
    "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    "Washington D.C.": "DC",
}  # fmt: skip
_ABBREVIATIONS = frozenset(_STATES.values())


# -- contact limits --------------------------------------------------------------------


def frees_at(
    calls: Sequence[datetime], limits: Sequence[ContactLimit], now: datetime
) -> datetime | None:
    """When one more call to the number is allowed: None when it is now; else the first
    instant every limit has room (counts only fall as time passes, so the latest of the
    limits' own answers)."""
    latest: datetime | None = None
    for limit in limits:
        recent = sorted(call for call in calls if call > now - limit.window())
        if len(recent) >= limit.max_calls:
            # The oldest call that must leave the window for one more to fit.
            frees = recent[len(recent) - limit.max_calls] + limit.window()
            latest = frees if latest is None else max(latest, frees)
    return latest


def kept_calls(
    calls: Sequence[datetime], limits: Sequence[ContactLimit], now: datetime
) -> tuple[datetime, ...]:
    """The calls any limit still counts (the rest may be forgotten)."""
    if not limits:
        return ()
    longest = max(limit.window() for limit in limits)
    return tuple(sorted(call for call in calls if call > now - longest))


def counts_in_windows(
    calls: Sequence[datetime], limits: Sequence[ContactLimit], now: datetime
) -> dict[str, int]:
    """For the audit: the calls each limit counts now, by `<max>/<hours>h`."""
    return {
        f"{limit.max_calls}/{limit.per_hours:g}h": sum(
            1 for call in calls if call > now - limit.window()
        )
        for limit in limits
    }


# -- profiles --------------------------------------------------------------------------


@lru_cache(maxsize=65_536)
def us_state(e164: str) -> str | None:
    """The two-letter state of a US number's area code; None when it is not a US number
    or its state is unknown."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_number(number) != "US":
        return None
    place = geocoder.description_for_number(number, "en").strip()
    if place in _STATES:
        return _STATES[place]
    suffix = place.rsplit(", ", 1)[-1]
    return suffix if suffix in _ABBREVIATIONS else None


@dataclass(frozen=True)
class Guardrails:
    """What a profile requires of one recipient."""

    hours: tuple[Rule, ...]  # every one must be open
    limits: tuple[ContactLimit, ...]
    state: str | None
    needs_consent: bool
    blackout_dates: tuple[str, ...]


def guardrails(
    profile: Profile, e164: str, *, observe_holidays: bool, years: Sequence[int]
) -> Guardrails:
    if profile is Profile.NONE:
        return Guardrails((), (), None, needs_consent=False, blackout_dates=())
    state = us_state(e164)
    hours: list[Rule] = [FEDERAL_HOURS]
    limits: list[ContactLimit] = []
    if state in STATE_RULES:
        state_hours, state_limits = STATE_RULES[state]
        hours.append(state_hours)
        limits.extend(state_limits)
    holidays = (
        tuple(day.isoformat() for year in years for day in federal_holidays(year))
        if observe_holidays
        else ()
    )
    return Guardrails(tuple(hours), tuple(limits), state, True, holidays)


def hours_window(rule: Rule, blackout_dates: tuple[str, ...]) -> CallingWindow:
    """The rule's hours as a window in each recipient's local time."""
    return CallingWindow(
        timezone="America/New_York",
        start=rule.start,
        end=rule.end,
        recipient_local_time=True,
        blackout_dates=blackout_dates,
    )


def in_force(workspace: Profile, batch: Profile | None) -> Profile:
    """The profile a batch's calls follow: its workspace's, unless the batch adds one (a
    batch's `none` never removes its workspace's: `removal` refuses it)."""
    return workspace if workspace is not Profile.NONE else (batch or Profile.NONE)


def removal(workspace: Profile, batch: Profile | None) -> str | None:
    """Why a batch's profile would remove its workspace's (None: it does not)."""
    if batch is Profile.NONE and workspace is not Profile.NONE:
        return f"is none, which would remove this workspace's {workspace} profile"
    return None


def widening(profile: Profile, window: CallingWindow | None) -> str | None:
    """Why a batch's window would widen the profile's hours (None: it only narrows
    them). The profile's hours apply in each recipient's own time whatever the window
    says; a window that opens earlier or closes later than they do is refused, so that
    nobody reads a batch's settings as permission to call then."""
    if profile is Profile.NONE or window is None:
        return None
    rule = FEDERAL_HOURS
    if window.closes_at() <= window.opens_at():
        return f"the window runs overnight, outside {rule.name}'s {rule.start}-{rule.end}"
    if window.start < rule.start:
        return f"start {window.start} is before {rule.name}'s {rule.start} ({rule.source})"
    if window.end > rule.end:
        return f"end {window.end} is after {rule.name}'s {rule.end} ({rule.source})"
    return None


def has_consent(variables: dict[str, str]) -> bool:
    return str(variables.get(CONSENT_COLUMN, "")).strip().lower() in CONSENT_YES


# -- US federal holidays (5 U.S.C. 6103), on the days they are observed -----------------


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (Monday 0) of the month; n = -1: the last."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    following = date(year + month // 12, month % 12 + 1, 1)
    last = following - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """A holiday on a Saturday is observed on the Friday, on a Sunday on the Monday."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def federal_holidays(year: int) -> tuple[date, ...]:
    monday, thursday = 0, 3
    fixed = [date(year, 1, 1), date(year, 6, 19), date(year, 7, 4), date(year, 11, 11),
             date(year, 12, 25)]  # fmt: skip
    moving = [
        _nth_weekday(year, 1, monday, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, monday, 3),  # Washington's Birthday
        _nth_weekday(year, 5, monday, -1),  # Memorial Day
        _nth_weekday(year, 9, monday, 1),  # Labor Day
        _nth_weekday(year, 10, monday, 2),  # Columbus Day
        _nth_weekday(year, 11, thursday, 4),  # Thanksgiving Day
    ]
    return tuple(sorted({_observed(day) for day in fixed} | set(moving)))
