"""What every command shares: exit codes, the usage error, the local runtime's settings."""

import os
from pathlib import Path

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2

LOCAL_ENV_FILE = Path(".local") / "env"  # written by local.runtime (`batch-calls local up`)


class UsageError(Exception):
    """A mistake in how the command was called; exits 2 with the message."""


def load_local_env(wanted: str) -> None:
    """Take the local runtime's settings from .local/env when `wanted` is not set."""
    if os.environ.get(wanted) or not LOCAL_ENV_FILE.exists():
        return
    for line in LOCAL_ENV_FILE.read_text().splitlines():
        name, _, value = line.partition("=")
        os.environ.setdefault(name.strip(), value.strip())
