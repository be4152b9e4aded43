"""Orchestration benchmark: simulated batches through the whole local product.

Starts the product (`local.runtime.running()`: embedded AWS, moto's Step Functions
interpreter running statemachines/batch_round.asl.json, the local API, the simulated
provider) once per concurrency (`--concurrency 10 50`), creates one batch of
`--recipients` (default 300) through the HTTP API with a scripted mix of fates (70 %
completed, 15 % no_answer then completed, 10 % busy twice, 4 % voicemail, 1 % lost: the
call happens, its callback never comes) and heavy-tailed call lengths (one call in ten
10 times longer than the others), retry_config {"max_retries": 1, "retry_interval_minutes":
0.05}, waits until it is `completed`, and prints (and returns, from `run()`, as a dict):

Time is compressed: the median call lasts concurrency / 5 seconds (`--median-seconds`),
so that the batch needs about 2.6 call starts a second at any concurrency (the embedded
runtime, one Python process for moto, the interpreter and every Lambda, starts about 3
a second on the 2-core machine). It stands for a call of a minute, so the watch period
(CallWatchSeconds, production 300 s: how long a slot waits for an outcome before asking
the provider) is compressed the same way.

- wall time from the POST to `completed`, calls placed (the simulator's own call log)
  against the calls the scripts imply, one call per attempt;
- peak simultaneous calls (the simulator's stats) against max_concurrent_calls: it must
  equal the limit and never exceed it;
- slot utilisation while work was pending. From the simulator's call log, the number of
  live calls is integrated over time, from the first call's start to the last call's
  end, only where work was pending, and divided by max_concurrent_calls x that time.
  A recipient is pending (dialable) at time t if it has not finished its last attempt
  and either has not started its first attempt yet, or the retry wait after its
  previous attempt's end (as the simulator recorded the end) has elapsed and its next
  attempt has not started. Work is pending at t if some recipient is pending; the
  intervals where every remaining recipient was on a live call or waiting out its retry
  wait are left out. A slot that waits out a lost callback's watch period holds no live
  call, so it counts as idle. The utilisation over the whole window is printed beside;
- the longest time a slot stayed idle while someone was due (fewer live calls than the
  limit while work was pending, and no call starting), and the longest time without a
  new call; the idle slot-seconds per call (the turnaround from a call's end to the
  slot's next call, and lost callbacks' watch periods), and what utilisation that
  turnaround gives with calls of a minute (derived, and printed as such);
- Step Functions state transitions, from execution histories, counted as AWS bills
  them: one per state entered (every *StateEntered event) plus one per Retry attempt
  (a TaskScheduled beyond the first of its state entry); execution start and end and
  Map Run start and end events are not counted. For the runs (the parent executions
  `{batch}-r{n}`), for the Distributed Map's slots, per call placed, and the
  orchestration cost per 1,000 recipients at $0.025 per 1,000 transitions. It exits
  non-zero if the peak is not exactly max_concurrent_calls, or the calls or final
  statuses differ from the scripts.

How moto 5.2.5 represents the Distributed Map (read from moto/stepfunctions/parser): a
Map Run is a record inside the parent execution (`list_map_runs`, `describe_map_run`
with item and execution counts work), but its children are not executions: they run
as worker threads of the parent's interpreter, `list_executions(mapRunArn=...)` fails
with a 500, and the children's events go to a fresh EventManager per Map Run that moto
drops when the Map state ends (while the Map runs, the parent's `get_execution_history`
even returns the children's events instead of its own). So this benchmark keeps that
EventManager: it wraps moto's `DistributedIterationComponent._map_run` (in this process,
for the benchmark's duration) to remember each Map Run's event manager by its ARN, and
counts the children's transitions from those events, joined to the parent through the
MapRunStarted event; `describe_map_run`'s execution count is printed beside them.

The embedded runtime's DynamoDB (local/moto_dynamodb.py) backs up only the items a
transaction names; moto as shipped copies the whole table per item, and this batch would
take over 7 minutes, measuring moto rather than the product.

Run: make bench   (or .venv/bin/python -m bench.orchestration [--recipients N]
[--concurrency N ...] [--median-seconds S] [--timeout S])
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from batch_calls.handlers import wiring
from batch_calls.logic import admin
from cli.http_client import multipart, send
from infra.resources import CALL_WATCH, DIAL_SETTINGS, STATE_MACHINE
from local import runtime

moto_map: Any
try:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as moto_map,
    )
except ImportError:  # another moto: the children's transitions are then not measured
    moto_map = None

PRICE_PER_1000_TRANSITIONS = 0.025  # USD, Step Functions Standard
RETRY_WAIT_MINUTES = 0.05
MAX_RETRIES = 1
# (sim_outcomes, share of the recipients); the first takes what rounding leaves.
MIX: tuple[tuple[str, float], ...] = (
    ("completed", 0.70),
    ("no_answer,completed", 0.15),
    ("busy,busy", 0.10),
    ("voicemail", 0.04),
    ("lost", 0.01),
)
# What each script ends as with max_retries 1 (busy after the last attempt is failed; a
# lost callback is reconciled: the simulator has no record, so failed, outcome unknown).
FINAL_STATUS = {
    "completed": "completed",
    "no_answer,completed": "completed",
    "busy,busy": "failed",
    "voicemail": "voicemail",
    "lost": "failed",
}
# Call lengths: uniform over 0.5-1.5 s (median 1 s), and one call in ten 10 times longer.
# Call lengths: the median times uniform 0.5-1.5, and one call in ten 10 times longer.
MIN_DURATION, MAX_DURATION = 0.5, 1.5
LONG_CALL_EVERY, LONG_CALL_FACTOR = 10, 10
# The embedded runtime runs every Lambda, moto and the interpreter in one Python process
# and starts about three calls a second on the 2-core machine. So the median call is
# concurrency / SLOTS_PER_MEDIAN_SECOND seconds, and the batch needs about 2.6 starts a
# second whatever the concurrency (with 1 s calls at concurrency 50 it would need 26 and
# measure the machine). A real median call is a minute: time is compressed 60 / median
# times, and the watch period (production 300 s) with it.
SLOTS_PER_MEDIAN_SECOND = 5
REAL_MEDIAN_CALL_SECONDS = 60
# Mean of real call lengths shaped like the bench's: median 60 s, one in ten 10x longer.
REAL_MEAN_CALL_SECONDS = REAL_MEDIAN_CALL_SECONDS * (0.9 + 0.1 * LONG_CALL_FACTOR)
FIRST_NUMBER = 1000  # +1 415 555 1000 onwards, as the orchestration tests use
MAX_RECIPIENTS = 9000
POLL_SECONDS = 0.5
SEED = 2024


class BenchError(RuntimeError):
    """The benchmark could not measure (timeout, refused batch, missing data)."""


# -- the batch ------------------------------------------------------------------------


def contacts(
    count: int, median: float, seed: int = SEED, first: int = FIRST_NUMBER
) -> tuple[str, Counter[str]]:
    """A CSV of `count` US numbers with scripted fates, and how many of each script."""
    scripts: list[str] = []
    for script, share in MIX[1:]:
        scripts += [script] * round(share * count)
    scripts += [MIX[0][0]] * (count - len(scripts))
    random.Random(seed).shuffle(scripts)
    rows = []
    lengths = random.Random(seed + 1)
    for i, script in enumerate(scripts):
        duration = median * lengths.uniform(MIN_DURATION, MAX_DURATION)
        if lengths.randrange(LONG_CALL_EVERY) == 0:
            duration *= LONG_CALL_FACTOR
        rows.append(f'+1415555{first + i:04d},Name {i},"{script}",{duration:.3f}\n')
    header = "phone_number,customer_name,sim_outcomes,sim_duration_seconds\n"
    return header + "".join(rows), Counter(scripts)


def expected_calls(scripts: Counter[str]) -> int:
    """One call per attempt: the first, plus one retry for no_answer and busy."""
    return sum(n * min(len(s.split(",")), 1 + MAX_RETRIES) for s, n in scripts.items())


class Api:
    def __init__(self, url: str, api_key: str) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"x-api-key": self.api_key, **kwargs.pop("headers", {})}
        reply = send(method, self.url + path, headers=headers, **kwargs)
        if reply.status >= 400:
            raise BenchError(f"{method} {path}: HTTP {reply.status}: {reply.body}")
        return reply.body

    def create(self, csv: str, concurrency: int, priority: int | None = None) -> str:
        form = {
            **({"priority": str(priority)} if priority is not None else {}),
            "agent_id": "agt_demo",
            "from_phone_number": "+14155550100",
            "name": "orchestration benchmark",
            "max_concurrent_calls": str(concurrency),
            "retry_config": json.dumps(
                {"max_retries": MAX_RETRIES, "retry_interval_minutes": RETRY_WAIT_MINUTES}
            ),
        }
        body, content_type = multipart(form, {"file": ("contacts.csv", csv.encode())})
        created = self.request(
            "POST", "/batch-calls", body=body, headers={"Content-Type": content_type}
        )
        return str(created["id"])

    def batch(self, batch_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/batch-calls/{batch_id}"))

    def calls(self, batch_id: str) -> list[dict[str, Any]]:
        body = send("GET", f"{self.url}/_local/simulator/calls?batch_id={batch_id}").body
        return list(body["data"])

    def stats(self, batch_id: str) -> dict[str, int]:
        body = send("GET", f"{self.url}/_local/simulator/stats").body
        return dict(body["batches"].get(batch_id, {"calls": 0, "peak_simultaneous": 0}))


def wait_completed(api: Api, batch_id: str, timeout: float, started: float) -> dict[str, Any]:
    deadline = started + timeout
    while True:
        batch = api.batch(batch_id)
        if batch["status"] == "completed":
            return batch
        if batch["status"] == "cancelled":
            raise BenchError(f"batch {batch_id} was cancelled: {batch['counts']}")
        if time.monotonic() > deadline:
            calls = api.calls(batch_id)
            live = sum(1 for c in calls if c["ended_at"] is None)
            raise BenchError(
                f"batch {batch_id} still {batch['status']!r} {timeout:.0f} s after it was "
                f"created: counts {batch['counts']}, {len(calls)} calls placed, {live} live "
                "(raise --timeout, or look for a stuck round)"
            )
        time.sleep(POLL_SECONDS)


# -- the simulator's timeline ---------------------------------------------------------


def seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True)
class Utilisation:
    window: float  # first call start to last call end, s
    pending: float  # the part of the window where work was pending, s
    while_pending: float  # live-call seconds / (max x pending)
    whole_window: float  # live-call seconds / (max x window)
    # The longest span in which a slot stayed free while work was pending and no call
    # started (a start refills some slot), s.
    longest_idle: float


def pending_intervals(calls: list[dict[str, Any]], wait: float) -> list[tuple[float, float]]:
    """When each recipient was dialable but not on a call (see the module docstring)."""
    first = min(seconds(c["started_at"]) for c in calls)
    by_number: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        by_number.setdefault(call["to"], []).append(call)
    intervals = []
    for attempts in by_number.values():
        attempts.sort(key=lambda c: c["attempt"])
        intervals.append((first, seconds(attempts[0]["started_at"])))
        for previous, following in itertools.pairwise(attempts):
            due = seconds(previous["ended_at"]) + wait
            intervals.append((due, seconds(following["started_at"])))
    return [(start, end) for start, end in intervals if end > start]


def utilisation(calls: list[dict[str, Any]], limit: int, wait: float) -> Utilisation:
    """Integrates live calls where work was pending, by a sweep over every boundary."""
    events: list[tuple[float, int, int]] = []  # (time, live change, pending change)
    for call in calls:
        events += [(seconds(call["started_at"]), 1, 0), (seconds(call["ended_at"]), -1, 0)]
    for start, end in pending_intervals(calls, wait):
        events += [(start, 0, 1), (end, 0, -1)]
    events.sort()
    live = pending = 0
    pending_time = busy_pending = busy_all = idle = longest_idle = 0.0
    previous = events[0][0]
    for moment, live_change, pending_change in events:
        span = moment - previous
        busy_all += live * span
        if pending > 0:
            pending_time += span
            busy_pending += live * span
        # A slot free while someone is due, and no call starting: it idles. A call
        # start refills a slot, so the span restarts there.
        idle = idle + span if pending > 0 and live < limit else 0.0
        longest_idle = max(longest_idle, idle)
        if live_change > 0:
            idle = 0.0
        live += live_change
        pending += pending_change
        previous = moment
    window = events[-1][0] - events[0][0]
    return Utilisation(
        window=window,
        pending=pending_time,
        while_pending=busy_pending / (limit * pending_time) if pending_time else 0.0,
        whole_window=busy_all / (limit * window) if window else 0.0,
        longest_idle=longest_idle,
    )


# -- Step Functions -------------------------------------------------------------------


class ChildEvents:
    """Keeps the event manager of every Distributed Map run, by Map Run ARN.

    moto 5.2.5 runs a Distributed Map's children inside the parent execution and sends
    their events to a new EventManager per Map Run that nothing keeps (no child
    executions, no child histories); wrapping `_map_run` is the one place where that
    manager and the Map Run's ARN are both at hand.
    """

    def __init__(self) -> None:
        self.managers: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.error: str | None = None

    @contextmanager
    def recording(self) -> Iterator[ChildEvents]:
        component = getattr(moto_map, "DistributedIterationComponent", None)
        original: Callable[..., Any] | None = getattr(component, "_map_run", None)
        if component is None or original is None:
            self.error = "moto's Distributed Map internals moved (moto 5.2.5 was measured)"
            yield self
            return

        def _map_run(iteration: Any, env: Any, eval_input: Any) -> Any:
            with self.lock:
                self.managers[eval_input.map_run_record.map_run_arn] = env.event_manager
            return original(iteration, env, eval_input)

        component._map_run = _map_run
        try:
            yield self
        finally:
            component._map_run = original

    def events(self, map_run_arn: str) -> list[dict[str, Any]] | None:
        with self.lock:
            manager = self.managers.get(map_run_arn)
        return None if manager is None else list(manager.get_event_history())


def event_type(event: dict[str, Any]) -> str:
    return str(getattr(event["type"], "value", event["type"]))


def transitions(events: list[dict[str, Any]]) -> tuple[int, int]:
    """(states entered, Retry attempts) of a list of history events."""
    kinds = Counter(event_type(e) for e in events)
    entered = sum(n for kind, n in kinds.items() if kind.endswith("StateEntered"))
    retries = max(0, kinds["TaskScheduled"] - kinds["TaskStateEntered"])
    return entered, retries


@dataclass
class Round:
    number: int
    status: str
    started: float
    stopped: float | None
    parent_transitions: int
    items: int = 0
    children: int = 0  # child executions per describe_map_run
    child_transitions: int | None = None  # None: the children's events were not kept
    child_states: Counter[str] = field(default_factory=Counter)
    map_started: float | None = None  # of its (first) Map Run
    map_stopped: float | None = None


def paged(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    token: str | None = None
    while True:
        page = call(**kwargs, **({"nextToken": token} if token else {}))
        items += page[key]
        token = page.get("nextToken")
        if not token:
            return items


def rounds_of(local: runtime.LocalRuntime, batch_id: str, children: ChildEvents) -> list[Round]:
    sfn = local.aws.client("stepfunctions")
    machine = local.aws.resources[STATE_MACHINE].arn
    executions = [
        e
        for e in paged(sfn.list_executions, "executions", stateMachineArn=machine)
        if e["name"].startswith(f"{batch_id}-r")
    ]
    rounds = []
    for execution in executions:
        history = paged(
            sfn.get_execution_history,
            "events",
            executionArn=execution["executionArn"],
            maxResults=1000,
        )
        entered, retries = transitions(history)
        stop = execution.get("stopDate")
        found = Round(
            number=int(execution["name"].rsplit("-r", 1)[1]),
            status=execution["status"],
            started=execution["startDate"].timestamp(),
            stopped=None if stop is None else stop.timestamp(),
            parent_transitions=entered + retries,
        )
        for event in history:
            if event_type(event) != "MapRunStarted":
                continue
            arn = event["mapRunStartedEventDetails"]["mapRunArn"]
            described = sfn.describe_map_run(mapRunArn=arn)
            if found.map_started is None:
                found.map_started = described["startDate"].timestamp()
                stopped = described.get("stopDate")
                found.map_stopped = None if stopped is None else stopped.timestamp()
            found.items += described["itemCounts"]["total"]
            found.children += described["executionCounts"]["total"]
            child_events = children.events(arn)
            if child_events is None:
                continue
            entered, retries = transitions(child_events)
            found.child_transitions = (found.child_transitions or 0) + entered + retries
            found.child_states.update(
                e["stateEnteredEventDetails"]["name"]
                for e in child_events
                if event_type(e).endswith("StateEntered")
            )
        rounds.append(found)
    return sorted(rounds, key=lambda r: r.number)


# -- the run --------------------------------------------------------------------------


@contextmanager
def quiet_logs() -> Iterator[None]:
    """Powertools logs every handler call at INFO on stdout; the figures are the output."""
    saved = os.environ.get("POWERTOOLS_LOG_LEVEL")
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # loggers made from now on
    loggers = [
        logging.getLogger(name)
        for name in list(logging.root.manager.loggerDict)
        if name.startswith("batch-calls")
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        if saved is None:
            os.environ.pop("POWERTOOLS_LOG_LEVEL", None)
        else:
            os.environ["POWERTOOLS_LOG_LEVEL"] = saved


def run(
    recipients: int = 500,
    concurrency: int = 10,
    timeout: float = 300,
    median: float | None = None,
) -> dict[str, Any]:
    """Run the batch and measure it; the figures as a dict (see the module docstring)."""
    if not 1 <= recipients <= MAX_RECIPIENTS:
        raise BenchError(f"--recipients must be 1 to {MAX_RECIPIENTS}")
    median = median or concurrency / SLOTS_PER_MEDIAN_SECOND
    watch_seconds = max(1, round(DIAL_SETTINGS[CALL_WATCH] * median / REAL_MEDIAN_CALL_SECONDS))
    csv, scripts = contacts(recipients, median)
    wait = RETRY_WAIT_MINUTES * 60
    children = ChildEvents()
    dial_settings = {CALL_WATCH: watch_seconds}
    with (
        children.recording(),
        runtime.running(dial_settings=dial_settings) as local,
        quiet_logs(),
    ):
        workspace = local.demo.workspace.workspace_id
        if concurrency > local.demo.workspace.max_concurrent_calls:
            admin.configure(wiring.database(), workspace, max_concurrent_calls=concurrency)
        api = Api(local.gateway.url, local.demo.api_key)
        started, posted_at = time.monotonic(), time.time()
        batch_id = api.create(csv, concurrency)
        batch = wait_completed(api, batch_id, timeout, started)
        wall = time.monotonic() - started
        calls = api.calls(batch_id)
        stats = api.stats(batch_id)
        rounds = rounds_of(local, batch_id, children)

    if not calls:
        raise BenchError("the simulator recorded no call")
    if any(c["ended_at"] is None for c in calls):
        raise BenchError("the batch completed with calls still live at the simulator")
    use = utilisation(calls, concurrency, wait)
    durations = [seconds(c["ended_at"]) - seconds(c["started_at"]) for c in calls]
    scripted = [float(c["duration_seconds"]) for c in calls]
    per_attempt = Counter((c["to"], c["attempt"]) for c in calls)
    starts = sorted(seconds(c["started_at"]) for c in calls)

    counts = dict(batch["counts"])
    expected_final = Counter[str]()
    for script, n in scripts.items():
        expected_final[FINAL_STATUS[script]] += n
    finals = {k: v for k, v in counts.items() if k != "total" and v}

    dialled = [r for r in rounds if r.items]
    parent_total = sum(r.parent_transitions for r in rounds)
    kept = all(r.child_transitions is not None for r in dialled)
    child_total = sum(r.child_transitions or 0 for r in dialled) if kept else None
    child_states = sum((r.child_states for r in rounds), Counter[str]())
    figures: dict[str, Any] = {
        "batch_id": batch_id,
        "recipients": recipients,
        "max_concurrent_calls": concurrency,
        "scripts": dict(scripts),
        "wall_seconds": wall,
        "calls_placed": stats["calls"],
        "calls_in_log": len(calls),
        "calls_expected": expected_calls(scripts),
        "one_call_per_attempt": set(per_attempt.values()) == {1},
        "recipients_per_second": recipients / wall,
        "first_call_after_seconds": min(seconds(c["started_at"]) for c in calls) - posted_at,
        "final_statuses": finals,
        "final_statuses_expected": dict(expected_final),
        "call_seconds_mean": statistics.fmean(durations),
        "call_seconds_scripted_mean": statistics.fmean(scripted),
        "peak_simultaneous": stats["peak_simultaneous"],
        "peak_equals_max": stats["peak_simultaneous"] == concurrency,
        "peak_above_max": stats["peak_simultaneous"] > concurrency,
        "window_seconds": use.window,
        "pending_seconds": use.pending,
        "utilisation_while_pending": use.while_pending,
        "utilisation_whole_window": use.whole_window,
        "longest_gap_between_call_starts_seconds": max(
            (b - a for a, b in itertools.pairwise(starts)), default=0.0
        ),
        "rounds": len(rounds),
        "rounds_with_dials": len(dialled),
        "rounds_not_succeeded": [r.number for r in rounds if r.status != "SUCCEEDED"],
        "items_per_round": [r.items for r in rounds],
        "round_seconds_mean": statistics.fmean(
            r.stopped - r.started for r in rounds if r.stopped is not None
        ),
        "longest_slot_idle_while_due_seconds": use.longest_idle,
        # Slot-seconds without a live call while work was pending, per call placed: the
        # turnaround from a call's end to its slot's next call (callback, workflow,
        # Dial), plus the watch periods of lost callbacks.
        "idle_slot_seconds_per_call": (1 - use.while_pending)
        * concurrency
        * use.pending
        / len(calls),
        "lost_per_call": scripts["lost"] / len(calls),
        "watch_seconds": watch_seconds,
        "median_call_seconds": median,
        "parent_transitions_per_round": Counter(r.parent_transitions for r in rounds),
        "parent_transitions": parent_total,
        "child_executions": sum(r.children for r in rounds),
        "child_states_entered": dict(child_states),
        "child_transitions": child_total,
        "child_events_note": children.error,
    }
    if child_total is not None:
        total = parent_total + child_total
        figures |= {
            "transitions": total,
            "parent_transitions_per_recipient": parent_total / recipients,
            "child_transitions_per_recipient": child_total / recipients,
            "transitions_per_recipient": total / recipients,
            "transitions_per_call": total / len(calls),
            "cost_per_1000_recipients_usd": total
            / recipients
            * 1000
            * PRICE_PER_1000_TRANSITIONS
            / 1000,
        }
    return figures


def report(f: dict[str, Any]) -> None:
    n, limit = f["recipients"], f["max_concurrent_calls"]
    mix = ", ".join(f"{v} {k}" for k, v in f["scripts"].items())
    print(f"Batch of {n} simulated recipients, max_concurrent_calls {limit} ({f['batch_id']})")
    print(
        f"  scripted: {mix}; calls of {f['median_call_seconds']:g} s median (x "
        f"{MIN_DURATION}-{MAX_DURATION}), one in "
        f"{LONG_CALL_EVERY} {LONG_CALL_FACTOR}x longer; max_retries {MAX_RETRIES}, retry wait "
        f"{RETRY_WAIT_MINUTES * 60:g} s; watch period {f['watch_seconds']} s"
    )
    print(f"  wall time, POST to completed:         {f['wall_seconds']:7.1f} s")
    print(f"  first call placed after:              {f['first_call_after_seconds']:7.1f} s")
    print(
        f"  calls placed (simulator):             {f['calls_placed']:7d}"
        f"   expected {f['calls_expected']}, one call per attempt: "
        f"{f['one_call_per_attempt']}"
    )
    print(f"  recipients per second:                {f['recipients_per_second']:7.2f}")
    print(
        f"  call length, simulator's log:         {f['call_seconds_mean']:7.2f} s mean"
        f"   (scripted {f['call_seconds_scripted_mean']:.2f} s)"
    )
    print(f"  final statuses: {f['final_statuses']}   expected {f['final_statuses_expected']}")
    peak = f["peak_simultaneous"]
    verdict = (
        "ABOVE THE LIMIT"
        if f["peak_above_max"]
        else ("equal, never above: OK" if f["peak_equals_max"] else "below the limit")
    )
    print(f"  peak simultaneous calls (simulator):  {peak:7d}   vs max {limit}: {verdict}")
    print(
        f"  slot utilisation while work pending:  {f['utilisation_while_pending']:7.1%}"
        f"   over {f['pending_seconds']:.1f} s of the {f['window_seconds']:.1f} s window"
        f" (whole window: {f['utilisation_whole_window']:.1%})"
    )
    print(
        "    = live-call seconds / (max_concurrent_calls x seconds with work pending), from\n"
        "      the simulator's call log, first call start to last call end; work is pending\n"
        "      while some recipient, not finished with its last attempt, has not started\n"
        "      its first attempt or is past its retry wait (previous end + wait) and not\n"
        "      yet redialled; time when everyone left was on a call or waiting is left out"
    )
    idle = f["longest_slot_idle_while_due_seconds"]
    print(f"  longest a slot stayed free while due: {idle:7.1f} s")
    per_call, lost = f["idle_slot_seconds_per_call"], f["lost_per_call"]
    turnaround = per_call - lost * f["watch_seconds"]
    real_idle = turnaround + lost * DIAL_SETTINGS[CALL_WATCH]
    projected = REAL_MEAN_CALL_SECONDS / (REAL_MEAN_CALL_SECONDS + real_idle)
    print(
        f"  idle slot-seconds per call placed:    {per_call:7.2f} s   of which turnaround "
        f"{turnaround:.2f} s (callback, workflow, next Dial) and lost callbacks' watch\n"
        f"    derived, not measured: with this turnaround, {lost:.1%} of calls lost and "
        f"waited for {DIAL_SETTINGS[CALL_WATCH]} s,\n"
        f"    and calls of a minute (median; one in ten 10x longer: mean "
        f"{REAL_MEAN_CALL_SECONDS:.0f} s): utilisation {projected:.1%}"
    )
    gap = f["longest_gap_between_call_starts_seconds"]
    print(f"  longest time without a new call:      {gap:7.1f} s")
    print(
        f"  runs: {f['rounds']} ({f['rounds_with_dials']} with slots), slots per run "
        f"{f['items_per_round']}"
    )
    print(
        f"    mean run {f['round_seconds_mean']:.1f} s"
        + (f", NOT SUCCEEDED: {f['rounds_not_succeeded']}" if f["rounds_not_succeeded"] else "")
    )
    per_round = ", ".join(
        f"{count} rounds x {t}" for t, count in sorted(f["parent_transitions_per_round"].items())
    )
    print("  Step Functions state transitions (states entered + Retry attempts):")
    print(f"    per run (parent execution):         {per_round}; total {f['parent_transitions']}")
    if f["child_transitions"] is None:
        print("    children: not measured (" + (f["child_events_note"] or "events not kept") + ")")
        return
    print(
        f"    slots (Distributed Map children):   {f['child_transitions']} over "
        f"{f['child_executions']} child executions, states entered "
        f"{f['child_states_entered']}"
    )
    print(
        f"    per recipient: parent {f['parent_transitions_per_recipient']:.3f} + slots "
        f"{f['child_transitions_per_recipient']:.3f} = {f['transitions_per_recipient']:.3f}"
        f"; per call placed {f['transitions_per_call']:.3f}"
    )
    print(
        f"  orchestration cost per 1,000 recipients at ${PRICE_PER_1000_TRANSITIONS} per "
        f"1,000 transitions: ${f['cost_per_1000_recipients_usd']:.4f}"
    )


def run_two_batches(concurrency: int, recipients: int, timeout: float) -> dict[str, Any]:
    """The workspace's limit across two batches: a low-priority batch fills the
    workspace's `concurrency` units, then a high-priority one of half its size arrives."""
    median = concurrency / SLOTS_PER_MEDIAN_SECOND
    watch = max(1, round(DIAL_SETTINGS[CALL_WATCH] * median / REAL_MEDIAN_CALL_SECONDS))
    low_csv, low_scripts = contacts(recipients, median)
    high_csv, high_scripts = contacts(recipients // 2, median, SEED + 2, FIRST_NUMBER + 5000)
    with runtime.running(dial_settings={CALL_WATCH: watch}) as local, quiet_logs():
        admin.configure(
            wiring.database(), local.demo.workspace.workspace_id, max_concurrent_calls=concurrency
        )
        api = Api(local.gateway.url, local.demo.api_key)
        started = time.monotonic()
        low = api.create(low_csv, concurrency, priority=2)
        while len(api.calls(low)) < 2 * concurrency:
            time.sleep(POLL_SECONDS)
        high_created = time.monotonic()
        high = api.create(high_csv, concurrency, priority=9)
        wait_completed(api, high, timeout, high_created)
        high_done = time.monotonic()
        wait_completed(api, low, timeout, started)
        low_done = time.monotonic()
        low_calls, high_calls = api.calls(low), api.calls(high)
    calls = low_calls + high_calls
    scripts = low_scripts + high_scripts
    use = utilisation(calls, concurrency, RETRY_WAIT_MINUTES * 60)
    spans = sorted(
        [(seconds(c["started_at"]), 1) for c in calls]
        + [(seconds(c["ended_at"]), -1) for c in calls]
    )
    live = peak = 0
    for _, change in spans:
        live += change
        peak = max(peak, live)
    # A low-priority start while a high-priority recipient was due and not on a call
    # (a second's grace: a claim in flight when the other became due).
    high_due = pending_intervals(high_calls, RETRY_WAIT_MINUTES * 60)
    overtaking = [
        c
        for c in low_calls
        if any(start + 1 < seconds(c["started_at"]) < end for start, end in high_due)
    ]
    return {
        "concurrency": concurrency,
        "calls": len(calls),
        "calls_expected": expected_calls(scripts),
        "peak": peak,
        "utilisation_while_pending": use.while_pending,
        "high_seconds": high_done - high_created,
        "low_seconds": low_done - started,
        "low_starts_while_high_dialled": len(overtaking),
        "high_calls": len(high_calls),
    }


def report_two_batches(f: dict[str, Any]) -> None:
    print(
        f"Two batches sharing a workspace limit of {f['concurrency']}: the low-priority "
        f"one first, then one of priority 9 of half its size"
    )
    print(
        f"  peak live calls of both: {f['peak']} (limit {f['concurrency']}); calls "
        f"{f['calls']} of {f['calls_expected']} expected"
    )
    print(f"  utilisation of the workspace's units while work pending: "
          f"{f['utilisation_while_pending']:.1%}")  # fmt: skip
    print(
        f"  the high-priority batch: {f['high_calls']} calls done "
        f"{f['high_seconds']:.0f} s after it was created; the other started "
        f"{f['low_starts_while_high_dialled']} calls while one of it was due and waiting "
        f"(it took {f['low_seconds']:.0f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=300)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50])
    parser.add_argument(
        "--median-seconds",
        type=float,
        help=f"median call length (default: concurrency / {SLOTS_PER_MEDIAN_SECOND})",
    )
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds for each batch to complete"
    )
    parser.add_argument(
        "--two-batches", action="store_true", help="only the workspace-wide limit figures"
    )
    args = parser.parse_args()
    problems = []
    if args.two_batches:
        for concurrency in args.concurrency:
            two = run_two_batches(concurrency, args.recipients, args.timeout)
            report_two_batches(two)
            if two["peak"] > concurrency:
                problems.append(f"{concurrency}: more calls live than the workspace's limit")
        if problems:
            sys.exit("orchestration benchmark: " + "; ".join(problems))
        return
    for concurrency in args.concurrency:
        try:
            figures = run(args.recipients, concurrency, args.timeout, args.median_seconds)
        except BenchError as error:
            sys.exit(f"orchestration benchmark: {error}")
        report(figures)
        print()
        if figures["peak_above_max"]:
            problems.append(f"{concurrency}: more calls were live than max_concurrent_calls")
        elif not figures["peak_equals_max"]:
            problems.append(f"{concurrency}: the peak never reached max_concurrent_calls")
        if figures["calls_placed"] != figures["calls_expected"]:
            problems.append(f"{concurrency}: calls placed differ from the scripted attempts")
        if figures["final_statuses"] != figures["final_statuses_expected"]:
            problems.append(f"{concurrency}: final statuses differ from the scripts")
    if problems:
        sys.exit("orchestration benchmark: " + "; ".join(problems))


if __name__ == "__main__":
    main()
