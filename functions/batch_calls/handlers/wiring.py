"""The services each handler gets, built once per cold start from its environment."""

from functools import cache

from batch_calls import store, telephony
from batch_calls.logic.batches import Services
from batch_calls.logic.rounds import Rounds


@cache
def rounds() -> Rounds:
    return Rounds(
        store.database(), store.attempts(), store.blobs(), store.workflow(), telephony.provider
    )


@cache
def services() -> Services:
    return Services(store.database(), store.blobs(), store.load_queue(), rounds())
