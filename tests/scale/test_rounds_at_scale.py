"""Who a slot dials next among 100,000 recipients, and the counters of every transition,
without the interpreter (moto's Step Functions runs about 25 map children a second: the
workflow itself is tested with tens to hundreds of recipients in tests/orchestration).

Loading 100,000 items into moto takes about a minute; the transitions run on a second,
2,000-recipient batch (several rounds and twenty bulk-cancel transactions)."""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from batch_calls.domain.batch import (
    Batch,
    BatchSettings,
    BatchStatus,
    Outcome,
    Recipient,
    RecipientStatus,
    RetryConfig,
    initial_counts,
)
from batch_calls.domain.calls import call_id, decide
from batch_calls.domain.records import Claim, SlotRef
from batch_calls.handlers import wiring
from batch_calls.logic.dispatch import CANDIDATES
from tests.inprocess import main_table_in_process

RECIPIENTS = 100_000
TRANSITIONED = 2_000
WORKSPACE, BATCH, SMALL = "ws_scale", "batch_scale", "batch_small"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _load(batch_id: str, count: int) -> Batch:
    settings = BatchSettings(
        name="scale",
        agent_id="agt",
        from_phone_number="+14155550100",
        max_concurrent_calls=50,
        retry_config=RetryConfig(max_retries=1, retry_interval_minutes=10),
    )
    batch = Batch(
        batch_id=batch_id,
        workspace_id=WORKSPACE,
        settings=settings,
        status=BatchStatus.RUNNING,
        counts=initial_counts(count, 0),
        variables=["name"],
        loaded_parts=1,
        created_at=NOW,
        updated_at=NOW,
    )
    wiring.database().create_batch(batch)
    wiring.database().put_recipients(
        WORKSPACE,
        batch_id,
        (
            Recipient(
                part=1,
                row=row,
                phone_number=f"+1415{row:07d}",
                status=RecipientStatus.PENDING,
                variables={"name": f"n{row}"},
            )
            for row in range(2, count + 2)
        ),
    )
    return batch


@pytest.fixture
def embedded() -> Iterator[None]:
    """moto in-process: no HTTP between the test and the table (loading 100,000 items
    through the server takes five times longer)."""
    with main_table_in_process("scale"):
        yield


def test_slots_choose_in_file_order_among_100_000(embedded: None) -> None:
    _load(BATCH, RECIPIENTS)
    attempts = wiring.attempts()
    size = CANDIDATES
    first = attempts.due(WORKSPACE, BATCH, NOW, size)
    assert [r.row for r in first] == list(range(2, 2 + size))
    earliest = attempts.earliest_due(WORKSPACE, BATCH)
    assert earliest is not None and (earliest.row, earliest.due_at) == (2, None)


def _recipient_statuses(batch_id: str) -> Counter[str]:
    table = wiring.database().table
    counted: Counter[str] = Counter()
    query = {"KeyConditionExpression": "PK = :pk AND begins_with(SK, :r)"}
    values = {":pk": f"WS#{WORKSPACE}#BATCH#{batch_id}", ":r": "R#"}
    response = table.query(
        **query,
        ExpressionAttributeValues=values,
        ProjectionExpression="#s",
        ExpressionAttributeNames={"#s": "status"},
    )
    while True:
        counted.update(item["status"] for item in response["Items"])
        if "LastEvaluatedKey" not in response:
            return counted
        response = table.query(
            **query,
            ExpressionAttributeValues=values,
            ProjectionExpression="#s",
            ExpressionAttributeNames={"#s": "status"},
            ExclusiveStartKey=response["LastEvaluatedKey"],
        )


def test_counters_follow_every_transition(embedded: None) -> None:
    loaded = _load(SMALL, TRANSITIONED)
    BATCH = SMALL
    attempts = wiring.attempts()
    size = 2 * loaded.settings.max_concurrent_calls
    first = attempts.due(WORKSPACE, BATCH, NOW, size)
    assert [r.row for r in first] == list(range(2, 2 + size))

    # Claim a slot's worth; a claim beyond max_concurrent_calls is refused.
    results = [
        attempts.claim(
            WORKSPACE,
            BATCH,
            r,
            call_id=call_id(BATCH, 1, r.row, 1),
            task_token="t",
            now=NOW,
            caller_id="+14155550100",
            slot=SlotRef(WORKSPACE, BATCH, 1, index % loaded.settings.max_concurrent_calls),
            watch_until=NOW + timedelta(minutes=7),
            workspace_limit=1000,
            slot_limit=1000,
        )
        for index, r in enumerate(first)
    ]
    claimed = [r for r, result in zip(first, results, strict=True) if result is Claim.CLAIMED]
    assert len(claimed) == loaded.settings.max_concurrent_calls
    assert set(results) == {Claim.CLAIMED, Claim.BATCH_REFUSED}
    # A recipient claimed already is refused as moved, whatever the batch says.
    again = attempts.claim(
        WORKSPACE,
        BATCH,
        claimed[0],
        call_id=call_id(BATCH, 1, claimed[0].row, 1),
        task_token="t",
        now=NOW,
        caller_id="+14155550100",
        slot=SlotRef(WORKSPACE, BATCH, 1, 0),
        watch_until=NOW,
        workspace_limit=1000,
        slot_limit=1000,
    )
    assert again is not Claim.CLAIMED
    # Each claimed call is watched until its watch runs out, then found by the sweep.
    assert attempts.unwatched(NOW, 1000) == []
    assert len(attempts.unwatched(NOW + timedelta(minutes=8), 1000)) == len(claimed)
    second = attempts.due(WORKSPACE, BATCH, NOW, size)
    assert second[0].row == claimed[-1].row + 1  # the claimed left the due index

    # Half complete, half get no answer and wait 10 minutes for their retry.
    for index, recipient in enumerate(claimed):
        call = attempts.call(call_id(BATCH, 1, recipient.row, 1))
        assert call is not None
        outcome = Outcome.COMPLETED if index % 2 else Outcome.NO_ANSWER
        decision = decide(outcome, 1, loaded.settings.retry_config, NOW)
        assert attempts.record_outcome(call, str(outcome), decision, NOW, cancelled=False)
        assert not attempts.record_outcome(call, str(outcome), decision, NOW, cancelled=False)
    assert attempts.unwatched(NOW + timedelta(minutes=8), 1000) == []  # recorded: not watched
    assert attempts.earliest_due(WORKSPACE, BATCH) is not None
    retries_due_later = attempts.due(WORKSPACE, BATCH, NOW + timedelta(minutes=10), TRANSITIONED)
    waiting = {r.row for r in retries_due_later if r.attempts == 1}
    assert len(waiting) == len(claimed) // 2
    assert not {r.row for r in attempts.due(WORKSPACE, BATCH, NOW, TRANSITIONED) if r.attempts == 1}

    # Cancel everyone still waiting (pending and waiting_retry), in bulk transactions.
    cancelled = attempts.cancel_waiting(WORKSPACE, BATCH, attempts.waiting(WORKSPACE, BATCH))
    assert cancelled == TRANSITIONED - len(claimed) // 2

    batch = wiring.database().get_batch(WORKSPACE, BATCH)
    assert batch is not None
    statuses = _recipient_statuses(BATCH)
    assert sum(statuses.values()) == TRANSITIONED
    expected = {"completed": statuses["completed"], "cancelled": statuses["cancelled"]}
    assert {k: v for k, v in batch.counts.items() if v} == expected
    assert batch.counts["cancelled"] == cancelled
