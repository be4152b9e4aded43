"""What every command shares: exit codes and the usage error."""

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A mistake in how the command was called; exits 2 with the message."""
