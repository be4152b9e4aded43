"""The Idempotency-Key of POST /batch-calls: the first answer for (workspace, key) within
24 h answers every repeat of the request; another request under the same key is a 409.

What makes two requests the same is their fingerprint: the JSON body, or the form's
fields with the file's bytes. Powertools' idempotency utility keeps the answers in the
idempotency table (the deployment's idempotency_table_name).
"""

import hashlib
import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from batch_calls.handlers import wiring
from batch_calls.logic.errors import Conflict

WINDOW_SECONDS = 24 * 60 * 60

CONFIG = IdempotencyConfig(
    event_key_jmespath="[workspace_id, idempotency_key]",
    payload_validation_jmespath="fingerprint",
    expires_after_seconds=WINDOW_SECONDS,
)

Answer = Callable[[], dict[str, Any]]


def json_fingerprint(body: Any) -> str:
    return _sha256(json.dumps(body, sort_keys=True).encode())


def form_fingerprint(fields: Mapping[str, Any], file: bytes | None) -> str:
    """The form's fields (the settings, start, upload_id) and the file's bytes."""
    return _sha256(json.dumps(dict(fields), sort_keys=True).encode() + (file or b""))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def runner() -> Any:  # what Powertools' decorator makes of `run`
    persistence = DynamoDBPersistenceLayer(
        table_name=wiring.deployment().required("idempotency_table_name")
    )

    @idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=CONFIG
    )
    def run(*, request: dict[str, str], answer: Answer) -> dict[str, Any]:
        return answer()

    return run


def once(workspace_id: str, key: str | None, fingerprint: str, answer: Answer) -> dict[str, Any]:
    """The first answer given under (workspace, key) within the window, else `answer()`'s
    (also what a request without a key gets)."""
    if not key:
        return answer()
    request = {"workspace_id": workspace_id, "idempotency_key": key, "fingerprint": fingerprint}
    try:
        answered: dict[str, Any] = runner()(request=request, answer=answer)
    except IdempotencyValidationError:
        raise Conflict(
            "this Idempotency-Key was already used with a different request: use a new key"
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict("a request with this Idempotency-Key is still being processed") from None
    return answered
