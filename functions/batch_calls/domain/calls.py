"""What happens after an attempt: retry rules, final statuses, rounds (no AWS here)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from batch_calls.domain.batch import Outcome, RecipientStatus, RetryConfig

# A lost callback is recorded with this outcome (api-contract: last_outcome "unknown").
UNKNOWN_OUTCOME = "unknown"

_FINAL_STATUS = {
    Outcome.COMPLETED: RecipientStatus.COMPLETED,
    Outcome.NO_ANSWER: RecipientStatus.NO_ANSWER,
    Outcome.VOICEMAIL: RecipientStatus.VOICEMAIL,
    # Busy after the last attempt is reported as failed, with last_outcome = busy.
    Outcome.BUSY: RecipientStatus.FAILED,
    Outcome.FAILED: RecipientStatus.FAILED,
}


@dataclass(frozen=True)
class Decision:
    """The recipient's next status, and when it is due again if it is retried."""

    status: RecipientStatus
    next_attempt_at: datetime | None = None
    # When a round may pick it up: next_attempt_at, or its calling window's next opening
    # when that is later (None: next_attempt_at).
    due_at: datetime | None = None


def decide(
    outcome: Outcome,
    attempts_made: int,
    retry: RetryConfig,
    ended_at: datetime,
    *,
    callback_at: datetime | None = None,
    leave_message: bool = False,
) -> Decision:
    """Retry while the outcome's rule allows and attempts remain; the wait runs from the
    end of this attempt (invariant 5). A person who asked to be called back at
    `callback_at` is due then (never earlier), while attempts remain. With the voicemail
    policy leave_message, a voicemail ends the recipient: its message was left once."""
    attempts_left = attempts_made < 1 + retry.max_retries
    if callback_at is not None and attempts_left:
        return Decision(RecipientStatus.WAITING_RETRY, max(callback_at, ended_at))
    if outcome is Outcome.VOICEMAIL and leave_message:
        return Decision(RecipientStatus.VOICEMAIL)
    retry_allowed = {
        Outcome.NO_ANSWER: retry.retry_on_no_answer,
        Outcome.BUSY: retry.retry_on_busy,
        Outcome.VOICEMAIL: retry.retry_on_voicemail,
        Outcome.FAILED: retry.retry_on_failed,
        Outcome.COMPLETED: False,
    }[outcome]
    if retry_allowed and attempts_left:
        return Decision(RecipientStatus.WAITING_RETRY, ended_at + retry_wait(outcome, retry))
    return Decision(_FINAL_STATUS[outcome])


def status_after(decision: Decision, *, cancelled: bool) -> RecipientStatus:
    """The recipient's status once the attempt is recorded: a cancelled batch retries
    nobody."""
    if cancelled and decision.status is RecipientStatus.WAITING_RETRY:
        return RecipientStatus.CANCELLED
    return decision.status


def retry_wait(outcome: Outcome, retry: RetryConfig) -> timedelta:
    per_outcome = {
        Outcome.NO_ANSWER: retry.no_answer_wait_minutes,
        Outcome.BUSY: retry.busy_wait_minutes,
        Outcome.VOICEMAIL: retry.voicemail_wait_minutes,
        Outcome.FAILED: retry.failed_wait_minutes,
    }.get(outcome)
    minutes = retry.retry_interval_minutes if per_outcome is None else per_outcome
    return timedelta(minutes=minutes)


def call_id(batch_id: str, part: int, row: int, attempt: int) -> str:
    """Deterministic: a retried Dial computes the same id, so it cannot make a second call
    item, and the idempotency key it gives the provider is the same."""
    key = idempotency_key(batch_id, part, row, attempt)
    return "call_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def idempotency_key(batch_id: str, part: int, row: int, attempt: int) -> str:
    return f"{batch_id}:{part}:{row}:{attempt}"


def execution_name(batch_id: str, round_number: int) -> str:
    return f"{batch_id}-r{round_number}"
