"""The one container of what logic uses (architecture.md section 3: logic takes ports)."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from batch_calls.logic.notifications import Notifications
from batch_calls.logic.ports import Attempts, Blobs, Database, LoadQueue, Pacing, Workflow
from batch_calls.telephony.base import Provider

# Production's watch period (infra/resources.py DIAL_SETTINGS): how long a slot waits
# for a call's outcome before asking the provider.
DEFAULT_CALL_WATCH = timedelta(seconds=300)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """Everything a use case may use: the ports it works through, the telephony
    providers, notifications and the clocks. The composition root (handlers/wiring.py)
    builds one per cold start; tests build one from the fakes (tests/fakes/)."""

    database: Database
    attempts: Attempts
    pacing: Pacing
    blobs: Blobs
    workflow: Workflow
    load_queue: LoadQueue
    # The telephony provider by name; None: the deployment's default.
    provider: Callable[[str | None], Provider]
    notifications: Notifications
    clock: Callable[[], datetime] = _utc_now
    sleep: Callable[[float], None] = time.sleep  # pacing waits (fractions of a second)
    call_watch: timedelta = DEFAULT_CALL_WATCH
    # The workflow engine's clock, which its Wait states follow. The embedded runtime
    # moves the product's clock (tests of windows) but not moto's.
    engine_clock: Callable[[], datetime] = _utc_now
