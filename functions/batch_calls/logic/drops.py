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
from batch_calls.logic.batches import Contacts, CreateRequest
from batch_calls.logic.errors import InvalidField, RequestError
from batch_calls.logic.services import Services
from batch_calls.logic.settings import METADATA_FIELDS, from_text_fields, refuse_unknown

INCOMING = "incoming/"
REJECTED = "rejected/"
# Besides the settings (their names with dashes: retry-config), where the file goes.
_WORKSPACE_ID = "workspace-id"


def drop_batch_id(key: str, etag: str) -> str:
    return "batch_" + hashlib.sha256(f"{key}\n{etag}".encode()).hexdigest()[:21]


def workspace_of_drop(key: str, metadata: Mapping[str, str]) -> str:
    """incoming/<workspace_id>/<file>, or metadata workspace-id."""
    parts = key[len(INCOMING) :].split("/")
    if len(parts) > 1 and parts[0].startswith("ws_"):
        return parts[0]
    workspace_id = metadata.get(_WORKSPACE_ID, "").strip()
    if not workspace_id:
        raise InvalidField(
            _WORKSPACE_ID,
            "put the file under incoming/<workspace_id>/ or give metadata workspace-id",
        )
    return workspace_id


def handle_drop(services: Services, key: str) -> dict[str, Any]:
    """Create the batch of a dropped file, or write its rejection; returns what happened."""
    data, metadata, etag = services.blobs.get_dropped(key, MAX_FILE_BYTES)
    try:
        workspace_id = workspace_of_drop(key, metadata)
        refuse_unknown(metadata, {*METADATA_FIELDS, _WORKSPACE_ID})
        contacts = Contacts(data=data, filename=key.rsplit("/", 1)[-1])
        request = CreateRequest(from_text_fields(metadata, METADATA_FIELDS), contacts)
        created = batches.create_batch(
            services, workspace_id, request, batch_id=drop_batch_id(key, etag)
        )
    except RequestError as error:
        rejection = REJECTED + key[len(INCOMING) :] + ".errors.json"
        services.blobs.put_rejection(rejection, error.body())
        return {"rejected": rejection, "error": error.body()}
    return {"batch": created.batch.batch_id}
