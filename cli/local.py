"""`batch-calls local up`: the whole product on this machine until Ctrl-C."""

import argparse
import threading
from typing import Any

from cli.common import EXIT_OK, UsageError


def register(commands: Any) -> None:
    local = commands.add_parser("local", help="run the product on this machine (no AWS account)")
    actions = local.add_subparsers(dest="local_command", required=True, metavar="ACTION")
    up = actions.add_parser(
        "up",
        help="start the embedded AWS and the local API until Ctrl-C",
        description="Start moto (S3, DynamoDB, Step Functions, EventBridge, SQS, ...), the "
        "stack's resources, the functions and a local API Gateway; seed a demo workspace; "
        "write API_URL, API_KEY, AWS_ENDPOINT_URL and BUCKET to .local/env.",
    )
    up.add_argument("--port", type=int, default=3000, help="the local API's port (default 3000)")
    up.set_defaults(run=_up)


def _up(args: argparse.Namespace) -> int:
    from local import runtime  # moto and boto3: only for the commands that run them

    try:
        context = runtime.running(args.port)
        local = context.__enter__()
    except OSError as error:
        raise UsageError(
            f"cannot listen on port {args.port} ({error.strerror}): try --port"
        ) from None
    try:
        env_file = local.write_env_file()
        env = local.env()
        print(f"Batch calls running locally. API: {env['API_URL']}")
        print(f"Demo workspace {env['WORKSPACE_ID']}, API key: {env['API_KEY']}")
        print(f"Settings for curl and the AWS CLI are in {env_file}: set -a; . {env_file}")
        print("Ctrl-C stops it.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nStopped.")
    finally:
        context.__exit__(None, None, None)
    return EXIT_OK
