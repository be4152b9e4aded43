"""What every command shares: exit codes, the usage error, the local runtime's settings."""

import os
import socket
import urllib.parse
from pathlib import Path

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2

LOCAL_ENV_FILE = Path(".local") / "env"  # written by local.runtime (`batch-calls local up`)
NOT_RUNNING = "the local runtime is not running: start it with `batch-calls local up`"


class UsageError(Exception):
    """A mistake in how the command was called; exits 2 with the message."""


def load_local_env(wanted: str) -> None:
    """Take the local runtime's settings from .local/env when `wanted` is not set; a
    UsageError if the runtime that wrote them is not listening any more."""
    if os.environ.get(wanted) or not LOCAL_ENV_FILE.exists():
        return
    settings = {}
    for line in LOCAL_ENV_FILE.read_text().splitlines():
        name, _, value = line.partition("=")
        settings[name.strip()] = value.strip()
    if not _listening(settings.get("API_URL", "")):
        raise UsageError(NOT_RUNNING)
    for name, value in settings.items():
        os.environ.setdefault(name, value)


def _listening(url: str) -> bool:
    parsed = urllib.parse.urlsplit(url)
    if not parsed.hostname or not parsed.port:
        return False
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=2):
            return True
    except OSError:
        return False
