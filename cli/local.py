"""`batch-calls local up`: the whole product on this machine until Ctrl-C."""

import argparse
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

from batch_calls.domain.workspace import TELEPHONY_PROVIDERS
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
    up.add_argument(
        "--telephony-secret",
        type=Path,
        metavar="FILE",
        help="JSON settings and credentials of the real telephony providers (see "
        "docs/providers/); default: the TELEPHONY_SECRET environment variable, if set",
    )
    up.add_argument(
        "--provider",
        choices=TELEPHONY_PROVIDERS,
        help="the default telephony provider (default: simulated); a workspace may choose "
        "another with `batch-calls admin configure --provider`",
    )
    up.set_defaults(run=_up)


def read_telephony_secret(path: Path | None) -> str | None:
    if path is None:
        return os.environ.get("TELEPHONY_SECRET") or None
    try:
        text = path.read_text()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise UsageError(f"{path} is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{path} must hold a JSON object with a key per provider")
    return text


def _up(args: argparse.Namespace) -> int:
    from local import runtime  # moto and boto3: only for the commands that run them

    secret = read_telephony_secret(args.telephony_secret)
    try:
        context = runtime.running(
            args.port, telephony_secret=secret, telephony_provider=args.provider
        )
        local = context.__enter__()
    except OSError as error:
        raise UsageError(
            f"cannot listen on port {args.port} ({error.strerror}): try --port"
        ) from None
    try:
        env_file = local.write_env_file()
        env = local.env()
        print(f"Batch calls running locally. API: {env['API_URL']}")
        print(f"Web console: {env['CONSOLE_URL']} (paste the API key below)")
        print(f"Demo workspace {env['WORKSPACE_ID']}, API key: {env['API_KEY']}")
        print(f"Settings for curl and the AWS CLI are in {env_file}: set -a; . {env_file}")
        print("Ctrl-C stops it.", flush=True)
        # `kill` (a service manager, a closed terminal's job) stops it as Ctrl-C does: the
        # default action would end the process before its settings file is removed.
        signal.signal(signal.SIGTERM, _interrupt)
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nStopped.")
    finally:
        runtime.ENV_FILE.unlink(missing_ok=True)  # its settings name a runtime that is gone
        context.__exit__(None, None, None)
    return EXIT_OK


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
