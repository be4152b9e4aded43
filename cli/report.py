"""`batch-calls report BATCH_ID [-o FILE]`: download a batch's results report (CSV).

Asks the API ($API_URL with $API_KEY, else the local runtime's .local/env) and follows
its redirect to S3 for large reports.
"""

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from cli.common import EXIT_OK, EXIT_REJECTED, UsageError, load_local_env
from cli.http_client import download


def register(commands: Any) -> None:
    report = commands.add_parser(
        "report", help="download a batch's results report (CSV)", description=__doc__
    )
    report.add_argument("batch_id", metavar="BATCH_ID")
    report.add_argument("-o", "--output", type=Path, help="write here (default: stdout)")
    report.add_argument("--api-url", help="default: $API_URL, else .local/env")
    report.add_argument("--api-key", help="default: $API_KEY, else .local/env")
    report.set_defaults(run=_report)


def api_of(args: argparse.Namespace) -> tuple[str, str]:
    """The API's URL and key: the options, else $API_URL and $API_KEY, else the local
    runtime's .local/env."""
    if not (args.api_url and args.api_key):
        load_local_env("API_URL")
    api_url = args.api_url or os.environ.get("API_URL")
    api_key = args.api_key or os.environ.get("API_KEY")
    if not api_url or not api_key:
        raise UsageError("no API: pass --api-url and --api-key, or run `batch-calls local up`")
    return api_url, api_key


def _report(args: argparse.Namespace) -> int:
    api_url, api_key = api_of(args)
    code = save_report(api_url, api_key, args.batch_id, args.output)
    if code == EXIT_OK and args.output is not None:
        print(f"report of {args.batch_id} written to {args.output}", file=sys.stderr)
    return code


def save_report(api_url: str, api_key: str, batch_id: str, output: Path | None) -> int:
    """Download the report to `output` (stdout when None); an API error is printed."""
    url = f"{api_url.rstrip('/')}/batch-calls/{batch_id}/report"
    headers = {"x-api-key": api_key}
    if output is None:
        reply = download(url, sys.stdout.buffer, headers=headers)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".part")
        with partial.open("wb") as out:
            reply = download(url, out, headers=headers)
        if reply.body is None:
            partial.replace(output)
        else:
            partial.unlink()
    if reply.body is not None:
        message = reply.body.get("message") if isinstance(reply.body, dict) else reply.body
        print(f"batch-calls report: {reply.status}: {message}", file=sys.stderr)
        return EXIT_REJECTED
    return EXIT_OK
