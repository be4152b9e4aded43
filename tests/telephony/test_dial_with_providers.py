"""The dial and reconciliation with each kind of provider answer (moto in-process, the
real ledger, a scripted provider): what is recorded, what is left to reconciliation,
which provider a workspace's calls go to, and events that name only the provider's id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from batch_calls.domain.batch import (
    Batch,
    BatchSettings,
    BatchStatus,
    Recipient,
    RecipientStatus,
    initial_counts,
)
from batch_calls.domain.calls import UNKNOWN_OUTCOME
from batch_calls.domain.records import SlotRef
from batch_calls.handlers import wiring
from batch_calls.logic import admin, dispatch
from batch_calls.logic.call_events import Received, receive
from batch_calls.logic.errors import InvalidField
from batch_calls.logic.notifications import Notifications
from batch_calls.logic.services import Services
from batch_calls.store.database import Database
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

    def answer(self, task_token: str, output: dict[str, Any]) -> bool:
        self.answers.append((task_token, output))
        return True

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
        database = wiring.database()
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
                active_round=1,
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


def rounds_with(*providers: ScriptedProvider, default: str = "simulated") -> Services:
    by_name = {p.name: p for p in providers}
    return Services(
        wiring.database(),
        wiring.attempts(),
        wiring.pacing(),
        None,  # type: ignore[arg-type]  # the dial and its outcomes need no bucket
        RecordingWorkflow(),  # type: ignore[arg-type]
        Unheard(),  # type: ignore[arg-type]
        lambda name: by_name[name or default],  # type: ignore[arg-type, return-value]
        Notifications(wiring.database(), Unheard(), Unheard(), Unheard()),  # type: ignore[arg-type]
        clock=lambda: NOW,
    )


def slot(workspace: str) -> SlotRef:
    return SlotRef(workspace, BATCH, 1, 0)


def dial(rounds: Services, workspace: str) -> str:
    return dispatch.dial(rounds, slot(workspace), "token-1")


def recipient(workspace: str) -> Recipient:
    return wiring.database().get_recipient(workspace, BATCH, 1, 2)


def test_the_workspaces_provider_places_the_call_with_the_rendered_prompt(ledger: str) -> None:
    default = ScriptedProvider("simulated", "sim-1")
    chosen = ScriptedProvider("http", "pc-7")
    admin.configure(wiring.database(), ledger, telephony_provider="http")
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
    admin.configure(wiring.database(), ledger, telephony_provider="twilio")
    workspace = admin.configure(wiring.database(), ledger, telephony_provider="default")
    assert workspace.telephony_provider is None
    with pytest.raises(InvalidField, match="'vonage' is not one of"):
        admin.configure(wiring.database(), ledger, telephony_provider="vonage")


@pytest.mark.parametrize(
    "refusal",
    [
        CallNotPlaced("twilio: throttled after 5 tries (Too Many Requests)"),
        ProviderNotConfigured("the telephony secret has no 'twilio' object"),
    ],
)
def test_a_call_not_placed_is_failed_with_the_reason(ledger: str, refusal: Exception) -> None:
    rounds = rounds_with(ScriptedProvider("simulated", refusal))
    with pytest.raises(dispatch.NextCall):
        dial(rounds, ledger)
    after = recipient(ledger)
    assert (after.status, after.last_outcome) == (RecipientStatus.FAILED, str(refusal))
    # The invocation's own token is not answered: the NextCall error moves the slot on.
    assert rounds.workflow.answers == []  # type: ignore[attr-defined]


def test_an_unknown_dispatch_waits_for_reconciliation_and_is_never_redialled(
    ledger: str,
) -> None:
    provider = ScriptedProvider("simulated", DispatchUnknown("timed out"))
    rounds = rounds_with(provider)
    assert dial(rounds, ledger).startswith("dispatch unknown")
    assert recipient(ledger).status is RecipientStatus.DIALING  # the slot stays taken
    assert rounds.workflow.answers == []  # type: ignore[attr-defined]
    with pytest.raises(dispatch.SlotDone):  # nobody else is waiting: no second call
        dial(rounds, ledger)
    assert len(provider.requests) == 1

    provider.looked_up = DispatchUnknown("still down")
    with pytest.raises(dispatch.NextCall, match="recorded"):
        dispatch.reconcile(rounds, slot(ledger), "token-2")
    after = recipient(ledger)
    assert (after.status, after.last_outcome) == (RecipientStatus.FAILED, UNKNOWN_OUTCOME)
    assert rounds.workflow.answers == [("token-1", {"outcome": UNKNOWN_OUTCOME})]  # type: ignore[attr-defined]
    with pytest.raises(dispatch.NextCall, match="no call"):  # nothing twice
        dispatch.reconcile(rounds, slot(ledger), "token-3")


def test_a_live_call_is_watched_again_and_its_outcome_answers_the_new_token(ledger: str) -> None:
    provider = ScriptedProvider("simulated", "sim-1", lookup=CallEvent("", None, "in-progress"))
    rounds = rounds_with(provider)
    assert dial(rounds, ledger) == "placed"
    assert dispatch.reconcile(rounds, slot(ledger), "token-2").startswith("still live")
    assert recipient(ledger).status is RecipientStatus.IN_PROGRESS  # never cut
    event = CallEvent("", Outcome.COMPLETED, "completed", provider_call_id="sim-1")
    assert receive(rounds, Unheard(), "simulated", event) is Received.RECORDED
    assert rounds.workflow.answers == [("token-2", {"outcome": "completed"})]  # type: ignore[attr-defined]
    with pytest.raises(dispatch.NextCall):  # the call ended: nothing left to reconcile
        dispatch.reconcile(rounds, slot(ledger), "token-3")
    assert len(provider.requests) == 1


def test_a_dial_that_failed_before_claiming_is_due_again_after_a_pause(
    ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds = rounds_with(ScriptedProvider("simulated", "sim-1"))

    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyError("a bug before claiming")

    monkeypatch.setattr(Database, "is_suppressed", broken)
    with pytest.raises(dispatch.NextCall):
        dial(rounds, ledger)
    due = wiring.attempts().earliest_due(ledger, BATCH)
    assert due is not None and due.due_at == NOW + dispatch.DIAL_ERROR_PAUSE
    assert recipient(ledger).status is RecipientStatus.PENDING
    assert recipient(ledger).attempts == 0
    # Nobody else is due before then: the slot naps, or ends when that is far off.
    with pytest.raises(dispatch.SlotDone):
        dial(rounds, ledger)


def test_a_slot_ends_when_the_batch_stops_or_its_run_is_not_the_current_one(
    ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds = rounds_with(ScriptedProvider("simulated", "sim-1"))
    # A slot's history stays bounded: past its share of calls it ends (the next run
    # goes on at once), and claims nobody.
    monkeypatch.setattr(dispatch, "SLOT_CALL_LIMIT", 0)
    with pytest.raises(dispatch.SlotDone, match="share of calls"):
        dial(rounds, ledger)
    monkeypatch.undo()
    with pytest.raises(dispatch.SlotDone, match="this run was stopped"):
        dispatch.dial(rounds, SlotRef(ledger, BATCH, 2, 0), "token-1")
    with pytest.raises(dispatch.SlotDone, match="concurrency was lowered"):
        dispatch.dial(rounds, SlotRef(ledger, BATCH, 1, 2), "token-1")
    assert recipient(ledger).status is RecipientStatus.PENDING
