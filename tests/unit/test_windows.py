"""Calling-window maths (domain/windows.py): local days and hours, overnight windows,
blackout dates, daylight-saving changes, several zones."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_calls.domain.batch import CallingWindow
from batch_calls.domain.windows import (
    is_open,
    next_opening,
    open_in_all,
    recipient_zones,
    zones_of_number,
)

NEW_YORK = "America/New_York"
WEEKDAYS = CallingWindow(timezone=NEW_YORK, start="09:00", end="17:00", days=(1, 2, 3, 4, 5))


def local(text: str, zone: str = NEW_YORK) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def test_open_inside_the_hours_of_an_allowed_day_only() -> None:
    assert is_open(WEEKDAYS, NEW_YORK, local("2026-11-23T09:00"))  # a Monday
    assert is_open(WEEKDAYS, NEW_YORK, local("2026-11-23T16:59:59"))
    assert not is_open(WEEKDAYS, NEW_YORK, local("2026-11-23T17:00"))  # end is exclusive
    assert not is_open(WEEKDAYS, NEW_YORK, local("2026-11-23T08:59:59"))
    assert not is_open(WEEKDAYS, NEW_YORK, local("2026-11-22T12:00"))  # a Sunday


def test_the_next_opening_skips_the_weekend() -> None:
    friday_evening = local("2026-11-27T17:30")
    assert next_opening(WEEKDAYS, [NEW_YORK], friday_evening) == local("2026-11-30T09:00")
    assert next_opening(WEEKDAYS, [NEW_YORK], local("2026-11-23T10:00")) == local(
        "2026-11-23T10:00"
    )


def test_blackout_dates_are_skipped() -> None:
    window = WEEKDAYS.model_copy(update={"blackout_dates": ("2026-11-26",)})  # Thanksgiving
    assert not is_open(window, NEW_YORK, local("2026-11-26T10:00"))
    assert next_opening(window, [NEW_YORK], local("2026-11-25T18:00")) == local("2026-11-27T09:00")


def test_an_overnight_window_belongs_to_the_day_it_opens() -> None:
    window = CallingWindow(timezone=NEW_YORK, start="22:00", end="02:00", days=(5,))  # Friday
    assert is_open(window, NEW_YORK, local("2026-11-27T23:00"))
    assert is_open(window, NEW_YORK, local("2026-11-28T01:59"))  # Saturday, Friday's night
    assert not is_open(window, NEW_YORK, local("2026-11-29T01:00"))  # Saturday's night
    assert next_opening(window, [NEW_YORK], local("2026-11-28T03:00")) == local("2026-12-04T22:00")


def test_daylight_saving_keeps_local_hours() -> None:
    window = CallingWindow(timezone=NEW_YORK, start="09:00", end="17:00")
    # Clocks go forward on 2026-03-08: 09:00 is 13:00 UTC that day, 14:00 UTC before.
    assert next_opening(window, [NEW_YORK], local("2026-03-07T18:00")) == datetime(
        2026, 3, 8, 13, 0, tzinfo=UTC
    )
    assert next_opening(window, [NEW_YORK], local("2026-03-06T18:00")) == datetime(
        2026, 3, 7, 14, 0, tzinfo=UTC
    )


def test_a_window_starting_in_the_skipped_hour_opens_no_earlier_than_it() -> None:
    window = CallingWindow(timezone=NEW_YORK, start="02:30", end="05:00")
    opening = next_opening(window, [NEW_YORK], local("2026-03-08T00:00"))
    assert opening is not None and is_open(window, NEW_YORK, opening)
    assert opening.astimezone(ZoneInfo(NEW_YORK)).hour == 3  # 02:30 does not exist that day


def test_several_zones_open_only_where_all_are_open() -> None:
    window = CallingWindow(start="09:00", end="17:00")
    zones = ["America/Boise", "America/Los_Angeles"]  # Mountain and Pacific
    boise_nine = local("2026-11-23T09:00", "America/Boise")  # 08:00 in Los Angeles
    assert not open_in_all(window, zones, boise_nine)
    assert next_opening(window, zones, boise_nine) == local(
        "2026-11-23T09:00", "America/Los_Angeles"
    )
    # Windows that never overlap never open.
    assert next_opening(window, ["Asia/Kolkata", "America/Los_Angeles"], boise_nine) is None


def test_a_recipient_zone_comes_from_its_column_else_its_number_else_the_batch() -> None:
    local_time = CallingWindow(timezone="UTC", recipient_local_time=True)
    assert recipient_zones(local_time, "+14155550100", {"timezone": "Asia/Kolkata"}) == (
        "Asia/Kolkata",
    )
    assert recipient_zones(local_time, "+14155550100", {}) == ("America/Los_Angeles",)
    assert set(recipient_zones(local_time, "+12085550100", {})) == {
        "America/Boise",
        "America/Los_Angeles",
    }
    assert recipient_zones(local_time, "+80012345678", {}) == ("UTC",)  # no zone known
    assert recipient_zones(local_time, "+18005550100", {}) == ("UTC",)  # toll-free: all US
    assert recipient_zones(CallingWindow(timezone="UTC"), "+14155550100", {}) == ("UTC",)
    assert zones_of_number("+918041234567") in {("Asia/Calcutta",), ("Asia/Kolkata",)}


@pytest.mark.parametrize("value", ["2026-02-30", "26-12-25", "Christmas"])
def test_a_blackout_date_must_be_a_date(value: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        CallingWindow(blackout_dates=(value,))


ZONES = ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/London", "UTC"]
clocks = st.sampled_from([f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)])


@st.composite
def windows(draw: st.DrawFn) -> CallingWindow:
    start, end = draw(clocks), draw(clocks)
    if start == end:
        end = "23:59" if start != "23:59" else "00:00"
    days = draw(st.sets(st.integers(0, 6), min_size=1))
    return CallingWindow(
        timezone=draw(st.sampled_from(ZONES)), start=start, end=end, days=tuple(days)
    )


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(windows(), moments)
def test_the_next_opening_is_open_and_nothing_before_it_is(
    window: CallingWindow, after: datetime
) -> None:
    opening = next_opening(window, [window.timezone], after)
    assert opening is not None and opening >= after
    assert is_open(window, window.timezone, opening)
    # Sample the time before it at every quarter hour: closed throughout (a conservative
    # answer in a skipped hour may be up to that hour late).
    probe = after
    while probe < opening - timedelta(hours=1):
        assert not is_open(window, window.timezone, probe)
        probe += timedelta(minutes=15)


@settings(max_examples=150, deadline=None)
@given(windows(), st.lists(st.sampled_from(ZONES), min_size=2, max_size=3, unique=True), moments)
def test_with_several_zones_the_opening_is_open_in_all_and_none_comes_before(
    window: CallingWindow, zones: list[str], after: datetime
) -> None:
    opening = next_opening(window, zones, after)
    probe = after
    end = (opening or after + timedelta(days=8)) - timedelta(hours=1)
    while probe < end:
        assert not open_in_all(window, zones, probe)
        probe += timedelta(minutes=15)
    if opening is not None:
        assert opening >= after and open_in_all(window, zones, opening)
