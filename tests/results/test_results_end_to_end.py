"""One batch through the whole product (local runtime, real workflow, simulated calls)
ending with every final status: its report, its EventBridge events (read through a rule
that targets an SQS queue), and its signed webhooks to a receiver that fails each
delivery once before taking it."""

import csv
import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from batch_calls.domain.report_keys import final_report_key
from batch_calls.handlers import wiring
from batch_calls.logic import reports
from batch_calls.telephony.base import InvalidSignature
from batch_calls.telephony.signing import verify
from cli.report import save_report
from local import runtime
from tests.api.client import Client, multipart
from tests.results.receiver import Receiver, receiving

CSV = (
    "customer_name,phone_number,notes,sim_outcomes,sim_duration_seconds\n"
    "=1+1,+14155551001,plain,completed,0.3\n"
    "@SUM(A1),+14155551002,-5,no_answer,0.3\n"
    "Vera,+14155551003,+cmd,voicemail,0.3\n"
    "Fay,+14155551004,,failed,0.3\n"
    "Bea,+14155551005,,busy,0.3\n"
    "Ivan,12ab,,completed,0.3\n"
    "Dup,+14155551001,,completed,0.3\n"
)
# no_answer is final at once; busy waits ten minutes for its retry, and the batch is
# cancelled meanwhile.
RETRY = {"max_retries": 1, "retry_on_no_answer": False, "busy_wait_minutes": 10}


@dataclass
class Run:
    local: runtime.LocalRuntime
    client: Client
    batch_id: str  # ends cancelled, with every final status
    completed_id: str  # two calls, completed
    receiver: Receiver
    events: list[dict[str, Any]]
    report_while_waiting: str


def wait_until(probe: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout} s")
        time.sleep(0.25)
    return value


def capture_events(local: runtime.LocalRuntime) -> Callable[[], list[dict[str, Any]]]:
    """A rule on the project's bus sending every event to a queue; returns a reader."""
    sqs, events = local.aws.client("sqs"), local.aws.client("events")
    queue_url = sqs.create_queue(QueueName="captured-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = wiring.event_bus().bus_name
    events.put_rule(
        Name="capture", EventBusName=bus, EventPattern=json.dumps({"source": ["batch-calls"]})
    )
    events.put_targets(Rule="capture", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    seen: list[dict[str, Any]] = []

    def read() -> list[dict[str, Any]]:
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            seen.extend(json.loads(m["Body"]) for m in messages)
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
        return seen

    return read


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    with (
        runtime.running() as local,
        receiving(failures_per_event=1) as receiver,
    ):
        read_events = capture_events(local)
        client = Client(local.gateway.url, local.demo.api_key)
        completed_id = create(
            client,
            "customer_name,phone_number,sim_outcomes,sim_duration_seconds\n"
            "Ann,+14155552001,completed,0.3\nBen,+14155552002,completed,0.3\n",
            webhooks=json.dumps({"on_batch_complete": receiver.url + "/batches"}),
            start="false",
            scheduled_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        )
        # Through every lifecycle action: draft -> scheduled -> paused -> running, then it
        # completes on its own.
        for action in ("start", "pause"):
            assert client.request("POST", f"/batch-calls/{completed_id}/{action}").status == 200
        now = {"scheduled_at": datetime.now(UTC).isoformat()}
        assert client.request("PATCH", f"/batch-calls/{completed_id}", json_body=now).status == 200
        assert client.request("POST", f"/batch-calls/{completed_id}/resume").status == 200
        batch_id = create(
            client,
            CSV,
            on_invalid_rows="skip",
            max_concurrent_calls="5",
            retry_config=json.dumps(RETRY),
            webhooks=json.dumps(
                {
                    "on_call_complete": receiver.url + "/calls",
                    "on_batch_complete": receiver.url + "/batches",
                }
            ),
        )

        def counts() -> dict[str, int]:
            return dict(client.request("GET", f"/batch-calls/{batch_id}").body["counts"])

        wait_until(
            lambda: counts()["in_progress"] == 0 and counts()["voicemail"] == 1
            and counts()["failed"] == 1 and counts()["completed"] == 1
            and counts()["no_answer"] == 1,
            "four calls ended",
        )  # fmt: skip
        waiting = client.request("GET", f"/batch-calls/{batch_id}/report").body
        assert client.request("POST", f"/batch-calls/{batch_id}/cancel").status == 200
        wait_until(lambda: counts()["cancelled"] == 1, "cancellation")
        # Five call webhooks and two batches', each failed once and retried after 5 s.
        wait_until(lambda: len(receiver.delivered()) == 7, "webhooks delivered", timeout=60)
        wait_until(
            lambda: len([e for e in read_events() if e["detail"]["batch_id"] == batch_id]) >= 8,
            "events",
        )
        time.sleep(1)  # anything sent twice would have arrived by now
        yield Run(local, client, batch_id, completed_id, receiver, read_events(), str(waiting))


def create(client: Client, csv_text: str, **fields: str) -> str:
    form = {"agent_id": "agt_demo", "from_phone_number": "+14155550100", **fields}
    body, content_type = multipart(form, {"file": ("contacts.csv", csv_text.encode())})
    created = client.request("POST", "/batch-calls", body=body, content_type=content_type)
    assert created.status == 201, created.body
    return str(created.body["id"])


def report_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


EXPECTED_REPORT = [
    ["customer_name", "phone_number", "notes", "sim_outcomes", "sim_duration_seconds",
     "final_status", "attempts_made", "call_id", "last_outcome", "last_attempt_at",
     "skip_reason", "duration_seconds", "answered_by", "ended_reason", "recording_url",
     "transcript_url"],
    ["'=1+1", "'+14155551001", "plain", "completed", "0.3", "completed", "1"],
    ["'@SUM(A1)", "'+14155551002", "'-5", "no_answer", "0.3", "no_answer", "1"],
    ["Vera", "'+14155551003", "'+cmd", "voicemail", "0.3", "voicemail", "1"],
    ["Fay", "'+14155551004", "", "failed", "0.3", "failed", "1"],
    ["Bea", "'+14155551005", "", "busy", "0.3", "cancelled", "1"],
    ["Ivan", "12ab", "", "completed", "0.3", "skipped", "0"],
    ["Dup", "'+14155551001", "", "completed", "0.3", "skipped", "0"],
]  # fmt: skip


def test_the_report_has_every_row_and_final_status(run: Run) -> None:
    reply = run.client.request("GET", f"/batch-calls/{run.batch_id}/report")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert f'filename="{run.batch_id}-report.csv"' in reply.headers["content-disposition"]
    rows = report_rows(reply.body)
    assert rows[0] == EXPECTED_REPORT[0]
    assert [row[:7] for row in rows[1:]] == EXPECTED_REPORT[1:]
    by_name = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    for name in ("'=1+1", "'@SUM(A1)", "Vera", "Fay", "Bea"):
        assert by_name[name]["call_id"].startswith("call_")
        assert by_name[name]["last_attempt_at"].endswith("Z")
    assert by_name["Bea"]["last_outcome"] == "busy"
    assert by_name["Fay"]["last_outcome"] == "failed"
    assert by_name["Ivan"]["skip_reason"] == "invalid_phone_number"
    assert by_name["Dup"]["skip_reason"] == "duplicate_phone_number"
    assert by_name["Ivan"]["call_id"] == by_name["Ivan"]["last_outcome"] == ""


def test_a_running_batchs_report_shows_where_each_row_stands(run: Run) -> None:
    rows = report_rows(run.report_while_waiting)
    assert [row[5] for row in rows[1:]] == [
        "completed",
        "no_answer",
        "voicemail",
        "failed",
        "waiting_retry",
        "skipped",
        "skipped",
    ]


def test_each_lifecycle_action_and_completion_is_one_event_and_the_report_is_stored(
    run: Run,
) -> None:
    changes = [
        event["detail"]
        for event in run.events
        if event["detail-type"] == "Batch Status Changed"
        and event["detail"]["batch_id"] == run.completed_id
    ]
    assert [(c["previous_status"], c["status"]) for c in changes] == [
        (None, "draft"),
        ("draft", "scheduled"),
        ("scheduled", "paused"),
        ("paused", "running"),  # the round that starts then finds it running: no event
        ("running", "completed"),
    ]
    assert changes[-1]["counts"]["completed"] == 2
    key = final_report_key(run.local.demo.workspace.workspace_id, run.completed_id)
    wait_until(lambda: wiring.blobs().report_size(key), "the stored report")
    rows = report_rows(wiring.blobs().get_report(key).decode("utf-8-sig"))
    assert [(row[0], row[4]) for row in rows[1:]] == [("Ann", "completed"), ("Ben", "completed")]


def test_the_settled_report_is_stored_next_to_the_upload(run: Run) -> None:
    key = final_report_key(run.local.demo.workspace.workspace_id, run.batch_id)
    stored = wiring.blobs().get_report(key).decode("utf-8-sig")
    served = run.client.request("GET", f"/batch-calls/{run.batch_id}/report").body
    assert report_rows(stored) == report_rows(served)


def test_a_large_report_is_a_redirect_to_s3_that_the_cli_follows(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    inline = report_rows(run.client.request("GET", f"/batch-calls/{run.batch_id}/report").body)
    monkeypatch.setattr(reports, "INLINE_LIMIT_BYTES", 10)
    reply = run.client.request("GET", f"/batch-calls/{run.batch_id}/report", follow_redirects=False)
    assert reply.status == 303
    assert reply.headers["location"].startswith(run.local.aws.endpoint_url)
    saved = tmp_path / "report.csv"
    assert save_report(run.local.gateway.url, run.local.demo.api_key, run.batch_id, saved) == 0
    assert report_rows(saved.read_text(encoding="utf-8")) == inline


def test_a_report_without_a_key_or_of_no_batch_is_refused(
    run: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = Client(run.local.gateway.url, "bck_not-a-key")
    assert other.request("GET", f"/batch-calls/{run.batch_id}/report").status in {401, 403}
    missing = run.client.request("GET", "/batch-calls/batch_missing/report")
    assert missing.status == 404
    assert missing.body["error"] == "not_found"
    saved = tmp_path / "missing.csv"
    api, key = run.local.gateway.url, run.local.demo.api_key
    assert save_report(api, key, "batch_missing", saved) == 1
    assert not saved.exists() and not list(tmp_path.iterdir())
    assert "404: there is no batch batch_missing" in capsys.readouterr().err


def batch_events(run: Run, detail_type: str) -> list[dict[str, Any]]:
    return [
        event["detail"]
        for event in run.events
        if event["detail-type"] == detail_type and event["detail"]["batch_id"] == run.batch_id
    ]


def test_each_status_change_is_one_event(run: Run) -> None:
    changes = batch_events(run, "Batch Status Changed")
    assert [(c["previous_status"], c["status"]) for c in changes] == [
        (None, "initiated"),
        ("initiated", "running"),
        ("running", "cancelled"),
    ]
    assert len({c["event_id"] for c in changes}) == 3
    assert changes[-1]["counts"]["cancelled"] == 0  # the cancel job runs after the change
    assert changes[-1]["links"]["report"] == f"/batch-calls/{run.batch_id}/report"


def test_each_ended_call_is_one_event(run: Run) -> None:
    ended = batch_events(run, "Call Completed")
    simulated = Client(run.local.gateway.url, None).request(
        "GET", f"/_local/simulator/calls?batch_id={run.batch_id}"
    )
    assert sorted(e["call_id"] for e in ended) == sorted(
        c["call_id"] for c in simulated.body["data"]
    )
    assert len({e["event_id"] for e in ended}) == len(ended) == 5
    by_outcome = {e["outcome"]: e for e in ended}
    assert by_outcome["busy"]["recipient_status"] == "waiting_retry"
    assert by_outcome["busy"]["final"] is False
    assert by_outcome["busy"]["next_attempt_at"] is not None
    assert by_outcome["voicemail"]["final"] is True
    assert by_outcome["voicemail"]["variables"]["customer_name"] == "Vera"
    assert by_outcome["completed"]["phone_number"] == "+14155551001"


def test_webhooks_are_signed_retried_after_a_failure_and_carry_the_event_id(run: Run) -> None:
    secret = (run.local.demo.workspace.webhook_secret or "").encode()
    delivered = run.receiver.delivered()
    assert sorted(r.path for r in delivered) == ["/batches"] * 2 + ["/calls"] * 5
    for received in delivered:
        verify(received.headers, received.body, secret, time.time())
        with pytest.raises(InvalidSignature):
            verify(received.headers, received.body, b"another secret", time.time())
        body = json.loads(received.body)
        assert body["id"] == received.headers["x-event-id"] == body["data"]["event_id"]
        assert received.headers["x-delivery-attempt"] == "2"  # the first got a 500
        failed = [
            r
            for r in run.receiver.received
            if r.answered == 500 and r.headers["x-event-id"] == body["id"]
        ]
        assert len(failed) == 1 and failed[0].body == received.body
    batch_hooks = {
        json.loads(r.body)["data"]["batch_id"]: json.loads(r.body)
        for r in delivered
        if r.path == "/batches"
    }
    assert batch_hooks[run.batch_id]["type"] == "batch.cancelled"
    assert batch_hooks[run.completed_id]["type"] == "batch.completed"
    assert batch_hooks[run.completed_id]["data"]["status"] == "completed"
    call_ids = {json.loads(r.body)["data"]["call_id"] for r in delivered if r.path == "/calls"}
    assert call_ids == {e["call_id"] for e in batch_events(run, "Call Completed")}


def test_webhook_urls_are_checked_at_create(run: Run) -> None:
    draft = {
        "agentId": "agt_demo",
        "fromPhoneNumber": "+14155550100",
        "start": False,
        "contacts": [{"phoneNumber": "+14155551009", "customer_name": "Kim"}],
    }
    hooks = {"onCallComplete": "https://crm.example/hooks/call"}
    created = run.client.request(
        "POST", "/batch-calls", json_body={**draft, "options": {"webhooks": hooks}}
    )
    assert created.status == 201, created.body
    assert created.body["webhooks"] == {
        "on_call_complete": "https://crm.example/hooks/call",
        "on_batch_complete": None,
    }
    for url in ("http://crm.example/hook", "ftp://crm.example", "not a url"):
        bad = {"webhooks": {"on_batch_complete": url}}
        reply = run.client.request("POST", "/batch-calls", json_body={**draft, **bad})
        assert reply.status == 400, (url, reply.body)
        assert reply.body["field"] == "webhooks.on_batch_complete"
    form = {
        "agent_id": "agt_demo",
        "from_phone_number": "+14155550100",
        "webhooks": '{"on_call_complete": "http://x.example"}',
    }
    body, content_type = multipart(form, {"file": ("c.csv", CSV.encode())})
    reply = run.client.request("POST", "/batch-calls", body=body, content_type=content_type)
    assert reply.status == 400
    assert "https" in reply.body["message"]
