"""`batch-calls admin ...`: workspaces, keys, caller numbers, agents and telephony config.

Works on the table named by --table (a deployed stack's TableName output, with the usual
AWS credentials), else $TABLE_NAME, else the local runtime's .local/env.
"""

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from batch_calls.domain.batch import CallingWindow, Profile
from batch_calls.domain.compliance import ContactLimit
from batch_calls.domain.telephony_config import TelephonyConfig, parse_config
from batch_calls.domain.workspace import DEFAULT_CONCURRENCY_LIMIT
from cli.common import EXIT_OK, EXIT_REJECTED, UsageError, load_local_env

if TYPE_CHECKING:
    from batch_calls.store.database import Database


_CONTACT_LIMITS = TypeAdapter(tuple[ContactLimit, ...])


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "admin", help="manage workspaces, API keys, numbers, agents", description=__doc__
    )
    parser.add_argument("--table", help="the DynamoDB table (stack output TableName)")
    actions = parser.add_subparsers(dest="admin_command", required=True, metavar="ACTION")

    create = actions.add_parser("create-workspace", help="a workspace and its first API key")
    create.add_argument("--name", required=True)
    create.add_argument("--countries", default="", help="enabled countries, e.g. IN,US")
    create.add_argument("--max-concurrent-calls", type=int, default=DEFAULT_CONCURRENCY_LIMIT)
    create.set_defaults(run=_create_workspace)

    smoke = actions.add_parser(
        "create-smoke-workspace",
        help="a workspace for `batch-calls smoke`: simulated calls only, and its API key",
    )
    smoke.set_defaults(run=_create_smoke_workspace)

    key = actions.add_parser("create-key", help="another API key (printed once)")
    key.add_argument("--workspace", required=True)
    key.set_defaults(run=_create_key)

    secret = actions.add_parser(
        "rotate-webhook-secret",
        help="a new secret signing the workspace's webhooks (printed once)",
    )
    secret.add_argument("--workspace", required=True)
    secret.set_defaults(run=_rotate_webhook_secret)

    number = actions.add_parser("add-number", help="a caller number the workspace owns")
    number.add_argument("--workspace", required=True)
    number.add_argument("--number", required=True, metavar="E164")
    number.add_argument(
        "--shared",
        action="store_true",
        help="add it even though another workspace has it (both will call from it)",
    )
    number.set_defaults(run=_add_number)

    agent = actions.add_parser("put-agent", help="create or update an agent (published)")
    agent.add_argument("--workspace", required=True)
    agent.add_argument("--agent-id", required=True)
    prompt = agent.add_mutually_exclusive_group(required=True)
    prompt.add_argument("--prompt", help="the prompt; {{column}} placeholders are variables")
    prompt.add_argument("--prompt-file", type=Path)
    agent.add_argument("--draft", action="store_true", help="save without publishing")
    agent.set_defaults(run=_put_agent)

    configure = actions.add_parser("configure", help="telephony config and concurrency limit")
    configure.add_argument("--workspace", required=True)
    configure.add_argument("--telephony", type=Path, metavar="telephony.json")
    configure.add_argument("--max-concurrent-calls", type=int)
    configure.add_argument(
        "--provider",
        metavar="NAME",
        help="telephony provider of the workspace: simulated, http, twilio, amazon_connect, "
        "or default (the deployment's TELEPHONY_PROVIDER)",
    )
    configure.add_argument(
        "--calling-window",
        metavar="JSON",
        help='default window of batches without one: {"timezone": "America/New_York", '
        '"start": "09:00", "end": "20:00", "days": [1,2,3,4,5]}',
    )
    configure.add_argument(
        "--max-calls-per-second", type=int, help="call starts per second across all batches"
    )
    configure.add_argument(
        "--contact-limits",
        metavar="JSON",
        help='placed calls to one number across all batches, e.g. [{"max_calls": 3, '
        '"per_hours": 24}, {"max_calls": 7, "per_hours": 168}]; [] removes them',
    )
    configure.add_argument(
        "--compliance-profile",
        choices=[str(profile) for profile in Profile],
        help="rules every batch calls under: us_tcpa (8:00-21:00 recipient-local, state "
        "rules, federal holidays, consent), or none",
    )
    configure.set_defaults(run=_configure)


def _database(args: argparse.Namespace) -> "Database":
    from batch_calls.store.database import Database  # boto3: only when a command runs

    if args.table:
        return Database(args.table)
    load_local_env("TABLE_NAME")
    table = os.environ.get("TABLE_NAME")
    if not table:
        raise UsageError(
            "no table: pass --table (the stack output TableName) or run `batch-calls local up`"
        )
    return Database(table)


def _report(action: Any) -> int:
    from batch_calls.logic.errors import RequestError

    try:
        action()
    except RequestError as error:
        print(f"batch-calls admin: {error.message}")
        return EXIT_REJECTED
    return EXIT_OK


def _create_workspace(args: argparse.Namespace) -> int:
    from batch_calls.logic import admin

    countries = tuple(c for c in args.countries.replace(" ", "").split(",") if c)
    telephony = _telephony(TelephonyConfig, {"enabled_countries": countries})

    def create() -> None:
        created = admin.create_workspace(
            _database(args), args.name, telephony, args.max_concurrent_calls
        )
        print(f"workspace {created.workspace.workspace_id}")
        print(f"api key   {created.api_key}   (shown once: store it now)")
        print(f"webhook signing secret   {created.workspace.webhook_secret}")

    return _report(create)


def _create_smoke_workspace(args: argparse.Namespace) -> int:
    from batch_calls.logic import admin

    def create() -> None:
        created = admin.create_smoke_workspace(_database(args))
        print(f"workspace {created.workspace.workspace_id} (simulated calls only)")
        print(f"api key   {created.api_key}   (shown once: store it now)")
        print("then:     batch-calls smoke --api-url <ApiUrl> --api-key <this key>")

    return _report(create)


def _create_key(args: argparse.Namespace) -> int:
    from batch_calls.logic import admin

    return _report(lambda: print(admin.create_api_key(_database(args), args.workspace)))


def _rotate_webhook_secret(args: argparse.Namespace) -> int:
    from batch_calls.logic import admin

    return _report(lambda: print(admin.rotate_webhook_secret(_database(args), args.workspace)))


def _add_number(args: argparse.Namespace) -> int:
    from batch_calls.logic import admin

    return _report(
        lambda: admin.add_caller_number(
            _database(args), args.workspace, args.number, shared=args.shared
        )
    )


def _put_agent(args: argparse.Namespace) -> int:
    from batch_calls.logic import admin

    prompt = args.prompt if args.prompt is not None else _read(args.prompt_file)

    def put() -> None:
        agent = admin.put_agent(
            _database(args), args.workspace, args.agent_id, prompt, publish=not args.draft
        )
        placeholders = ", ".join(agent.placeholders()) or "none"
        print(
            f"agent {agent.agent_id} version {agent.published_version}; variables: {placeholders}"
        )

    return _report(put)


def _configure(args: argparse.Namespace) -> int:
    from batch_calls.logic import admin

    telephony = None
    if args.telephony is not None:
        telephony = _telephony(parse_config, _read(args.telephony))

    window = None
    if args.calling_window is not None:
        try:
            window = CallingWindow.model_validate_json(args.calling_window)
        except ValidationError as error:
            raise UsageError(f"not a valid calling window: {error.errors()[0]['msg']}") from None

    limits = None
    if args.contact_limits is not None:
        try:
            limits = _CONTACT_LIMITS.validate_json(args.contact_limits)
        except ValidationError as error:
            raise UsageError(f"not valid contact limits: {error.errors()[0]['msg']}") from None

    def configure() -> None:
        workspace = admin.configure(
            _database(args),
            args.workspace,
            telephony,
            args.max_concurrent_calls,
            telephony_provider=args.provider,
            calling_window=window,
            max_calls_per_second=args.max_calls_per_second,
            contact_limits=limits,
            compliance_profile=None
            if args.compliance_profile is None
            else Profile(args.compliance_profile),
        )
        print(workspace.model_dump_json(indent=2, exclude={"webhook_secret"}))

    return _report(configure)


def _telephony(parse: Any, value: Any) -> TelephonyConfig:
    try:
        config: TelephonyConfig = parse(**value) if isinstance(value, dict) else parse(value)
    except ValueError as error:  # pydantic's ValidationError is one too
        raise UsageError(f"not a valid telephony config: {error}") from None
    return config


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
