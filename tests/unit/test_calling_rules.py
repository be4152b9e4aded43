"""Caller-ID choice and the pacing wait (logic/calling_rules.py), without AWS."""

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from batch_calls.domain.batch import BatchSettings, Recipient, RecipientStatus
from batch_calls.logic.calling_rules import (
    PACE_LOOKAHEAD_SECONDS,
    UNPACED,
    caller_id,
    reserve_call_start,
)
from batch_calls.store.pacing import Pacing

POOL = ["+14155550100", "+14155550101", "+912234567890"]
SETTINGS = BatchSettings(name="b", agent_id="a", from_phone_numbers=tuple(POOL))


def recipient(row: int, number: str, caller: str | None = None) -> Recipient:
    return Recipient(
        part=1,
        row=row,
        phone_number=number,
        status=RecipientStatus.PENDING,
        variables={},
        caller_id=caller,
    )


def test_caller_ids_rotate_among_the_recipients_country_first() -> None:
    us = [caller_id(SETTINGS, recipient(row, "+14155552000")) for row in range(2, 8)]
    assert us == ["+14155550100", "+14155550101"] * 3  # consecutive rows alternate
    assert caller_id(SETTINGS, recipient(2, "+919876543210")) == "+912234567890"
    # No number of its country: the whole pool rotates.
    uk = {caller_id(SETTINGS, recipient(row, "+442071234567")) for row in range(2, 5)}
    assert uk == set(POOL)


def test_a_recipient_keeps_its_first_caller_id() -> None:
    assert caller_id(SETTINGS, recipient(2, "+14155552000", "+14155550101")) == "+14155550101"


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Counters:
    """reserve_start as DynamoDB's conditional counters do it: at most `limit` a second."""

    def __init__(self) -> None:
        self.taken: dict[int, int] = {}

    def reserve_start(self, _ws: str, _batch: str, second: int, limit: int | None, _: Any) -> bool:
        if limit is not None and self.taken.get(second, 0) >= limit:
            return False
        self.taken[second] = self.taken.get(second, 0) + 1
        return True


def test_pacing_waits_for_the_next_free_second_and_gives_up_beyond_the_look_ahead() -> None:
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, 0, 250_000, tzinfo=UTC))
    counters = Counters()
    pacing = cast(Pacing, counters)
    started = []
    for _ in range(PACE_LOOKAHEAD_SECONDS + 2):
        took = reserve_call_start(pacing, "ws", "b", (1, None), clock=clock, sleep=clock.sleep)
        assert took is None or took == int(clock.now.timestamp())
        started.append(took)
        clock.now = datetime(2026, 11, 23, 9, 0, 0, 250_000, tzinfo=UTC)
    first = int(datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC).timestamp())
    assert started == [first + ahead for ahead in range(PACE_LOOKAHEAD_SECONDS + 1)] + [None]


def test_no_cap_takes_no_counter() -> None:
    counters = Counters()
    clock = FakeClock(datetime(2026, 11, 23, tzinfo=UTC))
    taken = reserve_call_start(
        cast(Pacing, counters), "ws", "b", (None, None), clock=clock, sleep=clock.sleep
    )
    assert (taken, counters.taken) == (UNPACED, {})
