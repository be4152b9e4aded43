"""`batch-calls smoke`: is this deployment working? A team's first command after `cdk deploy`.

Against the API at --api-url with --api-key (the key of a workspace made by `batch-calls
admin create-smoke-workspace`, whose calls are simulated: nobody is called), or with
--local against a fresh embedded runtime: creates a small batch whose calls are scripted
(an answer, a retry that succeeds, a retry that does not, a voicemail, a failure),
follows it to `completed`, reads its recipients, downloads the report and checks that
each recipient ended as scripted and the report says the same. Prints each check with
PASS or FAIL and what failed; exits 0 when all pass, 1 otherwise.
"""

import argparse
import csv
import io
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from batch_calls.handlers import wiring
from batch_calls.logic.admin import SMOKE_AGENT, SMOKE_NUMBER
from cli.common import EXIT_OK, EXIT_REJECTED, UsageError
from cli.http_client import Reply, download, multipart, send

# Each row: its number, the outcomes the simulator plays per attempt, and what the
# recipient must end as (status, attempts) with one retry allowed.
SCRIPT = (
    ("+14155550101", "completed", "completed", 1),
    ("+14155550102", "no_answer,completed", "completed", 2),
    ("+14155550103", "no_answer,no_answer", "no_answer", 2),
    ("+14155550104", "voicemail", "voicemail", 1),
    ("+14155550105", "failed", "failed", 1),
)
RETRY_CONFIG = {
    "max_retries": 1,
    "retry_interval_minutes": 0.05,
    "retry_on_no_answer": True,
    "retry_on_voicemail": False,
    "retry_on_failed": False,
}
DEFAULT_TIMEOUT_SECONDS = 300
POLL_SECONDS = 2.0


def register(commands: Any) -> None:
    smoke = commands.add_parser(
        "smoke", help="check a deployment end to end with simulated calls", description=__doc__
    )
    target = smoke.add_mutually_exclusive_group()
    target.add_argument("--api-url", help="the stack output ApiUrl (default: $API_URL)")
    target.add_argument(
        "--local", action="store_true", help="against a fresh embedded runtime (no AWS)"
    )
    smoke.add_argument("--api-key", help="a smoke workspace's key (default: $API_KEY)")
    smoke.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help=f"seconds to wait for the batch to complete (default {DEFAULT_TIMEOUT_SECONDS})",
    )
    smoke.set_defaults(run=_smoke)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str = ""


def _smoke(args: argparse.Namespace) -> int:
    with _target(args) as (api_url, api_key):
        print(f"smoke test of {api_url}")
        checks = []
        for check in run(api_url, api_key, args.timeout):
            checks.append(check)
            mark = "PASS" if check.passed else "FAIL"
            detail = f": {check.detail}" if check.detail and not check.passed else ""
            print(f"  {mark}  {check.name}{detail}")
    failed = [check for check in checks if not check.passed]
    print(f"smoke test {'FAILED' if failed else 'passed'}: {len(checks) - len(failed)} of "
          f"{len(checks)} checks passed")  # fmt: skip
    return EXIT_REJECTED if failed else EXIT_OK


@contextmanager
def _target(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    if args.local:
        from batch_calls.logic import admin
        from local import runtime

        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        with runtime.running() as local:
            smoke = admin.create_smoke_workspace(wiring.database())
            yield local.gateway.url, smoke.api_key
        return
    api_url = args.api_url or os.environ.get("API_URL")
    api_key = args.api_key or os.environ.get("API_KEY")
    if not api_url or not api_key:
        raise UsageError(
            "which deployment? pass --api-url (the stack output ApiUrl) and --api-key (from "
            "`batch-calls admin create-smoke-workspace`), or --local"
        )
    yield api_url.rstrip("/"), api_key


def run(api_url: str, api_key: str, timeout: float) -> Iterator[Check]:
    """The checks, in order; after a failed one that the rest depend on, none follow."""
    headers = {"x-api-key": api_key}
    reply = _get(f"{api_url}/batch-calls?limit=1", headers)
    yield _expect(reply, 200, "the API answers and takes the key")
    if reply.status != 200:
        return
    created = _create(api_url, headers)
    yield _expect(created, 201, "POST /batch-calls creates a batch of simulated calls")
    if created.status != 201:
        return
    batch_id = created.body["id"]
    batch = _follow(api_url, headers, batch_id, timeout)
    yield Check(
        f"batch {batch_id} completes",
        batch.get("status") == "completed",
        f"still {batch.get('status')} after {timeout:.0f} s, counts {batch.get('counts')}",
    )
    if batch.get("status") != "completed":
        return
    expected = Counter(status for _, _, status, _ in SCRIPT)
    counts = {status: batch["counts"].get(status, 0) for status in expected}
    yield Check(
        "its counts add up to the scripted outcomes",
        counts == dict(expected) and batch["counts"]["total"] == len(SCRIPT),
        f"expected {dict(expected)}, got {batch['counts']}",
    )
    recipients = _get(f"{api_url}/batch-calls/{batch_id}/recipients?limit=100", headers)
    ended = {r["phone_number"]: (r["status"], r["attempts_made"]) for r in _data(recipients)}
    scripted = {number: (status, attempts) for number, _, status, attempts in SCRIPT}
    yield Check(
        "each recipient ended as scripted, retries included",
        ended == scripted,
        f"expected {scripted}, got {ended}",
    )
    report = _report(api_url, headers, batch_id)
    yield Check(
        "the report has a row per recipient with its final status",
        report == {number: status for number, (status, _) in scripted.items()},
        f"got {report}",
    )


def _create(api_url: str, headers: dict[str, str]) -> Reply:
    rows = "".join(f'{number},Smoke {n},"{outcomes}",0.5\n' for n, (number, outcomes, *_) in
                   enumerate(SCRIPT, 1))  # fmt: skip
    contacts = "phone_number,customer_name,sim_outcomes,sim_duration_seconds\n" + rows
    fields = {
        "agent_id": SMOKE_AGENT,
        "from_phone_number": SMOKE_NUMBER,
        "name": f"Smoke test {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC",
        "max_concurrent_calls": "2",
        "retry_config": json.dumps(RETRY_CONFIG),
    }
    body, content_type = multipart(fields, {"file": ("smoke.csv", contacts.encode())})
    return send(
        "POST",
        f"{api_url}/batch-calls",
        body=body,
        headers={**headers, "Content-Type": content_type},
    )


def _follow(api_url: str, headers: dict[str, str], batch_id: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        batch = _get(f"{api_url}/batch-calls/{batch_id}", headers).body
        if not isinstance(batch, dict):
            return {"status": f"unreadable ({batch!r})"}
        if batch.get("status") in ("completed", "cancelled") or time.monotonic() > deadline:
            return batch
        time.sleep(POLL_SECONDS)


def _report(api_url: str, headers: dict[str, str], batch_id: str) -> dict[str, str]:
    out = io.BytesIO()
    reply = download(f"{api_url}/batch-calls/{batch_id}/report", out, headers=headers)
    if reply.body is not None:
        return {"error": f"{reply.status}: {reply.body}"}
    rows = csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig")))
    # A cell starting with + is written '+... (neutralised against spreadsheet formulas).
    return {row["phone_number"].removeprefix("'"): row["final_status"] for row in rows}


def _get(url: str, headers: dict[str, str]) -> Reply:
    return send("GET", url, headers=headers)


def _data(reply: Reply) -> list[dict[str, Any]]:
    return list(reply.body.get("data", [])) if isinstance(reply.body, dict) else []


def _expect(reply: Reply, status: int, name: str) -> Check:
    if reply.status == status:
        return Check(name, True)
    message = reply.body.get("message") if isinstance(reply.body, dict) else reply.body
    hint = ""
    if 400 <= reply.status < 500:
        # A key refused, or no smoke agent and number: not a smoke workspace's key.
        hint = " (the smoke test needs the key of `batch-calls admin create-smoke-workspace`)"
    return Check(name, False, f"HTTP {reply.status}: {message}{hint}")
