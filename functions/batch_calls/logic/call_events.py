"""A verified provider event about one of our calls, whichever way it came (a signed
webhook, or an EventBridge event through a queue): find the call, then record the
outcome (first) and release the waiting Dial task (then), or note that it is alive. A
person who asked not to be called again joins the workspace's suppression list.

Each event that says when it happened is measured: CallbackLatency, the milliseconds
from then to its processing here."""

from datetime import datetime
from enum import StrEnum

from batch_calls import monitoring
from batch_calls.logic import rounds as logic
from batch_calls.logic import suppression
from batch_calls.logic.ports import LoadQueue
from batch_calls.logic.services import Services
from batch_calls.telephony.base import CallEvent


class Received(StrEnum):
    UNKNOWN_CALL = "unknown_call"  # no call of ours has this id (yet)
    ALIVE = "alive"  # a progress event: the Dial task's heartbeat
    RECORDED = "recorded"
    ALREADY_RECORDED = "already_recorded"  # a repeated or late event: nothing changes


def receive(services: Services, load_queue: LoadQueue, provider: str, event: CallEvent) -> Received:
    if event.occurred_at is not None:
        monitoring.milliseconds(
            monitoring.CALLBACK_LATENCY, latency_ms(event.occurred_at, services.clock())
        )
    if event.call_id:
        call = services.attempts.call(event.call_id)
    elif event.provider_call_id:
        call = services.attempts.call_by_provider_id(provider, event.provider_call_id)
    else:
        call = None
    if call is None:
        return Received.UNKNOWN_CALL
    if event.opted_out:
        recipient = services.database.get_recipient(
            call.workspace_id, call.batch_id, call.part, call.row
        )
        suppression.suppress_opted_out(
            services, load_queue, call.workspace_id, recipient.phone_number
        )
    if event.outcome is None:
        if call.task_token and call.outcome is None:
            services.workflow.heartbeat(call.task_token)
        return Received.ALIVE
    recorded = logic.record(services, call, event.outcome, facts=event.facts())
    return Received.RECORDED if recorded else Received.ALREADY_RECORDED


def latency_ms(occurred_at: datetime, now: datetime) -> float:
    """Milliseconds from the event to now; 0 for an event stamped in our future (the
    provider's clock is ahead of ours), which would only drag the average down."""
    return max((now - occurred_at).total_seconds() * 1000, 0.0)
