"""The simulated telephony provider: the local default and a dry-run mode in the cloud.

It places no real call. Each call's fate (outcome and length) is decided when it is
placed, by rules a test or a demo can script, and the provider then behaves as a real
one: after the call's duration a signed status callback is POSTed to the product's
webhook (`handlers/simulator.py`, fed through an SQS queue whose per-message
DelaySeconds stands for the call's length).

Fate of one attempt
    Recipient variable `sim_outcomes`: comma-separated outcomes, one per attempt
    (`no_answer,busy,completed`: attempt n uses entry n, the last entry repeats). Words:
    completed, no_answer, voicemail, busy, failed (the call ends with that outcome),
    `lost` (the call happens but its callback never comes: reconciliation's case) and
    `reject` (place_call raises PermanentCallError, as for an invalid number).
    Variable `sim_duration_seconds`: the call's length, 0 to 900 s (fractions allowed),
    1.0 by default when `sim_outcomes` is given.

    What the call tells besides its outcome (its facts, docs/providers/http.md) on an
    attempt someone or something answered (completed, voicemail): `answered_by` from
    `sim_answered_by` (human, machine, unknown; default human for completed, machine
    for voicemail), post-call `data` from `sim_data` (a JSON object), `ended_reason`
    from `sim_ended_reason`, `cost` from `sim_cost` (USD), a recording and a transcript
    URL on the simulator's own (unresolvable) host, and on the first attempt only,
    `callback_at` from `sim_callback_at` (ISO 8601; without an offset, the recipient's
    local time). With the batch's voicemail policy `leave_message`, a voicemail call
    leaves the agent's message (`ended_reason` voicemail_message_left).

    Without `sim_outcomes`, the fate comes from sha256(f"{to}:{attempt}"): the first 8
    bytes as a fraction u pick the outcome (u < 0.55 completed, < 0.75 no_answer,
    < 0.85 voicemail, < 0.95 busy, else failed) and the next 8 bytes as a fraction v the
    duration 0.5 + 2.5 v seconds. The same number and attempt always get the same fate,
    so a run can be repeated; a retry (next attempt) gets a fresh draw.

The registry
    Every call placed in this process, with when it started and ended: the simulator's
    own timeline, independent of the product's counters, from which tests measure how
    many calls were live at once. Locally everything runs in one process, so it sees
    every call. In the cloud the placing function and the worker run in separate Lambda
    containers, so the registry is partial there: `lookup` then answers None (no
    record), which reconciliation records as failed/unknown.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]

from batch_calls.domain import results
from batch_calls.telephony import signing
from batch_calls.telephony.base import (
    CallEvent,
    CallRequest,
    Outcome,
    PermanentCallError,
    PlacedCall,
)
from batch_calls.telephony.callbacks import FINAL_STATUSES, read_callback, read_status

OUTCOMES_VARIABLE = "sim_outcomes"
DURATION_VARIABLE = "sim_duration_seconds"
ANSWERED_BY_VARIABLE = "sim_answered_by"
DATA_VARIABLE = "sim_data"
ENDED_REASON_VARIABLE = "sim_ended_reason"
COST_VARIABLE = "sim_cost"
CALLBACK_VARIABLE = "sim_callback_at"
MEDIA_URL = "https://simulator.invalid"
MESSAGE_LEFT = "voicemail_message_left"
LOST = "lost"
REJECT = "reject"
FATES = FINAL_STATUSES | {LOST, REJECT}  # a scripted fate: an outcome, or lost, or refused
SCRIPTED_DURATION_SECONDS = 1.0
MAX_DURATION_SECONDS = 900.0  # SQS's longest DelaySeconds
REJECTED_MESSAGE = "simulated: number rejected"

# The documented distribution of unscripted outcomes, as cumulative shares.
DISTRIBUTION: tuple[tuple[float, Outcome], ...] = (
    (0.55, Outcome.COMPLETED),
    (0.75, Outcome.NO_ANSWER),
    (0.85, Outcome.VOICEMAIL),
    (0.95, Outcome.BUSY),
    (1.0, Outcome.FAILED),
)
MIN_RANDOM_DURATION = 0.5
MAX_RANDOM_DURATION = 3.0

# Statuses of the simulated callback besides the final outcomes: the call is alive.
PROGRESS_STATUSES = frozenset({"ringing", "answered"})


@dataclass(frozen=True)
class Fate:
    outcome: str  # an Outcome value, or LOST
    duration_seconds: float


def decide(request: CallRequest) -> Fate:
    """The attempt's fate, from its variables or else from the documented distribution.

    Raises PermanentCallError for `reject` and for a script it cannot read.
    """
    duration = _scripted_duration(request.variables.get(DURATION_VARIABLE))
    # str(): variables from JSON contacts may hold numbers despite the annotation.
    script = str(request.variables.get(OUTCOMES_VARIABLE) or "").strip()
    if not script:
        # A blank cell in a sim_outcomes column means "not scripted", as in a CSV.
        drawn = hashed_fate(request.to, request.attempt)
        return drawn if duration is None else Fate(drawn.outcome, duration)
    words = [word.strip().lower() for word in script.split(",")]
    for word in words:
        if word not in FATES:
            raise PermanentCallError(
                f"simulated: unknown outcome {word!r} in {OUTCOMES_VARIABLE} "
                f"(allowed: {', '.join(sorted(FATES))})"
            )
    word = words[min(max(request.attempt, 1), len(words)) - 1]
    if word == REJECT:
        raise PermanentCallError(REJECTED_MESSAGE)
    return Fate(word, SCRIPTED_DURATION_SECONDS if duration is None else duration)


def hashed_fate(to: str, attempt: int) -> Fate:
    digest = hashlib.sha256(f"{to}:{attempt}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    v = int.from_bytes(digest[8:16], "big") / 2**64
    outcome = next(o for share, o in DISTRIBUTION if u < share)
    duration = MIN_RANDOM_DURATION + (MAX_RANDOM_DURATION - MIN_RANDOM_DURATION) * v
    return Fate(outcome.value, round(duration, 3))


def _scripted_duration(raw: object) -> float | None:
    if raw is None or not str(raw).strip():
        return None
    try:
        value = float(str(raw))
    except ValueError:
        value = math.nan
    if not 0 <= value <= MAX_DURATION_SECONDS:  # also false for nan
        raise PermanentCallError(
            f"simulated: {DURATION_VARIABLE} must be a number of seconds from 0 to "
            f"{MAX_DURATION_SECONDS:g}, not {raw!r}"
        )
    return value


def scripted_facts(request: CallRequest, fate: Fate, call_ref: str) -> dict[str, Any]:
    """The facts the callback carries (http format); PermanentCallError for a script it
    cannot read, as for `sim_outcomes`."""
    if fate.outcome not in {Outcome.COMPLETED, Outcome.VOICEMAIL}:
        reason = _variable(request, ENDED_REASON_VARIABLE)
        return {"ended_reason": reason} if reason else {}
    machine = fate.outcome == Outcome.VOICEMAIL
    facts: dict[str, Any] = {
        "answered_by": _variable(request, ANSWERED_BY_VARIABLE)
        or ("machine" if machine else "human"),
        "recording_url": f"{MEDIA_URL}/recordings/{call_ref}.wav",
        "transcript_url": f"{MEDIA_URL}/transcripts/{call_ref}.txt",
    }
    reason = _variable(request, ENDED_REASON_VARIABLE)
    if machine and request.voicemail == "leave_message":
        reason = MESSAGE_LEFT
    if reason:
        facts["ended_reason"] = reason
    data = _variable(request, DATA_VARIABLE)
    cost = _variable(request, COST_VARIABLE)
    callback = _variable(request, CALLBACK_VARIABLE) if request.attempt == 1 else ""
    try:
        if data:
            facts["data"] = results.post_call_data(json.loads(data))
        if cost:
            facts["cost"], facts["cost_currency"] = float(cost), "USD"
        if callback:
            facts["callback_at"] = results.checked_callback_time(callback)
        results.answered_by(facts["answered_by"])
    except ValueError as error:
        raise PermanentCallError(f"simulated: a sim_ variable is not valid: {error}") from None
    return facts


def _variable(request: CallRequest, name: str) -> str:
    return str(request.variables.get(name) or "").strip()


def provider_call_id(idempotency_key: str) -> str:
    return "sim_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]


# -- the registry ---------------------------------------------------------------------


@dataclass
class SimulatedCall:
    call_id: str
    provider_call_id: str
    batch_id: str
    to: str
    from_number: str
    attempt: int
    outcome: str  # an Outcome value, or LOST
    duration_seconds: float
    started_at: float
    ended_at: float | None = None
    facts: dict[str, Any] = field(default_factory=dict)


class _Registry:
    """The calls placed in this process, by provider call id (one per idempotency key)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: dict[str, SimulatedCall] = {}  # insertion order = start order
        self.by_call_id: dict[str, str] = {}


_registry = _Registry()


def reset_simulator() -> None:
    """Forget every call (tests)."""
    with _registry.lock:
        _registry.calls.clear()
        _registry.by_call_id.clear()


def end_call(provider_call_id: str, ended_at: float) -> bool:
    """Record that the call ended (the worker, just before its callback). The first end
    counts, so a redelivered message does not move it; False for a call not placed in
    this process."""
    with _registry.lock:
        call = _registry.calls.get(provider_call_id)
        if call is None:
            return False
        if call.ended_at is None:
            call.ended_at = ended_at
        return True


def simulator_calls(batch_id: str | None = None) -> list[dict[str, Any]]:
    """The calls (of one batch, or all), in the order they started.

    `outcome` is the fate the simulator decided when placing the call (`lost` included);
    `ended_at` is None while the call is live.
    """
    with _registry.lock:
        calls = [c for c in _registry.calls.values() if batch_id in (None, c.batch_id)]
        return [
            {
                "call_id": c.call_id,
                "provider_call_id": c.provider_call_id,
                "batch_id": c.batch_id,
                "to": c.to,
                "from": c.from_number,
                "attempt": c.attempt,
                "started_at": _iso(c.started_at),
                "ended_at": None if c.ended_at is None else _iso(c.ended_at),
                "outcome": c.outcome,
                "duration_seconds": c.duration_seconds,
            }
            for c in calls
        ]


def simulator_stats() -> dict[str, dict[str, int]]:
    """Per batch: how many calls were placed and the most that were live at once."""
    with _registry.lock:
        intervals: dict[str, list[tuple[float, float | None]]] = {}
        for call in _registry.calls.values():
            intervals.setdefault(call.batch_id, []).append((call.started_at, call.ended_at))
    return {
        batch: {"calls": len(spans), "peak_simultaneous": peak_simultaneous(spans)}
        for batch, spans in intervals.items()
    }


def peak_simultaneous(intervals: list[tuple[float, float | None]]) -> int:
    """The most intervals [start, end) open at one instant; end None is still open.

    A sweep over the ends and starts in time order, ends first at equal times: a call
    that ends when another starts never overlaps it (the slot was handed over).
    """
    events: list[tuple[float, int]] = []
    for start, end in intervals:
        events.append((start, 1))
        if end is not None:
            events.append((end, -1))
    events.sort()  # (t, -1) sorts before (t, 1)
    live = peak = 0
    for _, change in events:
        live += change
        peak = max(peak, live)
    return peak


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


# -- the provider ---------------------------------------------------------------------


class SimulatedProvider:
    name = "simulated"

    def __init__(
        self,
        secret: bytes,
        queue_url: str,
        sqs_client: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._queue_url = queue_url
        self._sqs = sqs_client
        self._clock = clock

    def place_call(self, request: CallRequest) -> PlacedCall:
        placed = PlacedCall(provider_call_id(request.idempotency_key))
        with _registry.lock:
            if placed.provider_call_id in _registry.calls:
                return placed  # at most one call per attempt
            fate = decide(request)  # may raise: nothing is recorded then
            facts = scripted_facts(request, fate, placed.provider_call_id)
            call = SimulatedCall(
                call_id=request.call_id,
                provider_call_id=placed.provider_call_id,
                batch_id=request.batch_id,
                to=request.to,
                from_number=request.from_number,
                attempt=request.attempt,
                outcome=fate.outcome,
                duration_seconds=fate.duration_seconds,
                started_at=self._clock(),
                facts=facts,
            )
            if fate.outcome == LOST:
                # The call runs its course; only its callback is lost. Its end is known
                # now: a lookup says it is live until then (reconciliation waits for it,
                # so the timeline's peak stays honest), and has no record of it after.
                call.ended_at = call.started_at + fate.duration_seconds
            _registry.calls[call.provider_call_id] = call
            _registry.by_call_id[call.call_id] = call.provider_call_id
        if fate.outcome == LOST:
            return placed
        try:
            self._schedule_callback(call)
        except BaseException:
            # Nothing will call back: forget the call, so that a retry places it again.
            with _registry.lock:
                _registry.calls.pop(call.provider_call_id, None)
                _registry.by_call_id.pop(call.call_id, None)
            raise
        return placed

    def _schedule_callback(self, call: SimulatedCall) -> None:
        whole = math.floor(call.duration_seconds)
        message = {
            "call_id": call.call_id,
            "provider_call_id": call.provider_call_id,
            "outcome": call.outcome,
            "duration_seconds": call.duration_seconds,
            # SQS delays in whole seconds; the worker sleeps the rest.
            "remainder_seconds": round(call.duration_seconds - whole, 6),
            "batch_id": call.batch_id,
            "facts": call.facts,
        }
        if not self._queue_url:
            raise RuntimeError(
                "simulated provider: no queue (SIMULATOR_QUEUE_URL) to place calls on"
            )
        if self._sqs is None:
            self._sqs = boto3.client("sqs")
        self._sqs.send_message(
            QueueUrl=self._queue_url,
            MessageBody=json.dumps(message),
            DelaySeconds=min(max(whole, 0), int(MAX_DURATION_SECONDS)),
        )

    def parse_event(self, headers: Mapping[str, str], body: bytes, url: str = "") -> CallEvent:
        if not self._secret:
            # A deployment error, not the sender's: never a 4xx, never an unsigned pass.
            raise RuntimeError(
                "simulated provider: no key (the SIMULATOR_SECRET_ARN secret) to verify with"
            )
        signed_at = signing.verify(headers, body, self._secret, self._clock())
        return read_callback(body, "simulated callback", PROGRESS_STATUSES, signed_at)

    def lookup(self, call_id: str, provider_call_id: str | None) -> CallEvent | None:
        with _registry.lock:
            key = provider_call_id or _registry.by_call_id.get(call_id)
            call = _registry.calls.get(key) if key else None
            if call is None:
                return None
            if call.ended_at is None or (call.outcome == LOST and self._clock() < call.ended_at):
                # Live, as a provider asked about a running call says (a lost callback's
                # call too: only its callback is lost, so it ends when it ends).
                return CallEvent(call.call_id, None, "in_progress")
            if call.outcome == LOST:
                return None  # a lost call, over: the provider "has no record" of it
            status = {"call_id": call.call_id, "status": call.outcome,
                      "duration_seconds": call.duration_seconds, **call.facts}  # fmt: skip
            return read_status(status, "simulated lookup", PROGRESS_STATUSES)


def callback_body(
    call_id: str,
    status: str,
    duration_seconds: float | None,
    facts: Mapping[str, Any] | None = None,
) -> bytes:
    """The JSON the simulated provider POSTs to the webhook."""
    return json.dumps(
        {
            "call_id": call_id,
            "status": status,
            "duration_seconds": duration_seconds,
            **(facts or {}),
        }
    ).encode()
