"""Fires due EventBridge Scheduler one-time schedules (moto stores them, never fires them),
and the functions the stack invokes on a fixed rate (FunctionSpec.every_minutes).

One thread polls the schedule group; a schedule whose at() time has passed has its
target invoked (our targets are Lambda functions: StartRound) and is then deleted, as
ActionAfterCompletion=DELETE does in AWS. Locally the time is honoured to the second.
Both follow the product's clock, so a test that moves it fires what is then due.
"""

import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)


def _at(expression: str) -> datetime | None:
    if not (expression.startswith("at(") and expression.endswith(")")):
        return None
    return datetime.fromisoformat(expression[3:-1]).replace(tzinfo=UTC)


class SchedulerPump:
    def __init__(
        self,
        scheduler: Any,
        group: str,
        invoke: Callable[[str, Any], Any],
        *,
        interval_seconds: float = 0.2,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        recurring: Mapping[str, timedelta] | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.group = group
        self.invoke = invoke
        self.interval_seconds = interval_seconds
        self.clock = clock
        # function name -> (its period, when it is next due)
        self._recurring = {
            name: (period, clock() + period) for name, period in (recurring or {}).items()
        }
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler-pump", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def fire_due(self) -> int:
        """Fire every due schedule once; returns how many fired."""
        fired = 0
        listing = self.scheduler.list_schedules(GroupName=self.group)
        for summary in listing.get("Schedules", []):
            schedule = self.scheduler.get_schedule(Name=summary["Name"], GroupName=self.group)
            when = _at(schedule["ScheduleExpression"])
            if when is None or when > self.clock():
                continue
            target = schedule["Target"]
            self.scheduler.delete_schedule(Name=summary["Name"], GroupName=self.group)
            self.invoke(target["Arn"].rsplit(":", 1)[-1], json.loads(target.get("Input") or "{}"))
            fired += 1
        return fired

    def fire_recurring(self) -> int:
        """Invoke each rate-scheduled function whose period has passed."""
        fired = 0
        for name, (period, due) in list(self._recurring.items()):
            now = self.clock()
            if due > now + period:  # the clock was moved back: due a period from now
                self._recurring[name] = (period, now + period)
            if due > now:
                continue
            self._recurring[name] = (period, now + period)
            self.invoke(name, {"source": "aws.events", "detail-type": "Scheduled Event"})
            fired += 1
        return fired

    def _run(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                self.fire_due()
                self.fire_recurring()
            except Exception:  # a failed fire must not stop the pump; AWS retries too
                logger.exception("scheduler pump: firing a schedule failed")
