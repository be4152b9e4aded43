"""The dial and reconciliation with each kind of provider answer (moto in-process, the
real ledger, a scripted provider): what is recorded, what is left to reconciliation,
which provider a workspace's calls go to, and events that name only the provider's id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from batch_calls import store
from batch_calls.domain.batch import (
    Batch,
    BatchSettings,
    BatchStatus,
    Recipient,
    RecipientStatus,
    initial_counts,
)
from batch_calls.domain.calls import UNKNOWN_OUTCOME
from batch_calls.logic import admin
from batch_calls.logic import rounds as logic
from batch_calls.logic.call_events import Received, receive
from batch_calls.logic.errors import InvalidField
from batch_calls.logic.notifications import Notifications
from batch_calls.telephony.base import (
    CallEvent,
    CallNotPlaced,
    CallRequest,
    DispatchUnknown,
    Outcome,
    PlacedCall,
    ProviderNotConfigured,
)
from tests.inprocess import main_table_in_process

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
BATCH = "batch_p"


class ScriptedProvider:
    """Answers place_call and lookup as told; records what it was asked."""

    def __init__(self, name: str, place: Any, lookup: Any = None) -> None:
        self.name = name
        self.place = place
        self.looked_up = lookup
        self.requests: list[CallRequest] = []

    def place_call(self, request: CallRequest) -> PlacedCall:
        self.requests.append(request)
        if isinstance(self.place, Exception):
            raise self.place
        return PlacedCall(str(self.place))

    def parse_event(self, headers: Any, body: bytes, url: str = "") -> CallEvent:
        raise NotImplementedError

    def lookup(self, call_id: str, provider_call_id: str | None) -> CallEvent | None:
        if isinstance(self.looked_up, Exception):
            raise self.looked_up
        return self.looked_up  # type: ignore[no-any-return]


class RecordingWorkflow:
    def __init__(self) -> None:
        self.answers: list[tuple[str, dict[str, Any]]] = []

    def answer(self, task_token: str, output: dict[str, Any]) -> None:
        self.answers.append((task_token, output))

    def heartbeat(self, task_token: str) -> None:
        pass

    def start(self, name: str, payload: dict[str, Any]) -> None:
        pass

    def schedule(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        pass


@pytest.fixture
def ledger() -> Iterator[str]:
    """A running one-recipient batch in moto; yields its workspace id."""
    with main_table_in_process("providers"):
        database = store.database()
        workspace = admin.create_workspace(database, "P").workspace.workspace_id
        admin.put_agent(database, workspace, "agt", "Hello {{name}}, this is {{company}}")
        settings = BatchSettings(
            name="p", agent_id="agt", from_phone_number="+14155550100", max_concurrent_calls=2
        )
        database.create_batch(
            Batch(
                batch_id=BATCH,
                workspace_id=workspace,
                settings=settings,
                status=BatchStatus.RUNNING,
                counts=initial_counts(1, 0),
                variables=["name"],
                loaded_parts=1,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        database.put_recipients(
            workspace,
            BATCH,
            [
                Recipient(
                    part=1,
                    row=2,
                    phone_number="+14155550111",
                    status=RecipientStatus.PENDING,
                    variables={"name": "Asha"},
                )
            ],
        )
        yield workspace


class Unheard:
    """Events, webhooks and queued work: what these tests do not look at."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def rounds_with(*providers: ScriptedProvider, default: str = "simulated") -> logic.Rounds:
    by_name = {p.name: p for p in providers}
    return logic.Rounds(
        store.database(),
        store.attempts(),
        None,  # type: ignore[arg-type]  # the dial and its outcomes need no bucket
        RecordingWorkflow(),  # type: ignore[arg-type]
        lambda name: by_name[name or default],  # type: ignore[arg-type, return-value]
        Notifications(store.database(), Unheard(), Unheard(), Unheard()),  # type: ignore[arg-type]
        clock=lambda: NOW,
    )


def dial(rounds: logic.Rounds, workspace: str) -> str:
    item = {"workspace_id": workspace, "batch_id": BATCH, "part": 1, "row": 2, "attempts": 0}
    return logic.dial(rounds, item, "token-1")


def recipient(workspace: str) -> Recipient:
    return store.database().get_recipient(workspace, BATCH, 1, 2)


def test_the_workspaces_provider_places_the_call_with_the_rendered_prompt(ledger: str) -> None:
    default = ScriptedProvider("simulated", "sim-1")
    chosen = ScriptedProvider("http", "pc-7")
    admin.configure(store.database(), ledger, telephony_provider="http")
    rounds = rounds_with(default, chosen)
    assert dial(rounds, ledger) == "placed"
    assert default.requests == []
    [request] = chosen.requests
    assert (request.agent_version, request.prompt) == (1, "Hello Asha, this is ")
    assert recipient(ledger).status is RecipientStatus.IN_PROGRESS

    # An event that names only the provider's id finds the call.
    event = CallEvent("", Outcome.VOICEMAIL, "VOICEMAIL_BEEP", provider_call_id="pc-7")
    assert receive(rounds, Unheard(), "http", event) is Received.RECORDED
    assert recipient(ledger).last_outcome == "voicemail"
    assert receive(rounds, Unheard(), "http", event) is Received.ALREADY_RECORDED
    assert receive(rounds, Unheard(), "twilio", event) is Received.UNKNOWN_CALL


def test_back_to_the_default_provider(ledger: str) -> None:
    admin.configure(store.database(), ledger, telephony_provider="twilio")
    workspace = admin.configure(store.database(), ledger, telephony_provider="default")
    assert workspace.telephony_provider is None
    with pytest.raises(InvalidField, match="'vonage' is not one of"):
        admin.configure(store.database(), ledger, telephony_provider="vonage")


@pytest.mark.parametrize(
    "refusal",
    [
        CallNotPlaced("twilio: throttled after 5 tries (Too Many Requests)"),
        ProviderNotConfigured("the telephony secret has no 'twilio' object"),
    ],
)
def test_a_call_not_placed_is_failed_with_the_reason(ledger: str, refusal: Exception) -> None:
    rounds = rounds_with(ScriptedProvider("simulated", refusal))
    assert dial(rounds, ledger) == "not placed"
    after = recipient(ledger)
    assert (after.status, after.last_outcome) == (RecipientStatus.FAILED, str(refusal))
    assert rounds.workflow.answers == [("token-1", {"outcome": str(refusal)})]  # type: ignore[attr-defined]


def test_an_unknown_dispatch_waits_for_reconciliation_and_is_never_redialled(
    ledger: str,
) -> None:
    provider = ScriptedProvider("simulated", DispatchUnknown("timed out"))
    rounds = rounds_with(provider)
    assert dial(rounds, ledger).startswith("dispatch unknown")
    assert recipient(ledger).status is RecipientStatus.DIALING  # the slot stays taken
    assert rounds.workflow.answers == []  # type: ignore[attr-defined]
    assert dial(rounds, ledger) == "already claimed"  # a retried Dial does not dial
    assert len(provider.requests) == 1

    provider.looked_up = DispatchUnknown("still down")
    item = {"workspace_id": ledger, "batch_id": BATCH, "part": 1, "row": 2, "attempts": 0}
    assert logic.reconcile(rounds, item) == "recorded as failed, outcome unknown"
    after = recipient(ledger)
    assert (after.status, after.last_outcome) == (RecipientStatus.FAILED, UNKNOWN_OUTCOME)


def test_a_dial_that_failed_before_claiming_is_due_again_after_a_pause(ledger: str) -> None:
    rounds = rounds_with(ScriptedProvider("simulated", "sim-1"))
    item = {"workspace_id": ledger, "batch_id": BATCH, "part": 1, "row": 2, "attempts": 0}
    # A Dial task that timed out before its Lambda claimed: nothing changes.
    for timeout in ("States.Timeout", "States.HeartbeatTimeout"):
        timed_out = item | {logic.DIAL_ERROR: {"Error": timeout}}
        assert logic.reconcile(rounds, timed_out) == "nothing to reconcile"
    due = store.attempts().earliest_due(ledger, BATCH)
    assert due is not None and due.due_at is None

    failed = item | {logic.DIAL_ERROR: {"Error": "KeyError", "Cause": "..."}}
    assert logic.reconcile(rounds, failed).startswith("the dial failed before calling")
    due = store.attempts().earliest_due(ledger, BATCH)
    assert due is not None and due.due_at == NOW + logic.DIAL_ERROR_PAUSE
    assert recipient(ledger).status is RecipientStatus.PENDING
    assert recipient(ledger).attempts == 0
