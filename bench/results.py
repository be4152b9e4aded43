"""Results benchmark: the report and the analytics at 100,000 recipients.

Prints:
- report: the time to build and upload a 100,000-row report whose recipients carry the
  call facts and three post-call data fields (every row a `data.*` cell), with its
  traced peak memory and size; the recipients come one at a time as pydantic models
  made from store items, as `Database.all_recipients` yields them, so the figure is
  the writer's (logic/reports.py), not DynamoDB's;
- analytics: on the embedded runtime (moto), a batch of 100,000 recipient items whose
  analytics item holds what 100,000 recorded outcomes ADDed to it (the same
  `analytics_deltas` the product applies with each outcome); the response time of
  `GET /batch-calls/{id}/analytics` through the local API (median and slowest of
  `--requests`), checked to add up to the recipients' statuses; with `--scan`, beside it,
  the time one read of every recipient takes (what the counters avoid on each request).

Run: .venv/bin/python -m bench.results [--rows N] [--requests N]
"""

import argparse
import random
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import IO, Any

from batch_calls.domain import results
from batch_calls.domain.batch import (
    Batch,
    BatchSettings,
    BatchStatus,
    Outcome,
    Recipient,
    RecipientStatus,
    initial_counts,
)
from batch_calls.domain.results import AnsweredBy, CallFacts
from batch_calls.handlers import wiring
from batch_calls.logic import reports
from batch_calls.store.keys import ANALYTICS, batch_pk
from local import runtime
from tests.api.client import Client, multipart

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
COLUMNS = ["phone_number", "customer_name", "loan_amount"]
DATA = {"interest": "high", "appointment": "2026-12-05T10:00", "summary": "wants a call back " * 4}
FINAL = {
    Outcome.COMPLETED: RecipientStatus.COMPLETED,
    Outcome.NO_ANSWER: RecipientStatus.NO_ANSWER,
    Outcome.VOICEMAIL: RecipientStatus.VOICEMAIL,
    Outcome.BUSY: RecipientStatus.FAILED,
    Outcome.FAILED: RecipientStatus.FAILED,
}


def fate(row: int) -> tuple[Outcome, CallFacts]:
    draw = random.Random(row)
    outcome = draw.choices(list(Outcome), weights=(55, 20, 10, 10, 5))[0]
    if outcome not in results.CONNECTED:
        return outcome, CallFacts(ended_reason=outcome.value)
    human = outcome is Outcome.COMPLETED
    return outcome, CallFacts(
        duration_seconds=float(draw.randint(5, 400)),
        answered_by=AnsweredBy.HUMAN if human else AnsweredBy.MACHINE,
        ended_reason="customer-ended-call",
        recording_url=f"https://recordings.example/{row}.wav",
        transcript_url=f"https://recordings.example/{row}.txt",
        cost=0.012,
        cost_currency="USD",
        data=DATA if human else {},
    )


def recipient_item(row: int) -> dict[str, Any]:
    outcome, facts = fate(row)
    item: dict[str, Any] = {
        "part": 1,
        "row": row,
        "phone_number": f"+1415{row:07d}",
        "status": str(FINAL[outcome]),
        "variables": {"customer_name": f"Name {row}", "loan_amount": str(1000 + row)},
        "attempts": 1,
        "call_id": f"call_{row:024d}",
        "last_outcome": outcome.value,
        "last_attempt_at": NOW.isoformat(),
        "ended_reason": facts.ended_reason,
    }
    if facts.answered_by is not None:
        item |= {
            "duration_seconds": facts.duration_seconds,
            "answered_by": str(facts.answered_by),
            "recording_url": facts.recording_url,
            "transcript_url": facts.transcript_url,
            "cost": facts.cost,
            "cost_currency": facts.cost_currency,
            "data": dict(facts.data),
        }
    return item


class Recipients:
    """The report's store: recipients made one at a time from items (as the store
    does), and the analytics item's data field names."""

    def __init__(self, batch: Batch, rows: int) -> None:
        self.batch, self.rows = batch, rows

    def get_batch(self, workspace_id: str, batch_id: str) -> Batch:
        return self.batch

    def all_recipients(self, workspace_id: str, batch_id: str) -> Iterator[Recipient]:
        for row in range(2, self.rows + 2):
            yield Recipient.model_validate(recipient_item(row))

    def analytics(self, workspace_id: str, batch_id: str) -> dict[str, Any]:
        return {"data_fields": set(DATA)}


class Uploaded:
    def __init__(self) -> None:
        self.size = 0

    def put_report(self, key: str, data: IO[bytes]) -> None:
        while chunk := data.read(8 * 1024 * 1024):  # boto3's upload_fileobj reads 8 MB parts
            self.size += len(chunk)


def bench_report(rows: int) -> dict[str, float]:
    batch = Batch(
        batch_id="batch_bench",
        workspace_id="ws_bench",
        settings=BatchSettings(name="bench", agent_id="agt", from_phone_number="+14155550100"),
        status=BatchStatus.COMPLETED,
        counts={**initial_counts(0, 0), "completed": rows},
        variables=COLUMNS[1:],
        columns=COLUMNS,
        created_at=NOW,
        updated_at=NOW,
    )
    store_ = Recipients(batch, rows)
    uploaded = Uploaded()
    start, start_cpu = time.perf_counter(), time.process_time()
    reports.store_report(store_, uploaded, batch, "report.csv")  # type: ignore[arg-type]
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    # Again under tracemalloc, which slows every allocation: for the peak only.
    tracemalloc.start()
    reports.store_report(store_, Uploaded(), batch, "report.csv")  # type: ignore[arg-type]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": seconds, "cpu": cpu, "peak_mb": peak / 1e6, "size_mb": uploaded.size / 1e6}


def bench_analytics(rows: int, requests: int, *, scan: bool) -> dict[str, float]:
    with runtime.running() as local:
        client = Client(local.gateway.url, local.demo.api_key)
        form = {"agent_id": "agt_demo", "from_phone_number": "+14155550100", "start": "false"}
        body, content_type = multipart(
            form, {"file": ("c.csv", b"phone_number,customer_name\n+14155550101,A\n")}
        )
        created = client.request("POST", "/batch-calls", body=body, content_type=content_type)
        batch_id = str(created.body["id"])
        workspace_id = local.demo.workspace.workspace_id
        database = wiring.database()
        time.sleep(1)  # the draft's own recipient is loaded; then it is replaced
        start = time.perf_counter()
        counters: Counter[str] = Counter()
        statuses: Counter[str] = Counter()
        fields: set[str] = set()

        def items() -> Iterator[Recipient]:
            for row in range(2, rows + 2):
                outcome, facts = fate(row)
                deltas, names = results.analytics_deltas(
                    1, outcome, facts, NOW + timedelta(seconds=row), callback=False
                )
                counters.update(deltas)
                fields.update(names)
                statuses[str(FINAL[outcome])] += 1
                yield Recipient.model_validate(recipient_item(row))

        database.put_recipients(workspace_id, batch_id, items())
        loaded = time.perf_counter() - start
        pk = batch_pk(workspace_id, batch_id)
        table = database.table
        table.put_item(
            Item={
                "PK": pk,
                "SK": ANALYTICS,
                **{name: Decimal(str(value)) for name, value in counters.items()},
                "data_fields": fields,
                "cost_currency": "USD",
            }
        )
        counts = {**initial_counts(0, 0), **statuses}
        table.update_item(
            Key={"PK": pk, "SK": "META"},
            UpdateExpression="SET counts = :counts, #status = :completed",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":counts": counts, ":completed": "completed"},
        )
        timings = []
        for _ in range(requests):
            began = time.perf_counter()
            reply = client.request("GET", f"/batch-calls/{batch_id}/analytics")
            timings.append(time.perf_counter() - began)
            assert reply.status == 200, reply.body
        view = reply.body
        outcomes = view["outcomes"]
        adds_up = (
            view["recipients"]["total"] == rows
            and view["attempts"] == rows
            and outcomes["completed"] == counts["completed"]
            and outcomes["no_answer"] == counts["no_answer"]
            and outcomes["voicemail"] == counts["voicemail"]
            and outcomes["busy"] + outcomes["failed"] == counts["failed"]
        )
        began = time.perf_counter()
        scanned = sum(1 for _ in database.all_recipients(workspace_id, batch_id)) if scan else 0
        scanning = time.perf_counter() - began
    return {
        "median_ms": statistics.median(timings) * 1000,
        "max_ms": max(timings) * 1000,
        "load_seconds": loaded,
        "adds_up": float(adds_up),
        "scanned": scanned,
        "scan_seconds": scanning,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--scan", action="store_true", help="also time a read of everyone")
    args = parser.parse_args(argv)
    built = bench_report(args.rows)
    print(
        f"report: {args.rows} rows with call facts and 3 data.* columns built and uploaded "
        f"in {built['seconds']:.1f} s ({built['cpu']:.1f} s CPU), peak traced memory "
        f"{built['peak_mb']:.1f} MB, {built['size_mb']:.1f} MB of CSV"
    )
    figures = bench_analytics(args.rows, args.requests, scan=args.scan)
    print(
        f"analytics: {args.rows} recipients (written to moto in "
        f"{figures['load_seconds']:.0f} s); GET /analytics median {figures['median_ms']:.0f} ms, "
        f"slowest {figures['max_ms']:.0f} ms over {args.requests} requests; adds up to the "
        f"statuses: {bool(figures['adds_up'])}"
    )
    if args.scan:
        print(
            f"  one read of all {figures['scanned']:.0f} recipients instead: "
            f"{figures['scan_seconds']:.1f} s"
        )
    return 0 if figures["adds_up"] else 1


if __name__ == "__main__":
    sys.exit(main())
