"""Batch work too long for a request, from the load queue.

`load`: write one contact file's recipient items from its normalised rows in S3 (runs
after `POST /batch-calls` answered: 100,000 items take longer than API Gateway waits),
then let the batch advance. Idempotent: a part already loaded is skipped, and rewriting a
part not yet marked loaded writes the same items again.
`cancel`: everyone still pending or waiting for a retry becomes cancelled.
`report`: the batch ended: write its report next to its upload once it has settled.
`window_reset`: the batch's calling window changed: those waiting for an opening of the
old one are due again, checked against the new one.
`suppression_sweep`: in a workspace's active batches, everyone waiting whose number is on
its suppression list becomes skipped (logic/suppression.py).
"""

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_calls import monitoring
from batch_calls.domain.batch import Recipient
from batch_calls.handlers.wiring import rounds
from batch_calls.logic import suppression
from batch_calls.logic.reports import store_final_report
from batch_calls.logic.rounds import Rounds, advance, reset_window_waits

logger = monitoring.logger("load-recipients")


def load_part(services: Rounds, workspace_id: str, batch_id: str, part: int) -> int:
    database = services.database
    batch = database.get_batch(workspace_id, batch_id)
    if batch is None or batch.loaded_parts >= part:
        return 0
    records = services.blobs.read_recipients(workspace_id, batch_id, part)
    written = database.put_recipients(
        workspace_id,
        batch_id,
        (Recipient.model_validate({**record, "part": part}) for record in records),
    )
    database.mark_part_loaded(workspace_id, batch_id, part)
    loaded = database.get_batch(workspace_id, batch_id)
    if loaded is not None:
        advance(services, loaded)
    return written


def cancel_waiting(services: Rounds, workspace_id: str, batch_id: str) -> int:
    waiting = services.attempts.waiting(workspace_id, batch_id)
    cancelled = services.attempts.cancel_waiting(workspace_id, batch_id, list(waiting))
    # With nobody waiting and no call live, the cancelled batch's report is final.
    store_final_report(services.database, services.blobs, workspace_id, batch_id)
    return cancelled


@monitoring.metrics.log_metrics
@monitoring.tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    for message in event["Records"]:
        request = json.loads(message["body"])
        if request.get("action") == "suppression_sweep":
            done = suppression.sweep(rounds(), request["workspace_id"])
            logger.info("batch work done", extra={**request, "recipients": done})
            continue
        workspace_id, batch_id = request["workspace_id"], request["batch_id"]
        logger.append_keys(batch_id=batch_id)
        if request.get("action") == "cancel":
            done = cancel_waiting(rounds(), workspace_id, batch_id)
        elif request.get("action") == "report":
            done = int(
                store_final_report(rounds().database, rounds().blobs, workspace_id, batch_id)
            )
        elif request.get("action") == "window_reset":
            done = reset_window_waits(rounds(), workspace_id, batch_id)
        else:
            done = load_part(rounds(), workspace_id, batch_id, int(request["part"]))
        logger.info("batch work done", extra={**request, "recipients": done})
    return {"batchItemFailures": []}
