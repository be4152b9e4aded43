"""The embedded runtime's clock: real time moved by a whole number of seconds.

Tests set it to any moment (a calling window about to open, the next morning) and the
product, the scheduler pump and the rounds all see that time; it then runs at real
speed. Whole seconds keep its seconds aligned with the real ones, so the simulator's
call log (in real time) and the product's pace per clock second agree; `shifted` turns a
real instant of that log into the product's time.
"""

import bisect
import threading
from datetime import UTC, datetime, timedelta


class ShiftedClock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (real instant from which it applies, offset), in time order.
        self._offsets: list[tuple[datetime, timedelta]] = [
            (datetime.min.replace(tzinfo=UTC), timedelta(0))
        ]

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offsets[-1][1]

    def set(self, moment: datetime) -> None:
        """From now on the clock reads `moment` (to the whole second) and runs on."""
        real = datetime.now(UTC)
        offset = timedelta(seconds=round((moment - real).total_seconds()))
        with self._lock:
            self._offsets.append((real, offset))

    def reset(self) -> None:
        self.set(datetime.now(UTC))

    def shifted(self, real: datetime) -> datetime:
        """What this clock read at the real instant `real`."""
        with self._lock:
            index = bisect.bisect_right([start for start, _ in self._offsets], real) - 1
            return real + self._offsets[max(index, 0)][1]
