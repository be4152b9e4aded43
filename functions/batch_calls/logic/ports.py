"""What logic needs from the world outside it, as small typing.Protocol ports.

logic/ annotates with these and never imports batch_calls.store: the composition root
(handlers/wiring.py) passes the real stores, and mypy checks that they conform; tests
pass the in-memory fakes of tests/fakes/, whose contract tests run the same scenarios
against the fakes and the moto-backed stores. The telephony port is
telephony/base.py's `Provider`.
"""

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO, Any, Protocol

from batch_calls.domain.batch import Batch, BatchSettings, BatchStatus, Recipient, RecipientStatus
from batch_calls.domain.calls import Decision
from batch_calls.domain.records import (
    Analytics,
    AuditedCall,
    CallRecord,
    Claim,
    ContactCalls,
    ContactUpdate,
    Due,
    DueRecipient,
    SlotRef,
    SlotState,
    WorkspaceLive,
)
from batch_calls.domain.results import CallFacts
from batch_calls.domain.workspace import Agent, Workspace

# The product's clock: one time for the whole product (the embedded runtime moves it).
Clock = Callable[[], datetime]


class Workspaces(Protocol):
    """Workspaces, their API keys, caller numbers and agents."""

    def put_workspace(self, workspace: Workspace) -> None: ...
    def get_workspace(self, workspace_id: str) -> Workspace | None: ...
    def put_api_key(self, workspace_id: str, key_hash: str, created_at: datetime) -> None: ...
    def put_caller_number(self, workspace_id: str, e164: str) -> None: ...
    def caller_number_workspaces(self, e164: str) -> list[str]: ...
    def caller_numbers(self, workspace_id: str) -> list[str]: ...
    def has_caller_number(self, workspace_id: str, e164: str) -> bool: ...
    def put_agent(self, workspace_id: str, agent: Agent) -> None: ...
    def get_agent(self, workspace_id: str, agent_id: str) -> Agent | None: ...
    def agent_ids(self, workspace_id: str) -> list[str]: ...


class SuppressionList(Protocol):
    """A workspace's numbers never to call."""

    def suppress(
        self,
        workspace_id: str,
        numbers: Iterable[str],
        source: str,
        now: datetime,
        *,
        expires: datetime | None = None,
        permanent: bool = False,
    ) -> int: ...
    def unsuppress(self, workspace_id: str, e164: str) -> bool: ...
    def is_suppressed(self, workspace_id: str, e164: str, now: datetime) -> bool: ...
    def suppressed_numbers(self, workspace_id: str, now: datetime) -> set[str]: ...
    def list_suppressed(
        self, workspace_id: str, cursor: str | None, limit: int, prefix: str = ""
    ) -> tuple[list[dict[str, Any]], str | None]: ...


class Batches(Protocol):
    """Batch items (settings, lifecycle, counters, runs) and their recipients."""

    def active_batch_ids(self, workspace_id: str) -> list[str]: ...
    def create_batch(self, batch: Batch) -> bool: ...
    def batch_item_bytes(self, batch: Batch) -> int: ...
    def get_batch(self, workspace_id: str, batch_id: str) -> Batch | None: ...
    def list_batches(
        self,
        workspace_id: str,
        status: BatchStatus | None,
        offset: int,
        limit: int,
        tag: str | None = None,
    ) -> tuple[list[Batch], int]: ...
    def transition_batch(
        self,
        workspace_id: str,
        batch_id: str,
        *,
        allowed_from: Iterable[BatchStatus],
        to: BatchStatus,
        now: datetime,
        settings: BatchSettings | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        end_round: bool = False,
    ) -> Batch | None: ...
    def begin_round(
        self, workspace_id: str, batch_id: str, round_number: int, now: datetime
    ) -> Batch | None: ...
    def set_waiting(
        self, workspace_id: str, batch_id: str, at: datetime, reason: str
    ) -> Batch | None: ...
    def end_round(self, workspace_id: str, batch_id: str, round_number: int) -> Batch | None: ...
    def complete_batch(self, workspace_id: str, batch_id: str, now: datetime) -> Batch | None: ...
    def add_part(
        self, batch: Batch, accepted: int, skipped: int, variables: list[str], columns: list[str]
    ) -> Batch | None: ...
    def mark_part_loaded(self, workspace_id: str, batch_id: str, part: int) -> None: ...
    def add_rerun(self, workspace_id: str, batch_id: str, rerun_id: str) -> Batch | None: ...
    def analytics(self, workspace_id: str, batch_id: str) -> dict[str, Any]: ...
    def put_recipients(
        self, workspace_id: str, batch_id: str, recipients: Iterable[Recipient]
    ) -> int: ...
    def get_recipient(self, workspace_id: str, batch_id: str, part: int, row: int) -> Recipient: ...
    def list_recipients(
        self,
        workspace_id: str,
        batch_id: str,
        status: RecipientStatus | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Recipient], str | None]: ...
    def all_recipients(self, workspace_id: str, batch_id: str) -> Iterator[Recipient]: ...


class Database(Workspaces, SuppressionList, Batches, Protocol):
    """The table's workspaces, suppression lists and batches together."""


class Attempts(Protocol):
    """The dialling ledger: what is due, every recipient transition (each moves the
    batch's counters and the workspace's live calls with it), calls and slots."""

    def due(self, workspace_id: str, batch_id: str, now: datetime, limit: int) -> list[Due]: ...
    def earliest_due(self, workspace_id: str, batch_id: str) -> Due | None: ...
    def waiting(self, workspace_id: str, batch_id: str) -> Iterator[Due]: ...
    def claim(
        self,
        workspace_id: str,
        batch_id: str,
        recipient: DueRecipient,
        *,
        call_id: str,
        task_token: str,
        now: datetime,
        caller_id: str,
        slot: SlotRef,
        watch_until: datetime,
        workspace_limit: int,
        slot_limit: int,
        contact: ContactUpdate | None = None,
        audit: dict[str, Any] | None = None,
    ) -> Claim: ...
    def contact_calls(self, workspace_id: str, e164: str) -> ContactCalls: ...
    def mark_placed(self, call: CallRecord, provider: str, provider_call_id: str) -> None: ...
    def release(self, call: CallRecord) -> bool: ...
    def defer(
        self,
        workspace_id: str,
        batch_id: str,
        recipient: DueRecipient,
        until: datetime,
        reason: str,
    ) -> bool: ...
    def undefer(self, workspace_id: str, batch_id: str, recipient: Due) -> bool: ...
    def skip(
        self, workspace_id: str, batch_id: str, recipient: DueRecipient, reason: str
    ) -> bool: ...
    def record_outcome(
        self,
        call: CallRecord,
        outcome: str,
        decision: Decision,
        ended_at: datetime,
        *,
        cancelled: bool,
        facts: CallFacts = ...,
        connected: bool = False,
        analytics: Analytics = ...,
    ) -> bool: ...
    def cancel_waiting(
        self, workspace_id: str, batch_id: str, recipients: Iterable[DueRecipient]
    ) -> int: ...
    def slot(self, slot: SlotRef) -> SlotState: ...
    def watch(self, call: CallRecord, task_token: str, until: datetime) -> bool: ...
    def live_calls(self) -> int: ...
    def unwatched(self, now: datetime, limit: int) -> list[CallRecord]: ...
    def audited_calls(self, call_ids: list[str]) -> Iterator[AuditedCall]: ...
    def call(self, call_id: str) -> CallRecord | None: ...
    def call_by_provider_id(self, provider: str, provider_call_id: str) -> CallRecord | None: ...


class Pacing(Protocol):
    """Call starts per clock second, and the batches waiting for a unit of their
    workspace's concurrency."""

    def reserve_start(
        self,
        workspace_id: str,
        batch_id: str,
        second: int,
        batch_limit: int | None,
        workspace_limit: int | None,
    ) -> bool: ...
    def workspace_live(self, workspace_id: str) -> WorkspaceLive: ...
    def wait_for_unit(
        self, workspace_id: str, batch_id: str, rank: str, until: datetime
    ) -> None: ...
    def stop_waiting_for_unit(self, workspace_id: str, batch_id: str) -> None: ...


class Blobs(Protocol):
    """Stored files: uploads, normalised recipients, reports, drop rejections."""

    def put_source(
        self, workspace_id: str, batch_id: str, part: int, data: bytes, name: str
    ) -> str: ...
    def put_recipients(
        self, workspace_id: str, batch_id: str, part: int, records: Iterable[dict[str, Any]]
    ) -> str: ...
    def read_recipients(
        self, workspace_id: str, batch_id: str, part: int
    ) -> Iterator[dict[str, Any]]: ...
    def presigned_upload(
        self, workspace_id: str, upload_id: str, max_bytes: int, expires_in: int
    ) -> dict[str, Any]: ...
    def get_upload(self, workspace_id: str, upload_id: str, max_bytes: int) -> bytes | None: ...
    def get_dropped(self, key: str, max_bytes: int) -> tuple[bytes, dict[str, str], str]: ...
    def put_report(self, key: str, csv: IO[bytes]) -> None: ...
    def report_size(self, key: str) -> int | None: ...
    def get_report(self, key: str) -> bytes: ...
    def report_url(self, key: str, filename: str, expires_in: int) -> str: ...
    def put_rejection(self, key: str, body: dict[str, Any]) -> None: ...


class Workflow(Protocol):
    """Runs of the batch workflow, their schedules, and answers to waiting tasks."""

    def start(self, name: str, payload: dict[str, Any]) -> None: ...
    def stop(self, name: str) -> None: ...
    def schedule(self, name: str, at: datetime, payload: dict[str, Any]) -> None: ...
    def unschedule(self, name: str) -> None: ...
    def answer(self, task_token: str, output: dict[str, Any]) -> bool: ...
    def heartbeat(self, task_token: str) -> None: ...


class LoadQueue(Protocol):
    """Work on a batch's recipients too long for a request."""

    def request_load(self, workspace_id: str, batch_id: str, part: int) -> None: ...
    def request_cancel(self, workspace_id: str, batch_id: str) -> None: ...
    def request_report(self, workspace_id: str, batch_id: str) -> None: ...
    def request_window_reset(self, workspace_id: str, batch_id: str) -> None: ...
    def request_suppression_sweep(self, workspace_id: str) -> None: ...


class WebhookQueue(Protocol):
    """Webhook deliveries waiting to be sent."""

    def enqueue(self, delivery: dict[str, Any]) -> None: ...
    def retry_after(self, receipt_handle: str, seconds: int) -> None: ...


class EventBus(Protocol):
    """The project's event bus (docs/events.md)."""

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...
