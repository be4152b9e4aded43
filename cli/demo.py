"""`batch-calls demo` (make demo): the main job on the embedded default.

Validates examples/contacts.csv, starts the product locally, creates a batch through the
real HTTP API with a multipart upload (as seed 000's curl does) and shows its recipients.
"""

import argparse
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
from cli.validate import print_result

CONTACTS = Path(__file__).resolve().parents[1] / "examples" / "contacts.csv"
LOAD_TIMEOUT_SECONDS = 30


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

    print("\n2. Start the product on this machine (embedded AWS, local API)")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # keep the story readable
    with runtime.running() as local:
        env = local.env()
        print(f"   API {env['API_URL']}, demo workspace {env['WORKSPACE_ID']}")
        print("\n3. POST /batch-calls (multipart, as the seed's curl)")
        status, batch = _create(env["API_URL"], env["API_KEY"], caller, DEMO_AGENT)
        print(f"   {status}: {json.dumps(_summary(batch))}")
        if status != 201:
            return EXIT_REJECTED
        print("\n4. Recipients, loaded after the response")
        recipients = _recipients(env["API_URL"], env["API_KEY"], batch["id"], batch["total_leads"])
        for recipient in recipients:
            name = recipient["variables"].get("customer_name", "")
            number, status = recipient["phone_number"], recipient["status"]
            print(f"   row {recipient['row']:>3}  {number:<15} {name:<14} {status}")
    print("\nDone. `make serve` keeps the product running for curl and the AWS CLI.")
    return EXIT_OK


def _summary(batch: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "status", "total_leads", "completed", "failed", "agent_id", "created_at")
    return {key: batch.get(key) for key in keys} if "id" in batch else batch


def _create(api_url: str, api_key: str, caller: str, agent: str) -> tuple[int, dict[str, Any]]:
    fields = {"agent_id": agent, "from_phone_number": caller, "name": "Demo batch"}
    body, content_type = multipart(fields, {"file": (CONTACTS.name, CONTACTS.read_bytes())})
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": content_type}
    reply = send("POST", api_url + "/batch-calls", body=body, headers=headers)
    return reply.status, reply.body


def _recipients(api_url: str, api_key: str, batch_id: str, expected: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + LOAD_TIMEOUT_SECONDS
    url = f"{api_url}/batch-calls/{batch_id}/recipients"
    while True:
        page = send("GET", url, headers={"x-api-key": api_key}).body
        if len(page["data"]) >= expected or time.monotonic() > deadline:
            return list(page["data"])
        time.sleep(0.2)
