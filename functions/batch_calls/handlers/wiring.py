"""The services each handler gets, built once per cold start from its environment."""

from functools import cache

from batch_calls import store, telephony
from batch_calls.logic.batches import Services
from batch_calls.logic.notifications import Notifications
from batch_calls.logic.rounds import Rounds


@cache
def rounds() -> Rounds:
    notifications = Notifications(
        store.database(), store.event_bus(), store.webhook_queue(), store.load_queue()
    )
    return Rounds(
        store.database(),
        store.attempts(),
        store.blobs(),
        store.workflow(),
        telephony.provider,
        notifications,
    )


@cache
def services() -> Services:
    return Services(store.database(), store.blobs(), store.load_queue(), rounds())
