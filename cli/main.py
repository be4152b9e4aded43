"""`batch-calls`: validate files, run the product locally, administer workspaces.

Exit codes: 0 success (a file would be accepted), 1 rejected, 2 a usage error.
"""

import argparse
import importlib
import sys
from collections.abc import Sequence

from cli.common import EXIT_USAGE, UsageError

# Each command's module, imported only when needed: `validate` is timed as a whole
# process, and the other commands' imports (pydantic models, HTTP) would add a tenth of
# a second to it.
COMMANDS = {
    "validate": "cli.validate",
    "demo": "cli.demo",
    "local": "cli.local",
    "admin": "cli.admin",
    "report": "cli.report",
    "smoke": "cli.smoke",
    "analytics": "cli.analytics",
}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="batch-calls", description="Batch outbound calling for voice AI agents."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # The named command alone; every command for `--help`, no command or a mistyped one.
    named = [arguments[0]] if arguments and arguments[0] in COMMANDS else list(COMMANDS)
    for name in named:
        importlib.import_module(COMMANDS[name]).register(commands)
    args = parser.parse_args(arguments)
    try:
        code: int = args.run(args)
    except UsageError as error:
        print(f"batch-calls {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    return code
