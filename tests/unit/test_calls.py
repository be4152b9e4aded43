"""Retry rules, final statuses and call identity (domain/calls.py)."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from batch_calls.domain.batch import Outcome, RecipientStatus, RetryConfig
from batch_calls.domain.calls import call_id, decide, idempotency_key

ENDED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_completed_is_final_whatever_the_retries() -> None:
    assert decide(Outcome.COMPLETED, 1, RetryConfig(max_retries=5), ENDED).status is (
        RecipientStatus.COMPLETED
    )


def test_a_retryable_outcome_waits_its_interval_from_the_end_of_the_attempt() -> None:
    retry = RetryConfig(max_retries=2, retry_interval_minutes=30)
    decision = decide(Outcome.NO_ANSWER, 1, retry, ENDED)
    assert decision.status is RecipientStatus.WAITING_RETRY
    assert decision.next_attempt_at == ENDED + timedelta(minutes=30)


def test_a_wait_per_outcome_overrides_the_shared_interval() -> None:
    retry = RetryConfig(max_retries=2, retry_interval_minutes=30, busy_wait_minutes=5)
    assert decide(Outcome.BUSY, 1, retry, ENDED).next_attempt_at == ENDED + timedelta(minutes=5)
    assert decide(Outcome.NO_ANSWER, 1, retry, ENDED).next_attempt_at == ENDED + timedelta(
        minutes=30
    )


def test_after_the_last_attempt_each_outcome_has_its_final_status() -> None:
    retry = RetryConfig(max_retries=1, retry_on_voicemail=True, retry_on_failed=True)
    final = {outcome: decide(outcome, 2, retry, ENDED).status for outcome in Outcome}
    assert final == {
        Outcome.COMPLETED: RecipientStatus.COMPLETED,
        Outcome.NO_ANSWER: RecipientStatus.NO_ANSWER,
        Outcome.VOICEMAIL: RecipientStatus.VOICEMAIL,
        Outcome.BUSY: RecipientStatus.FAILED,  # busy after the last attempt is failed
        Outcome.FAILED: RecipientStatus.FAILED,
    }


def test_an_outcome_whose_retry_is_off_is_final_at_once() -> None:
    retry = RetryConfig(max_retries=3, retry_on_voicemail=False, retry_on_busy=False)
    assert decide(Outcome.VOICEMAIL, 1, retry, ENDED).status is RecipientStatus.VOICEMAIL
    assert decide(Outcome.BUSY, 1, retry, ENDED).status is RecipientStatus.FAILED


@given(
    max_retries=st.integers(0, 10),
    minutes=st.floats(0, 600, allow_nan=False),
    outcomes=st.lists(st.sampled_from(list(Outcome)), min_size=12, max_size=12),
)
def test_never_more_than_one_plus_max_retries_attempts(
    max_retries: int, minutes: float, outcomes: list[Outcome]
) -> None:
    """Invariant 1's bound and invariant 5's wait, for any script of outcomes."""
    retry = RetryConfig(
        max_retries=max_retries,
        retry_interval_minutes=minutes,
        retry_on_voicemail=True,
        retry_on_failed=True,
    )
    attempts, ended = 0, ENDED
    for outcome in outcomes:
        attempts += 1
        decision = decide(outcome, attempts, retry, ended)
        if decision.status is not RecipientStatus.WAITING_RETRY:
            break
        assert decision.next_attempt_at is not None
        assert decision.next_attempt_at - ended == timedelta(minutes=minutes)
        ended = decision.next_attempt_at + timedelta(seconds=30)
    assert attempts <= 1 + max_retries


def test_a_call_id_names_one_attempt_of_one_recipient() -> None:
    ids = {
        call_id("batch_a", part, row, attempt)
        for part in (1, 2)
        for row in (2, 3)
        for attempt in (1, 2)
    }
    assert len(ids) == 8
    assert call_id("batch_a", 1, 2, 1) == call_id("batch_a", 1, 2, 1)
    assert idempotency_key("batch_a", 1, 2, 3) == "batch_a:1:2:3"
