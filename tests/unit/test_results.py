"""Call facts and analytics (domain/results.py) and the decisions they change
(domain/calls.py): post-call data bounds, callback times, the voicemail policy, and
analytics counters that give the exact figures at 100,000 outcomes."""

import math
import random
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from batch_calls.domain import results
from batch_calls.domain.batch import Outcome, RecipientStatus, RetryConfig
from batch_calls.domain.calls import decide
from batch_calls.domain.results import AnsweredBy, CallFacts

ENDED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_post_call_data_keeps_scalars_as_text_and_objects_as_json() -> None:
    data = results.post_call_data(
        {"interest": "high", "score": 0.5, "ok": True, "n": 3, "slots": [1, {"a": "é"}],
         "none": None, "bad name!": "x", "x" * 65: "long"}
    )  # fmt: skip
    assert data == {
        "interest": "high", "score": "0.5", "ok": "true", "n": "3", "slots": '[1,{"a":"é"}]'
    }  # fmt: skip


def test_post_call_data_is_bounded() -> None:
    many = results.post_call_data({f"f{i}": "v" for i in range(200)})
    assert len(many) == results.MAX_DATA_FIELDS
    big = results.post_call_data({f"f{i}": "v" * 1000 for i in range(20)})
    assert 0 < len(big) < 20
    assert sum(len(k) + len(v) for k, v in big.items()) <= results.MAX_DATA_BYTES
    with pytest.raises(ValueError, match="JSON object"):
        results.post_call_data(["not", "an", "object"])


def test_a_callback_time_without_offset_is_the_recipients_wall_clock() -> None:
    assert results.callback_time("2026-11-23T15:00:00", "Asia/Kolkata") == datetime(
        2026, 11, 23, 9, 30, tzinfo=UTC
    )
    assert results.callback_time("2026-11-23T15:00:00Z", "Asia/Kolkata") == datetime(
        2026, 11, 23, 15, 0, tzinfo=UTC
    )
    assert results.callback_time(None, "UTC") is None
    with pytest.raises(ValueError, match="ISO 8601"):
        results.callback_time("tomorrow at five", "UTC")


def test_a_callback_is_due_at_its_time_while_attempts_remain() -> None:
    retry = RetryConfig(max_retries=1)
    asked = ENDED + timedelta(hours=3)
    decision = decide(Outcome.COMPLETED, 1, retry, ENDED, callback_at=asked)
    assert (decision.status, decision.next_attempt_at) == (RecipientStatus.WAITING_RETRY, asked)
    # Never earlier than the call's end, whatever was asked.
    past = decide(Outcome.COMPLETED, 1, retry, ENDED, callback_at=ENDED - timedelta(hours=1))
    assert past.next_attempt_at == ENDED
    spent = decide(Outcome.COMPLETED, 2, retry, ENDED, callback_at=asked)
    assert (spent.status, spent.next_attempt_at) == (RecipientStatus.COMPLETED, None)


def test_leave_message_makes_a_voicemail_final() -> None:
    retry = RetryConfig(max_retries=3, retry_on_voicemail=True)
    assert decide(Outcome.VOICEMAIL, 1, retry, ENDED).status is RecipientStatus.WAITING_RETRY
    left = decide(Outcome.VOICEMAIL, 1, retry, ENDED, leave_message=True)
    assert (left.status, left.next_attempt_at) == (RecipientStatus.VOICEMAIL, None)


def test_duration_buckets() -> None:
    assert [results.duration_bucket(s) for s in (0, 0.9, 59.5, 299.9, 300, 3599, 9000)] == [
        0, 0, 59, 299, 300, 3590, 3600
    ]  # fmt: skip


def test_counters_summed_over_100000_outcomes_give_the_exact_figures() -> None:
    """What the analytics item holds after 100,000 outcomes (the sum of each outcome's
    ADDs), summarised, against the same figures computed from the outcomes directly."""
    draw = random.Random(18)
    item: Counter[str] = Counter()
    fields: set[str] = set()
    attempts, durations, who = Counter[tuple[int, str]](), list[float](), Counter[str]()
    cost = 0.0
    for n in range(100_000):
        attempt = 1 + n % 3
        outcome = draw.choice(list(Outcome))
        answered = AnsweredBy.HUMAN if outcome is Outcome.COMPLETED else None
        duration = float(draw.randint(1, 600)) if outcome in results.CONNECTED else None
        facts = CallFacts(duration, answered, cost=0.01, data={"interest": "x"})
        ended = ENDED + timedelta(seconds=n)
        deltas, names = results.analytics_deltas(attempt, outcome, facts, ended, callback=False)
        item.update(deltas)
        fields |= names
        attempts[attempt, outcome.value] += 1
        if duration is not None:
            durations.append(duration)
        if answered:
            who[answered.value] += 1
        cost += 0.01
    view = results.summarise(dict(item))
    assert view["attempts"] == 100_000 and fields == {"interest"}
    assert view["by_attempt"] == {
        str(a): {o.value: attempts[a, o.value] for o in Outcome} for a in (1, 2, 3)
    }
    connected = sum(c for (_, o), c in attempts.items() if o in {"completed", "voicemail"})
    assert view["answer_rate"] == round(connected / 100_000, 4)
    assert view["answered_by"]["human"] == who["human"]
    assert view["retries_used"] == sum(c for (a, _), c in attempts.items() if a > 1)
    stats = view["duration_seconds"]
    assert stats["count"] == len(durations)
    assert stats["mean"] == pytest.approx(statistics.fmean(durations), abs=1e-3)
    ordered = sorted(durations)
    for share, name in ((0.5, "p50"), (0.9, "p90")):
        exact = ordered[math.ceil(share * len(ordered)) - 1]
        assert results.duration_bucket(exact) == stats[name]
    assert sum(hour["calls"] for hour in view["calls_per_hour"]) == 100_000
    assert view["cost"]["total"] == pytest.approx(cost)
