"""The single table's keys. Every key of a workspace's items starts with WS#{workspace}."""

from datetime import UTC, datetime

META = "META"
RECIPIENT_PREFIX = "R#"
# The sparse "due" index holds a recipient only while it is pending or waiting for a
# retry: due_pk is its batch, due_key "<when>#<part>#<row>" (pending: due since always).
# <when> is the earliest it may be called: the end of its retry wait, or the opening of
# its calling window when that is later.
DUE_INDEX = "DUE"
ALWAYS = "0000"


def workspace_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}"


def batch_pk(workspace_id: str, batch_id: str) -> str:
    return f"WS#{workspace_id}#BATCH#{batch_id}"


def batches_index_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}#BATCHES"


def recipient_sk(part: int, row: int) -> str:
    return f"{RECIPIENT_PREFIX}{part:03d}#{row:07d}"


def call_pk(call_id: str) -> str:
    return f"CALL#{call_id}"


def provider_call_pk(provider: str, provider_call_id: str) -> str:
    """Finds our call from the provider's id, for events that carry only theirs."""
    return f"PCALL#{provider}#{provider_call_id}"


MOMENT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def moment(when: datetime) -> str:
    """Fixed-width UTC text, so due keys sort by time."""
    return when.astimezone(UTC).strftime(MOMENT_FORMAT)


def due_key(when: datetime | None, part: int, row: int) -> str:
    return f"{ALWAYS if when is None else moment(when)}#{part:03d}#{row:07d}"


def due_until(now: datetime) -> str:
    """The largest due key of anything due at `now`."""
    return moment(now) + "~"
