"""`batch-calls demo` (make demo): the main job on the embedded default.

Validates examples/contacts.csv, starts the product locally, creates a batch through the
real HTTP API with a multipart upload (as seed 000's curl does), follows it while the
simulated provider takes the calls (outcomes scripted per row, with retries), prints the
final count of each status, and downloads the results report into .local/reports/.
"""

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from batch_calls.ingest.phones import region_of
from batch_calls.ingest.validate import ValidationOptions, validate_file
from cli.common import EXIT_OK, EXIT_REJECTED
from cli.http_client import multipart, send
from cli.report import save_report
from cli.validate import print_result

CONTACTS = Path(__file__).resolve().parents[1] / "examples" / "contacts.csv"
REPORTS = Path(".local") / "reports"
REPORT_LINES_SHOWN = 5
FOLLOW_TIMEOUT_SECONDS = 120


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", help="run the main job on the embedded default", description=__doc__
    )
    demo.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    from local import runtime  # moto and boto3: only for the commands that run them
    from local.demo import DEMO_AGENT, DEMO_NUMBERS, DEMO_TELEPHONY

    caller = DEMO_NUMBERS[0]
    print(f"1. Validate {CONTACTS.name}, calling from {caller}\n")
    options = ValidationOptions(region_of(caller), DEMO_TELEPHONY)
    result = validate_file(CONTACTS.read_bytes(), CONTACTS.name, options)
    print_result(result, CONTACTS.name, as_json=False, out=sys.stdout)
    if not result.is_accepted:
        return EXIT_REJECTED

    print("\n2. Start the product on this machine (embedded AWS, local API, simulated calls)")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # keep the story readable
    with runtime.running() as local:
        env = local.env()
        api, key = env["API_URL"], env["API_KEY"]
        print(f"   API {api}, demo workspace {env['WORKSPACE_ID']}")
        print(f"   Web console {env['CONSOLE_URL']} while the demo runs (API key {key})")
        print("\n3. POST /batch-calls (multipart, as the seed's curl; retries after 3 s)")
        status, batch = _create(api, key, caller, DEMO_AGENT)
        print(f"   {status}: {json.dumps(_summary(batch))}")
        if status != 201:
            return EXIT_REJECTED
        print(f"\n4. Dialling at most {batch['max_concurrent_calls']} at a time")
        final = _follow(api, key, batch["id"])
        print(f"\n5. Batch {final['status']}: recipients by final status\n")
        _print_counts(final["counts"])
        report = REPORTS / f"{batch['id']}.csv"
        print(f"\n6. GET /batch-calls/{batch['id']}/report (batch-calls report -o {report})\n")
        if save_report(api, key, batch["id"], report) != EXIT_OK:
            return EXIT_REJECTED
        with report.open(encoding="utf-8-sig") as lines:
            for line in itertools.islice(lines, REPORT_LINES_SHOWN):
                print("   " + line.rstrip("\r\n"))
        print(f"   ... the whole report: {report}")
        if final["status"] != "completed":
            return EXIT_REJECTED
    print(
        "\nDone. `make serve` keeps the product running for curl, the AWS CLI and the web "
        "console at http://127.0.0.1:3000/ (its API key is printed, and in .local/env)."
    )
    return EXIT_OK


def _print_counts(counts: dict[str, int]) -> None:
    total = counts["total"]
    print(f"   {'status':<12}{'recipients':>10}")
    for status, count in counts.items():
        if status != "total":
            print(f"   {status:<12}{count:>10}")
    print(f"   {'total':<12}{total:>10}")


def _follow(api: str, key: str, batch_id: str) -> dict[str, Any]:
    """A progress bar with per-status counts until the batch ends."""
    deadline = time.monotonic() + FOLLOW_TIMEOUT_SECONDS
    live = sys.stdout.isatty()
    shown_before = ""
    while True:
        batch = send("GET", f"{api}/batch-calls/{batch_id}", headers={"x-api-key": key}).body
        counts = batch["counts"]
        finished = counts["total"] - counts["pending"] - counts["in_progress"]
        width = 30
        filled = width * finished // max(counts["total"], 1)
        shown = ", ".join(f"{k} {v}" for k, v in counts.items() if v and k != "total")
        line = f"   [{'#' * filled}{'.' * (width - filled)}] {finished}/{counts['total']}  {shown}"
        if line != shown_before:  # on a terminal, one line redrawn; in a log, one per change
            print(f"\r{line:<110}" if live else line, end="" if live else "\n", flush=True)
            shown_before = line
        if batch["status"] in ("completed", "cancelled") or time.monotonic() > deadline:
            if live:
                print()
            return dict(batch)
        time.sleep(0.5)


def _summary(batch: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "status", "total_leads", "completed", "failed", "agent_id", "created_at")
    return {key: batch.get(key) for key in keys} if "id" in batch else batch


def _create(api_url: str, api_key: str, caller: str, agent: str) -> tuple[int, dict[str, Any]]:
    fields = {
        "agent_id": agent,
        "from_phone_number": caller,
        "name": "Demo batch",
        "max_concurrent_calls": "3",
        "retry_config": '{"max_retries": 2, "retry_interval_minutes": 0.05}',
    }
    body, content_type = multipart(fields, {"file": (CONTACTS.name, CONTACTS.read_bytes())})
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": content_type}
    reply = send("POST", api_url + "/batch-calls", body=body, headers=headers)
    return reply.status, reply.body
