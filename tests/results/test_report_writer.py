"""The report's CSV (logic/reports.py) without AWS: columns, order, values, formula
neutralisation, and a 100,000-row report built and uploaded in bounded memory."""

import csv
import io
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from batch_calls.domain.batch import (
    Batch,
    BatchSettings,
    BatchStatus,
    Recipient,
    RecipientStatus,
    initial_counts,
)
from batch_calls.logic import reports

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
COLUMNS = ["customer_name", "phone_number", "notes"]


def recipient(row: int, status: RecipientStatus, **fields: Any) -> Recipient:
    values = {
        "part": 1,
        "row": row,
        "phone_number": f"+1415555{row:04d}",
        "status": status,
        "variables": {"customer_name": f"Name {row}", "notes": ""},
        **fields,
    }
    return Recipient.model_validate(values)


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_original_columns_in_file_order_then_the_results() -> None:
    out = io.StringIO()
    rows = [
        recipient(
            2,
            RecipientStatus.COMPLETED,
            attempts=2,
            call_id="call_a",
            last_outcome="completed",
            last_attempt_at=NOW,
        ),
        recipient(3, RecipientStatus.FAILED, attempts=3, call_id="call_b", last_outcome="busy"),
        recipient(
            4,
            RecipientStatus.SKIPPED,
            phone_number="12ab",
            skip_reason="invalid_phone_number",
        ),
        recipient(5, RecipientStatus.CANCELLED, attempts=1, last_outcome="no_answer"),
    ]
    assert reports.write_csv(COLUMNS, rows, out) == 4
    header, *body = read(out.getvalue())
    assert header == [*COLUMNS, *reports.RESULT_COLUMNS]
    no_facts = ["", "", "", "", ""]
    assert body == [
        ["Name 2", "'+14155550002", "", "completed", "2", "call_a", "completed",
         "2026-11-22T12:00:00.000Z", "", *no_facts],
        ["Name 3", "'+14155550003", "", "failed", "3", "call_b", "busy", "", "", *no_facts],
        ["Name 4", "12ab", "", "skipped", "0", "", "", "", "invalid_phone_number", *no_facts],
        ["Name 5", "'+14155550005", "", "cancelled", "1", "", "no_answer", "", "", *no_facts],
    ]  # fmt: skip


def test_call_facts_then_one_column_per_post_call_data_field() -> None:
    out = io.StringIO()
    rows = [
        recipient(
            2,
            RecipientStatus.COMPLETED,
            attempts=1,
            duration_seconds=73.5,
            answered_by="human",
            ended_reason="customer-ended-call",
            recording_url="https://rec.example/2.wav",
            transcript_url="https://rec.example/2.txt",
            data={"interest": "high", "summary": "=wants a call", "appointment": "Fri 10:00"},
        ),
        recipient(3, RecipientStatus.NO_ANSWER, attempts=2, ended_reason="no-answer"),
    ]
    reports.write_csv(COLUMNS, rows, out, ["appointment", "interest", "summary"])
    header, first, second = read(out.getvalue())
    assert header[len(COLUMNS) + 6 :] == [
        "duration_seconds", "answered_by", "ended_reason", "recording_url", "transcript_url",
        "data.appointment", "data.interest", "data.summary",
    ]  # fmt: skip
    assert first[len(COLUMNS) + 6 :] == [
        "73.5", "human", "customer-ended-call", "https://rec.example/2.wav",
        "https://rec.example/2.txt", "Fri 10:00", "high", "'=wants a call",
    ]  # fmt: skip
    assert second[len(COLUMNS) + 6 :] == ["", "", "no-answer", "", "", "", "", ""]


def test_cells_a_spreadsheet_would_run_are_neutralised() -> None:
    dangerous = ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx"]
    for value in dangerous:
        assert reports.neutralised(value) == "'" + value
    for harmless in ["", "Plain", "a=b", "1-2", "'quoted"]:
        assert reports.neutralised(harmless) == harmless
    out = io.StringIO()
    row = recipient(2, RecipientStatus.COMPLETED, variables={"customer_name": "=HYPERLINK(1)"})
    reports.write_csv(["=header", "customer_name"], [row], out)
    header, values = read(out.getvalue())
    assert header[0] == "'=header"
    assert values[1] == "'=HYPERLINK(1)"


def test_a_column_a_row_lacks_is_empty() -> None:
    """A staged batch's files may have different columns."""
    out = io.StringIO()
    row = recipient(2, RecipientStatus.COMPLETED, variables={"customer_name": "A"})
    reports.write_csv(COLUMNS, [row], out)
    assert read(out.getvalue())[1][:3] == ["A", "'+14155550002", ""]


# -- 100,000 rows ------------------------------------------------------------------------

ROWS = 100_000
NOTE = "x" * 200  # about 300 bytes a row: the report is ~30 MB


@dataclass(frozen=True)
class Row:
    """What the report reads of a recipient, cheaper to make than the pydantic model (the
    test measures the writer, not the store's model)."""

    row: int
    phone_number: str
    variables: dict[str, str]
    status: RecipientStatus = RecipientStatus.COMPLETED
    attempts: int = 1
    call_id: str | None = "call_x"
    last_outcome: str | None = "completed"
    last_attempt_at: datetime | None = NOW
    skip_reason: str | None = None
    duration_seconds: float | None = 61.0
    answered_by: str | None = "human"
    ended_reason: str | None = "customer-ended-call"
    recording_url: str | None = "https://recordings.example/call_x.wav"
    transcript_url: str | None = "https://recordings.example/call_x.txt"
    data: dict[str, str] | None = None


DATA = {"interest": "high", "appointment": "2026-12-05T10:00", "summary": "y" * 80}


class FakeDatabase:
    """Recipients made one at a time, as the store pages through DynamoDB."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch

    def get_batch(self, workspace_id: str, batch_id: str) -> Batch:
        return self.batch

    def all_recipients(self, workspace_id: str, batch_id: str) -> Iterator[Row]:
        for row in range(2, ROWS + 2):
            variables = {"customer_name": f"Name {row}", "notes": NOTE}
            yield Row(row, f"+1415{row:07d}", variables, data=DATA)

    def analytics(self, workspace_id: str, batch_id: str) -> dict[str, Any]:
        return {"data_fields": set(DATA)}


class FakeBlobs:
    """Reads what is uploaded in chunks, as boto3's upload_fileobj does."""

    def __init__(self) -> None:
        self.uploaded: dict[str, int] = {}
        self.lines = 0
        self.header = b""

    def report_size(self, key: str) -> int | None:
        return self.uploaded.get(key)

    def put_report(self, key: str, data: IO[bytes]) -> None:
        size = 0
        while chunk := data.read(1024 * 1024):
            self.header = self.header or chunk.split(b"\r\n", 1)[0]
            size += len(chunk)
            self.lines += chunk.count(b"\n")
        self.uploaded[key] = size

    def report_url(self, key: str, filename: str, expires_in: int) -> str:
        return f"https://bucket.example/{key}?filename={filename}"


def test_a_100000_row_report_with_post_call_data_is_uploaded_in_bounded_memory() -> None:
    batch = Batch(
        batch_id="batch_big",
        workspace_id="ws_big",
        settings=BatchSettings(name="big", agent_id="agt", from_phone_number="+14155550100"),
        status=BatchStatus.COMPLETED,
        counts={**initial_counts(0, 0), "completed": ROWS},
        variables=["customer_name", "notes"],
        columns=COLUMNS,
        created_at=NOW,
        updated_at=NOW,
    )
    blobs = FakeBlobs()
    tracemalloc.start()
    try:
        report = reports.report(FakeDatabase(batch), blobs, "ws_big", "batch_big")  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (size,) = blobs.uploaded.values()
    assert blobs.lines == ROWS + 1
    assert blobs.header.endswith(b",data.appointment,data.interest,data.summary")
    assert size > 25 * 1024 * 1024
    assert report.url is not None and report.body is None  # too large to answer inline
    # The spooled file keeps at most SPOOL_BYTES in memory (then disk); S3 reads chunks
    # (boto3: 8 MB, here 1 MB).
    print(f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB report")
    assert peak < reports.SPOOL_BYTES + 4 * 1024 * 1024 < size
