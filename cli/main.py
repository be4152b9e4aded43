"""`batch-calls`: validate files, run the product locally, administer workspaces.

Exit codes: 0 success (a file would be accepted), 1 rejected, 2 a usage error.
"""

import argparse
import sys
from collections.abc import Sequence

from cli import admin, demo, local, report, validate
from cli.common import EXIT_USAGE, UsageError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="batch-calls", description="Batch outbound calling for voice AI agents."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (validate, demo, local, admin, report):
        module.register(commands)
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except UsageError as error:
        print(f"batch-calls {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    return code
