"""The single table's keys. Every key of a workspace's items starts with WS#{workspace}."""

import zlib
from datetime import UTC, datetime

META = "META"
# The table's TTL attribute (infra.resources MAIN_TABLE.ttl_attribute): epoch seconds
# after which DynamoDB deletes the item (within a day or two: reads check it too).
TTL_ATTRIBUTE = "expires_at"
# A batch's analytics counters (domain/results.py), next to its META item.
ANALYTICS = "ANALYTICS"
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


# The sparse "watch" index holds a call item only while its outcome is unknown: watch_pk
# is one of WATCH_SHARDS partitions (spreading the index's writes), watch_until the
# moment after which nobody watches it any more (its slot was stopped, or its
# reconciliation failed), when the periodic sweep asks the provider about it.
WATCH_INDEX = "WATCH"
WATCH_SHARDS = 8

# A slot of a run (SLOT#{round}#{slot} under its batch): the call it placed last.
SLOT_PREFIX = "SLOT#"
# The workspace's live calls across its batches, and the batches waiting for one of its
# units (LIVE under the workspace).
LIVE = "LIVE"

MOMENT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def moment(when: datetime) -> str:
    """Fixed-width UTC text, so due keys sort by time."""
    return when.astimezone(UTC).strftime(MOMENT_FORMAT)


def due_key(when: datetime | None, part: int, row: int) -> str:
    return f"{ALWAYS if when is None else moment(when)}#{part:03d}#{row:07d}"


def due_until(now: datetime) -> str:
    """The largest due key of anything due at `now`."""
    return moment(now) + "~"


def watch_pk(call_id: str) -> str:
    return f"WATCH#{zlib.crc32(call_id.encode()) % WATCH_SHARDS}"


def watch_partitions() -> list[str]:
    return [f"WATCH#{shard}" for shard in range(WATCH_SHARDS)]


def slot_sk(round_number: int, slot: int) -> str:
    return f"{SLOT_PREFIX}{round_number:06d}#{slot:05d}"


def contact_sk(e164: str) -> str:
    """A number's placed calls across the workspace's batches (CONTACT#{e164} under the
    workspace), kept only while a contact limit may count them."""
    return f"CONTACT#{e164}"
