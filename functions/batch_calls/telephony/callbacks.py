"""The JSON status callback that the simulated and http providers share (the format of
docs/providers/http.md, section 2): call_id, status (a progress status or an Outcome
value), and the optional duration_seconds, reason, provider_call_id, opted_out and the
call's facts (answered_by, ended_reason, recording_url, transcript_url, cost,
cost_currency, data, callback_at). Each provider has its own progress statuses and
names itself in the messages."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from batch_calls.domain import json_limits, results
from batch_calls.telephony.base import CallEvent, Outcome
from batch_calls.telephony.transport import reason

FINAL_STATUSES = frozenset(o.value for o in Outcome)
MAX_CALLBACK_BYTES = 256 * 1024  # a call's status: a few hundred bytes


def read_callback(
    body: bytes, label: str, progress_statuses: frozenset[str], signed_at: int
) -> CallEvent:
    """A verified callback's body as a CallEvent; ValueError says what is wrong with it.

    `signed_at`, the signature's timestamp (signing.verify), is when the provider sent
    the callback: the event's time as far as the format says."""
    try:
        data = json_limits.loads(body, MAX_CALLBACK_BYTES)
    except json_limits.JsonRejected as error:
        raise ValueError(f"{label}: the body {error.message}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{label}: the body must be a JSON object")
    return read_status(data, label, progress_statuses, datetime.fromtimestamp(signed_at, UTC))


def read_status(
    data: Mapping[str, Any],
    label: str,
    progress_statuses: frozenset[str],
    occurred_at: datetime | None = None,
) -> CallEvent:
    """A callback's (or a status lookup's) JSON object as a CallEvent; ValueError names
    the field."""
    call_id = data.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        raise ValueError(f"{label}: call_id must be a non-empty string")
    status = data.get("status")
    if status in progress_statuses:
        outcome: Outcome | None = None
    elif isinstance(status, str) and status in FINAL_STATUSES:
        outcome = Outcome(status)
    else:
        allowed = sorted(progress_statuses | FINAL_STATUSES)
        raise ValueError(f"{label}: unknown status {status!r} (allowed: {allowed})")
    duration = data.get("duration_seconds")
    if duration is not None and (
        isinstance(duration, bool)
        or not isinstance(duration, int | float)
        or not 0 <= duration < math.inf
    ):
        raise ValueError(f"{label}: duration_seconds must be a number >= 0")
    opted_out = data.get("opted_out", False)
    if not isinstance(opted_out, bool):
        raise ValueError(f"{label}: opted_out must be true or false")
    detail = {"reason": reason(str(data["reason"]))} if data.get("reason") else {}
    provider_call_id = data.get("provider_call_id")
    cost = data.get("cost")
    if cost is not None and (
        isinstance(cost, bool) or not isinstance(cost, int | float) or not 0 <= cost < math.inf
    ):
        raise ValueError(f"{label}: cost must be a number >= 0")
    try:
        answered_by = results.answered_by(data.get("answered_by"))
        post_call_data = results.post_call_data(data.get("data"))
        callback_at = results.checked_callback_time(data.get("callback_at"))
    except ValueError as error:
        raise ValueError(f"{label}: {error}") from None
    return CallEvent(
        call_id=call_id,
        outcome=outcome,
        provider_status=str(status),
        duration_seconds=None if duration is None else float(duration),
        detail=detail,
        provider_call_id=provider_call_id if isinstance(provider_call_id, str) else None,
        opted_out=opted_out,
        occurred_at=occurred_at,
        answered_by=answered_by,
        ended_reason=results.text(data.get("ended_reason") or data.get("reason")),
        recording_url=results.text(data.get("recording_url")),
        transcript_url=results.text(data.get("transcript_url")),
        cost=None if cost is None else float(cost),
        cost_currency=results.text(data.get("cost_currency")),
        data=post_call_data,
        callback_at=callback_at,
    )
