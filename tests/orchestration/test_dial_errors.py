"""A Dial that raises an unexpected error (a bug, a store error after the SDK's retries)
neither stops its round nor dials anyone twice: the Dial task's catch-all reconciles it
and the round still finishes (statemachines/batch_round.asl.json, docs/decisions.md)."""

from collections import Counter

import pytest

from batch_calls.telephony.base import CallRequest, PlacedCall
from batch_calls.telephony.simulated import SimulatedProvider
from tests.orchestration.conftest import Product, contacts

# The embedded runtime runs every Lambda in this process, so patching the simulated
# provider here makes the real Dial function raise for these numbers.
BEFORE_PLACING = "+14155557001"  # raises before the provider is asked
AFTER_PLACING = "+14155557002"  # raises once the provider has placed the call


def test_a_dial_that_raises_does_not_stop_the_round_nor_dial_twice(
    product: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    requested: Counter[tuple[str, int]] = Counter()
    place_call = SimulatedProvider.place_call

    def place_or_raise(self: SimulatedProvider, request: CallRequest) -> PlacedCall:
        requested[(request.to, request.attempt)] += 1
        if request.to == BEFORE_PLACING:
            raise RuntimeError("a bug before the provider is asked")
        placed = place_call(self, request)
        if request.to == AFTER_PLACING:
            raise RuntimeError("a bug after the provider placed the call")
        return placed

    monkeypatch.setattr(SimulatedProvider, "place_call", place_or_raise)
    batch_id = product.create(contacts(6, duration=0.3, first=7001), max_concurrent_calls="2")
    product.wait_for(batch_id, "completed", timeout=60)

    assert set(requested.values()) == {1}  # each attempt asked of the provider once
    by_number = {r["phone_number"]: r for r in product.recipients(batch_id)}
    # Claimed but never placed: the provider has no record, so it is failed, unknown.
    failed = by_number.pop(BEFORE_PLACING)
    assert (failed["status"], failed["last_outcome"], failed["attempts_made"]) == (
        "failed",
        "unknown",
        1,
    )
    # Placed: reconciliation finds it live and its callback records how it ended.
    assert {r["status"] for r in by_number.values()} == {"completed"}
    calls = Counter(c["to"] for c in product.calls(batch_id))
    assert calls == dict.fromkeys(by_number, 1)
    product.assert_counters_match_recipients(batch_id)
