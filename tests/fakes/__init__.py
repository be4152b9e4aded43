"""In-memory fakes of logic's ports (logic/ports.py): logic tests run against them in
milliseconds, without moto (the Powertools project's habit: fakes over mocks).
`World` wires them the way handlers/wiring.py wires the real stores."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from batch_calls.logic.notifications import Notifications
from batch_calls.logic.services import Services
from batch_calls.telephony.base import Provider
from tests.fakes.outside import (
    FakeBlobs,
    FakeClock,
    FakeEventBus,
    FakeLoadQueue,
    FakeProvider,
    FakeWebhookQueue,
    FakeWorkflow,
)
from tests.fakes.stores import FakeAttempts, FakeDatabase, FakePacing, Table

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


@dataclass
class World:
    """One product's worth of fakes, sharing one table and one clock."""

    clock: FakeClock = field(default_factory=lambda: FakeClock(NOW))
    table: Table = field(default_factory=Table)
    blobs: FakeBlobs = field(default_factory=FakeBlobs)
    workflow: FakeWorkflow = field(default_factory=FakeWorkflow)
    load_queue: FakeLoadQueue = field(default_factory=FakeLoadQueue)
    webhooks: FakeWebhookQueue = field(default_factory=FakeWebhookQueue)
    bus: FakeEventBus = field(default_factory=FakeEventBus)
    provider: FakeProvider = field(default_factory=FakeProvider)

    def __post_init__(self) -> None:
        self.database = FakeDatabase(self.table)
        self.attempts = FakeAttempts(self.table)
        self.pacing = FakePacing(self.table)
        self.services = Services(
            self.database,
            self.attempts,
            self.pacing,
            self.blobs,
            self.workflow,
            self.load_queue,
            self._provider,
            Notifications(self.database, self.bus, self.webhooks, self.load_queue),
            clock=self.clock,
            sleep=self.clock.sleep,
            engine_clock=self.clock,
        )

    def _provider(self, name: str | None) -> Provider:
        return self.provider
