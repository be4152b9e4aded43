"""What a team learns from each call, and the batch's analytics (no AWS here).

`CallFacts` are what a provider tells about an attempt besides its outcome: how long it
lasted, who answered, why it ended, where its recording and transcript are, what it
cost, the data the agent extracted, and when the person asked to be called back.

The analytics are counters kept as outcomes arrive (`analytics_deltas`: atomic ADDs on
one item per batch), so `summarise` answers from one read at any batch size.
"""

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from batch_calls.domain.batch import Outcome

# Post-call data: at most this many fields and this many bytes of JSON for all of them;
# fields beyond are dropped (a provider's webhook is never refused for them: the call
# happened). Names are what a report column `data.<name>` can carry.
MAX_DATA_FIELDS = 50
MAX_DATA_BYTES = 8 * 1024
MAX_DATA_NAME = 64
_DATA_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
MAX_TEXT = 2048  # an ended reason or a URL longer than this is cut


class AnsweredBy(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    UNKNOWN = "unknown"


# Outcomes of an attempt someone or something picked up (answer_rate's numerator).
CONNECTED = frozenset({Outcome.COMPLETED, Outcome.VOICEMAIL})


@dataclass(frozen=True)
class CallFacts:
    duration_seconds: float | None = None
    answered_by: AnsweredBy | None = None
    ended_reason: str | None = None
    recording_url: str | None = None
    transcript_url: str | None = None
    cost: float | None = None
    cost_currency: str | None = None
    data: Mapping[str, str] = field(default_factory=dict)
    # "Call me at <time>" as the provider wrote it (ISO 8601, with or without an offset:
    # `callback_time` reads it); the next attempt is due then (logic/rounds.py record).
    callback_at: str | None = None


def text(value: object) -> str | None:
    """A provider's free text, bounded; None when empty."""
    if value is None:
        return None
    cut = str(value).strip()[:MAX_TEXT]
    return cut or None


def post_call_data(raw: object) -> dict[str, str]:
    """The agent's post-call data as name -> text: scalars as written, objects and
    lists as compact JSON, null dropped. Bounded: names that cannot be a column and
    fields past MAX_DATA_FIELDS or MAX_DATA_BYTES are dropped. ValueError when `raw`
    is not a JSON object."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError("data must be a JSON object of field names to values")
    kept: dict[str, str] = {}
    size = 2
    for name, value in raw.items():
        if value is None or not isinstance(name, str):
            continue
        if len(name) > MAX_DATA_NAME or not _DATA_NAME.match(name):
            continue
        if isinstance(value, str):
            cell = value
        elif isinstance(value, bool | int | float) and not _non_finite(value):
            cell = json.dumps(value)
        else:
            try:
                cell = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            except (TypeError, ValueError):
                continue
        size += len(json.dumps({name: cell}, ensure_ascii=False).encode()) - 1
        if len(kept) == MAX_DATA_FIELDS or size > MAX_DATA_BYTES:
            break
        kept[name] = cell
    return kept


def _non_finite(value: float) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def answered_by(value: object) -> AnsweredBy | None:
    """human, machine or unknown (ValueError for anything else); None when absent."""
    if value is None or value == "":
        return None
    try:
        return AnsweredBy(str(value).lower())
    except ValueError:
        allowed = ", ".join(AnsweredBy)
        raise ValueError(f"answered_by must be one of {allowed}, not {value!r}") from None


def checked_callback_time(value: object) -> str | None:
    """A provider's callback_at, checked to be readable; None when absent."""
    if value is None or value == "":
        return None
    callback_time(value, "UTC")
    return str(value)


def callback_time(value: object, zone: str) -> datetime | None:
    """An ISO 8601 time the person asked to be called back at; one without an offset is
    a wall-clock time in `zone` (the recipient's). ValueError when it is not a time."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"callback_at must be an ISO 8601 time such as 2026-12-05T17:30:00, not {value!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


# -- analytics ------------------------------------------------------------------------

# Durations are counted per second below 5 minutes, per 10 seconds below an hour, and
# in one bucket beyond: the percentiles are exact to that resolution, and the item stays
# a few KB (every outcome's write costs by the item's size).
_FINE_LIMIT, _COARSE_STEP, _COARSE_LIMIT = 300, 10, 3600


def duration_bucket(seconds: float) -> int:
    whole = max(int(seconds), 0)
    if whole < _FINE_LIMIT:
        return whole
    if whole < _COARSE_LIMIT:
        return whole - whole % _COARSE_STEP
    return _COARSE_LIMIT


def analytics_deltas(
    attempt: int, outcome: Outcome, facts: CallFacts, ended_at: datetime, *, callback: bool
) -> tuple[dict[str, int | float], set[str]]:
    """What one recorded attempt adds to its batch's analytics item: counters by name,
    and the post-call data field names seen (the report's data.<name> columns)."""
    deltas: dict[str, int | float] = {f"o_{attempt}_{outcome.value}": 1}
    deltas[f"h_{ended_at.astimezone(UTC):%Y%m%d%H}"] = 1
    if facts.answered_by is not None:
        deltas[f"ab_{facts.answered_by.value}"] = 1
    if outcome in CONNECTED and facts.duration_seconds is not None:
        deltas["dur_n"] = 1
        deltas["dur_sum"] = facts.duration_seconds
        deltas[f"dh_{duration_bucket(facts.duration_seconds)}"] = 1
    if facts.cost is not None:
        deltas["cost_n"] = 1
        deltas["cost_sum"] = facts.cost
    if callback:
        deltas["callbacks"] = 1
    return deltas, set(facts.data)


def summarise(item: Mapping[str, Any]) -> dict[str, Any]:
    """The analytics view of a batch's counters (as `analytics_deltas` added them)."""
    by_attempt: dict[int, dict[str, int]] = {}
    hours: dict[str, int] = {}
    buckets: dict[int, int] = {}
    for name, value in item.items():
        kind, _, rest = str(name).partition("_")
        if kind == "o":
            attempt, _, outcome = rest.partition("_")
            counts = by_attempt.setdefault(int(attempt), dict.fromkeys(Outcome, 0))
            counts[Outcome(outcome)] = int(value)
        elif kind == "h":
            hours[rest] = int(value)
        elif kind == "dh":
            buckets[int(rest)] = int(value)
    outcomes = {o.value: sum(c[o] for c in by_attempt.values()) for o in Outcome}
    dialled = sum(outcomes.values())
    connected = sum(outcomes[o.value] for o in CONNECTED)
    durations = int(item.get("dur_n", 0))
    cost_n = int(item.get("cost_n", 0))
    return {
        "attempts": dialled,
        "outcomes": outcomes,
        "by_attempt": {
            str(n): {str(o): c for o, c in counts.items()}
            for n, counts in sorted(by_attempt.items())
        },
        "connected": connected,
        "answer_rate": round(connected / dialled, 4) if dialled else None,
        "answered_by": {who.value: int(item.get(f"ab_{who.value}", 0)) for who in AnsweredBy},
        "retries_used": sum(sum(c.values()) for n, c in by_attempt.items() if n > 1),
        "callbacks_scheduled": int(item.get("callbacks", 0)),
        "duration_seconds": {
            "count": durations,
            "total": round(float(item.get("dur_sum", 0)), 3),
            "mean": round(float(item.get("dur_sum", 0)) / durations, 3) if durations else None,
            "p50": _percentile(buckets, 0.5),
            "p90": _percentile(buckets, 0.9),
        },
        "calls_per_hour": [
            {"hour": f"{h[:4]}-{h[4:6]}-{h[6:8]}T{h[8:]}:00:00Z", "calls": n}
            for h, n in sorted(hours.items())
        ],
        "cost": {
            "total": round(float(item.get("cost_sum", 0)), 6) if cost_n else None,
            "currency": item.get("cost_currency"),
            "calls_with_cost": cost_n,
        },
    }


def _percentile(buckets: Mapping[int, int], share: float) -> int | None:
    """The duration bucket (its lower bound in seconds) holding the `share` quantile
    (nearest rank)."""
    total = sum(buckets.values())
    if total == 0:
        return None
    rank = max(math.ceil(share * total), 1)
    seen = 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen >= rank:
            return bucket
    return max(buckets)
