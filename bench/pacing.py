"""Pacing benchmark: one batch with max_calls_per_second through the whole local product.

Creates 40 recipients (calls of 0.5 s) with max_concurrent_calls 10 and
max_calls_per_second 4 through the HTTP API, waits for `completed`, and prints from the
simulator's own call log: calls placed, the most call starts in any clock second (must
not exceed the cap), the sustained rate (starts per second from the first start to the
last) and the peak of simultaneous calls. Exits non-zero if a clock second had more
starts than the cap.

    .venv/bin/python -m bench.pacing
"""

import json
import sys
import time
from collections import Counter

from local import runtime
from tests.orchestration.conftest import Product, contacts, moment

RECIPIENTS = 40
CONCURRENCY = 10
PER_SECOND = 4


def run() -> dict[str, float]:
    with runtime.running() as local:
        product = Product(local)
        batch_id = product.create(
            contacts(RECIPIENTS, duration=0.5, first=8000),
            max_concurrent_calls=str(CONCURRENCY),
            max_calls_per_second=str(PER_SECOND),
        )
        began = time.monotonic()
        product.wait_for(batch_id, "completed", timeout=300)
        elapsed = time.monotonic() - began
        starts = sorted(moment(c["started_at"]).timestamp() for c in product.calls(batch_id))
        per_second = Counter(int(start) for start in starts)
        return {
            "calls": len(starts),
            "max_starts_in_a_clock_second": max(per_second.values()),
            "sustained_starts_per_second": round((len(starts) - 1) / (starts[-1] - starts[0]), 2),
            "create_to_completed_seconds": round(elapsed, 1),
            "peak_simultaneous": product.peak(batch_id),
        }


if __name__ == "__main__":
    figures = run()
    print(json.dumps(figures, indent=2))
    sys.exit(0 if figures["max_starts_in_a_clock_second"] <= PER_SECOND else 1)
