"""The SQS consumers' one way through a batch of records: Powertools' batch processing.

Each record is handled alone: one that raises is reported in `batchItemFailures` (the
event source mappings report partial failures: infra/resources.py), so SQS delivers it
again, and after the queue's maxReceiveCount moves it to the dead-letter queue, while the
others of its batch are done and deleted. A batch whose every record failed is reported
the same way rather than raised, so the invocation itself never errors for bad records.
"""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = ["HandBack", "SQSRecord", "each_record"]


class HandBack(Exception):
    """The handler hands the record back to SQS on purpose, having logged why (a webhook
    not taken, a contact not known yet); anything else a handler raises is logged here."""


def each_record(
    event: dict[str, Any],
    context: LambdaContext,
    handle: Callable[[SQSRecord], object],
    logger: Logger,
) -> PartialItemFailureResponse:
    """`handle` each record of the SQS `event`; the ones that raised, for SQS to retry."""

    def handled(record: SQSRecord) -> object:
        try:
            return handle(record)
        except HandBack:
            raise
        except Exception:
            logger.exception("record failed: handed back", extra={"id": record.message_id})
            raise

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event, record_handler=handled, processor=processor, context=context
    )
