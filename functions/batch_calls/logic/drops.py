"""The S3 drop: a contact file put under incoming/ with its settings as object metadata.

The same create logic as the API. The batch id is derived from the object's key and
ETag (as S3 reports it when the object is read), so a notification delivered twice
creates one batch. A rejected file gets rejected/<key>.errors.json holding the API's
400 body.
"""

import hashlib
from collections.abc import Mapping
from typing import Any

from batch_calls.ingest.table import MAX_FILE_BYTES
from batch_calls.logic import batches
from batch_calls.logic.batches import Contacts, Services
from batch_calls.logic.errors import InvalidField, RequestError

INCOMING = "incoming/"
REJECTED = "rejected/"
# S3 user metadata (lower-case, dashes) -> batch field.
_METADATA_FIELDS = {
    "agent-id": "agent_id",
    "from-phone-number": "from_phone_number",
    "name": "name",
    "max-concurrent-calls": "max_concurrent_calls",
    "scheduled-at": "scheduled_at",
    "retry-config": "retry_config",
    "calling-window": "calling_window",
    "from-phone-numbers": "from_phone_numbers",
    "max-calls-per-second": "max_calls_per_second",
    "priority": "priority",
    "on-invalid-rows": "on_invalid_rows",
    "dedupe": "dedupe",
    "webhooks": "webhooks",
}


def drop_batch_id(key: str, etag: str) -> str:
    return "batch_" + hashlib.sha256(f"{key}\n{etag}".encode()).hexdigest()[:21]


def workspace_of_drop(key: str, metadata: Mapping[str, str]) -> str:
    """incoming/<workspace_id>/<file>, or metadata workspace-id."""
    parts = key[len(INCOMING) :].split("/")
    if len(parts) > 1 and parts[0].startswith("ws_"):
        return parts[0]
    workspace_id = metadata.get("workspace-id", "").strip()
    if not workspace_id:
        raise InvalidField(
            "workspace-id",
            "put the file under incoming/<workspace_id>/ or give metadata workspace-id",
        )
    return workspace_id


def handle_drop(services: Services, key: str) -> dict[str, Any]:
    """Create the batch of a dropped file, or write its rejection; returns what happened."""
    data, metadata, etag = services.blobs.get_dropped(key, MAX_FILE_BYTES)
    try:
        workspace_id = workspace_of_drop(key, metadata)
        fields = {
            field: metadata[name] for name, field in _METADATA_FIELDS.items() if name in metadata
        }
        view = batches.create_batch(
            services,
            workspace_id,
            fields,
            Contacts(data=data, filename=key.rsplit("/", 1)[-1]),
            batch_id=drop_batch_id(key, etag),
        )
    except RequestError as error:
        rejection = REJECTED + key[len(INCOMING) :] + ".errors.json"
        services.blobs.put_rejection(rejection, error.body())
        return {"rejected": rejection, "error": error.body()}
    return {"batch": view["id"]}
