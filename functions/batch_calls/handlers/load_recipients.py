"""Writes one contact file's recipient items from its normalised rows in S3.

Runs after `POST /batch-calls` answered (100,000 items take longer than API Gateway
waits). Idempotent: a part already loaded is skipped, and rewriting a part that is not
yet marked loaded writes the same items again.
"""

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import store
from batch_calls.domain.batch import Recipient

logger = Logger(service="batch-calls-load-recipients")


def load_part(workspace_id: str, batch_id: str, part: int) -> int:
    database = store.database()
    batch = database.get_batch(workspace_id, batch_id)
    if batch is None or batch.loaded_parts >= part:
        return 0
    records = store.blobs().read_recipients(workspace_id, batch_id, part)
    written = database.put_recipients(
        workspace_id,
        batch_id,
        (Recipient.model_validate({**record, "part": part}) for record in records),
    )
    database.mark_part_loaded(workspace_id, batch_id, part)
    return written


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    for message in event["Records"]:
        request = json.loads(message["body"])
        written = load_part(request["workspace_id"], request["batch_id"], int(request["part"]))
        logger.info("recipients loaded", extra={**request, "written": written})
    return {"batchItemFailures": []}
