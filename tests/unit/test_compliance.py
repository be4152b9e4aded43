"""The compliance rules alone: contact limits, profiles, holidays, consent."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batch_calls.domain import compliance
from batch_calls.domain.batch import CallingWindow, Profile
from batch_calls.domain.compliance import ContactLimit

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
LIMITS = st.lists(
    st.builds(
        ContactLimit,
        max_calls=st.integers(1, 5),
        per_hours=st.sampled_from([0.5, 1.0, 24.0, 168.0]),
    ),
    min_size=1,
    max_size=3,
)
CALLS = st.lists(st.integers(0, 200 * 3600).map(lambda s: NOW - timedelta(seconds=s)), max_size=12)


def _within_every_limit(calls: list[datetime], limits: list[ContactLimit], at: datetime) -> bool:
    return all(
        sum(1 for call in calls if at - limit.window() < call <= at) <= limit.max_calls
        for limit in limits
    )


@given(CALLS, LIMITS)
def test_a_call_is_allowed_exactly_when_it_keeps_every_limit(
    calls: list[datetime], limits: list[ContactLimit]
) -> None:
    frees = compliance.frees_at(calls, limits, NOW)
    if frees is None:
        assert _within_every_limit([*calls, NOW], limits, NOW)
    else:
        assert frees > NOW
        assert not _within_every_limit([*calls, NOW], limits, NOW)
        # Allowed from then on (nothing called meanwhile), and not a second earlier.
        assert compliance.frees_at(calls, limits, frees) is None
        assert compliance.frees_at(calls, limits, frees - timedelta(seconds=1)) is not None


@given(CALLS, LIMITS)
def test_the_history_kept_counts_as_the_whole_history(
    calls: list[datetime], limits: list[ContactLimit]
) -> None:
    kept = compliance.kept_calls(calls, limits, NOW)
    later = NOW + timedelta(minutes=7)
    assert compliance.frees_at(kept, limits, later) == compliance.frees_at(calls, limits, later)
    assert len(kept) <= len(calls)


def test_limits_are_strict_numbers() -> None:
    with pytest.raises(ValueError, match="integer"):
        ContactLimit.model_validate({"max_calls": True, "per_hours": 24})
    with pytest.raises(ValueError, match="greater than 0"):
        ContactLimit.model_validate({"max_calls": 3, "per_hours": 0})


def test_federal_holidays_on_the_days_they_are_observed() -> None:
    holidays = compliance.federal_holidays(2026)
    assert date(2026, 11, 26) in holidays  # Thanksgiving: fourth Thursday
    assert date(2026, 7, 3) in holidays and date(2026, 7, 4) not in holidays  # a Saturday
    assert date(2026, 5, 25) in holidays  # Memorial Day: last Monday of May
    assert date(2026, 1, 19) in holidays  # Martin Luther King, Jr.: third Monday
    assert len(holidays) == 11
    assert date(2021, 12, 31) in compliance.federal_holidays(2022)  # Jan 1 2022, a Saturday


def test_a_numbers_state_comes_from_its_area_code() -> None:
    assert compliance.us_state("+13055550123") == "FL"
    assert compliance.us_state("+12125550123") == "NY"
    assert compliance.us_state("+14155550101") == "CA"
    assert compliance.us_state("+912234567890") is None


def test_us_tcpa_adds_florida_hours_and_its_limit_for_a_florida_number() -> None:
    florida = compliance.guardrails(
        Profile.US_TCPA, "+13055550123", observe_holidays=True, years=(2026,)
    )
    assert [rule.end for rule in florida.hours] == ["21:00", "20:00"]
    assert florida.limits == (ContactLimit(max_calls=3, per_hours=24),)
    assert florida.needs_consent and "2026-11-26" in florida.blackout_dates
    new_york = compliance.guardrails(
        Profile.US_TCPA, "+12125550123", observe_holidays=False, years=(2026,)
    )
    assert [rule.end for rule in new_york.hours] == ["21:00"]
    assert new_york.limits == () and new_york.blackout_dates == ()
    assert compliance.guardrails(
        Profile.NONE, "+13055550123", observe_holidays=True, years=(2026,)
    ) == (compliance.Guardrails((), (), None, needs_consent=False, blackout_dates=()))


def test_a_batch_window_may_narrow_the_profile_but_not_widen_it() -> None:
    narrow = CallingWindow(start="09:00", end="17:00", recipient_local_time=True)
    assert compliance.widening(Profile.US_TCPA, narrow) is None
    early = CallingWindow(start="07:30", end="17:00")
    assert "start 07:30 is before us_tcpa's 08:00" in str(
        compliance.widening(Profile.US_TCPA, early)
    )
    late = CallingWindow(start="09:00", end="22:00")
    assert "end 22:00 is after us_tcpa's 21:00" in str(compliance.widening(Profile.US_TCPA, late))
    overnight = CallingWindow(start="20:00", end="09:00")
    assert "overnight" in str(compliance.widening(Profile.US_TCPA, overnight))
    assert compliance.widening(Profile.NONE, early) is None


@pytest.mark.parametrize(
    ("cell", "consent"), [("yes", True), (" TRUE ", True), ("no", False), ("", False)]
)
def test_consent_is_a_yes_in_the_consent_column(cell: str, consent: bool) -> None:
    assert compliance.has_consent({"consent": cell}) is consent


@given(st.sampled_from(list(Profile)), st.sampled_from([None, *Profile]))
def test_a_batch_adds_a_profile_but_never_removes_its_workspaces(
    workspace: Profile, batch: Profile | None
) -> None:
    in_force = compliance.in_force(workspace, batch)
    refused = compliance.removal(workspace, batch) is not None
    assert refused == (workspace is not Profile.NONE and batch is Profile.NONE)
    assert in_force in {workspace, batch}
    if workspace is not Profile.NONE:
        assert in_force is workspace
    elif batch is not None:
        assert in_force is batch
