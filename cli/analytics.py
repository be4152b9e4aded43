"""`batch-calls analytics BATCH_ID`: how a batch did (GET /batch-calls/{id}/analytics).

Prints the answer rate, who answered, durations and outcomes per attempt, or with
`--json` the API's body as it is. Asks the API as `batch-calls report` does.
"""

import argparse
import json
import sys
from typing import Any

from cli.common import EXIT_OK, EXIT_REJECTED
from cli.http_client import send
from cli.report import api_of


def register(commands: Any) -> None:
    analytics = commands.add_parser(
        "analytics", help="a batch's analytics (answer rate, durations, outcomes)",
        description=__doc__,
    )  # fmt: skip
    analytics.add_argument("batch_id", metavar="BATCH_ID")
    analytics.add_argument("--json", action="store_true", help="print the API's JSON")
    analytics.add_argument("--api-url", help="default: $API_URL, else .local/env")
    analytics.add_argument("--api-key", help="default: $API_KEY, else .local/env")
    analytics.set_defaults(run=_analytics)


def _analytics(args: argparse.Namespace) -> int:
    api_url, api_key = api_of(args)
    reply = send(
        "GET",
        f"{api_url.rstrip('/')}/batch-calls/{args.batch_id}/analytics",
        headers={"x-api-key": api_key},
    )
    if reply.status != 200 or not isinstance(reply.body, dict):
        message = reply.body.get("message") if isinstance(reply.body, dict) else reply.body
        print(f"batch-calls analytics: {reply.status}: {message}", file=sys.stderr)
        return EXIT_REJECTED
    print(json.dumps(reply.body, indent=2) if args.json else summary(reply.body))
    return EXIT_OK


def summary(view: dict[str, Any]) -> str:
    """The analytics as a few lines of text."""
    rate = view["answer_rate"]
    durations = view["duration_seconds"]
    who = view["answered_by"]
    cost = view["cost"]
    lines = [
        f"batch {view['batch_id']} ({view['status']}): {view['recipients']['total']} recipients",
        "  final: "
        + ", ".join(
            f"{name} {count}" for name, count in view["recipients"].items() if name != "total"
        ),
        f"  attempts {view['attempts']}, connected {view['connected']}, answer rate "
        + ("-" if rate is None else f"{rate:.1%}"),
        f"  answered by: human {who['human']}, machine {who['machine']}, unknown {who['unknown']}",
        f"  duration (s): mean {durations['mean']}, p50 {durations['p50']}, "
        f"p90 {durations['p90']} over {durations['count']} calls",
        f"  retries used {view['retries_used']}, callbacks scheduled {view['callbacks_scheduled']}",
    ]
    for attempt, outcomes in view["by_attempt"].items():
        counted = ", ".join(f"{name} {n}" for name, n in outcomes.items() if n)
        lines.append(f"  attempt {attempt}: {counted}")
    for hour in view["calls_per_hour"]:
        lines.append(f"  {hour['hour']}: {hour['calls']} calls")
    if cost["total"] is not None:
        lines.append(f"  cost {cost['total']} {cost['currency'] or ''} "
                     f"({cost['calls_with_cost']} calls)")  # fmt: skip
    return "\n".join(lines)
