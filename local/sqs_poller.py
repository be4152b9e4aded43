"""SQS event source mappings, served as Lambda's pollers serve them.

moto delivers an SQS event source mapping inline: `Queue.add_message` receives the batch,
invokes the function and deletes or re-shows the messages, all inside the request that
sent the message. So the sender (an S3 PutObject whose EventBridge rule feeds the queue,
or a handler's SendMessage) waits for the whole handler, and a failed message is made
visible again but never delivered again until some other message arrives.

Here moto keeps the mappings (create, list, update, delete work as usual), but they are
detached from their queues, and one poller thread per enabled mapping does what Lambda
does: long-poll the queue, invoke the function with the records, delete the batch on
success (or all but the `batchItemFailures` when the mapping reports item failures), and
on a failure leave the messages to reappear after the queue's visibility timeout, so
moto's redrive policy moves a message to the dead-letter queue after maxReceiveCount
receives, as SQS does.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
from moto.awslambda.models import EventSourceMapping, LambdaBackend
from moto.awslambda.utils import get_backend
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sqs.models import sqs_backends

from local import lambda_runtime

logger = logging.getLogger(__name__)

# A receive returns at most 10 messages; Lambda gathers bigger batches over several.
_MAX_RECEIVE = 10


class SqsEventSourcePoller:
    """Polls the queues of moto's SQS event source mappings and invokes their functions."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        region: str = "us-east-1",
        account_id: str = DEFAULT_ACCOUNT_ID,
        wait_seconds: int = 1,
        rescan_seconds: float = 1.0,
        pollers_per_mapping: int = 4,
    ) -> None:
        self._endpoint_url = endpoint_url
        self._region = region
        self._account_id = account_id
        self._wait_seconds = wait_seconds
        self._rescan_seconds = rescan_seconds
        # Lambda scales a queue's consumers with its backlog; a single poller would make
        # every message wait for the one before it (callbacks then outlive the dial timeout).
        self._pollers_per_mapping = pollers_per_mapping
        self._stop = threading.Event()
        self._workers: dict[str, list[threading.Thread]] = {}
        self._manager: threading.Thread | None = None
        self._sqs: Any = None

    def start(self) -> None:
        if self._manager is not None:
            raise RuntimeError("the SQS poller is already running")
        _detach_inline_delivery()
        self._sqs = boto3.client(
            "sqs",
            endpoint_url=self._endpoint_url,
            region_name=self._region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self._stop.clear()
        self._scan()
        self._manager = threading.Thread(target=self._manage, name="sqs-poller", daemon=True)
        self._manager.start()

    def stop(self) -> None:
        self._stop.set()
        threads = [self._manager, *(t for group in self._workers.values() for t in group)]
        for thread in threads:
            if thread is not None:
                thread.join(timeout=self._wait_seconds + 5)
        self._manager = None
        self._workers.clear()
        _restore_inline_delivery()

    def _backend(self) -> LambdaBackend:
        return get_backend(self._account_id, self._region)

    def _manage(self) -> None:
        while not self._stop.wait(self._rescan_seconds):
            try:
                self._scan()
            except Exception:
                logger.exception("SQS poller: scanning event source mappings failed")

    def _scan(self) -> None:
        for esm in list(self._backend().list_event_source_mappings("", "")):
            if esm.uuid in self._workers or ":sqs:" not in esm.event_source_arn:
                continue
            workers = [
                threading.Thread(
                    target=self._poll,
                    args=(esm.uuid,),
                    name=f"sqs-poller-{esm.event_source_arn.rsplit(':', 1)[-1]}-{n}",
                    daemon=True,
                )
                for n in range(self._pollers_per_mapping)
            ]
            self._workers[esm.uuid] = workers
            for worker in workers:
                worker.start()

    def _poll(self, uuid: str) -> None:
        queue_url: str | None = None
        while not self._stop.is_set():
            esm = self._backend().get_event_source_mapping(uuid)
            if esm is None:
                return  # deleted
            if not esm.enabled:
                self._stop.wait(self._wait_seconds)
                continue
            try:
                if queue_url is None:
                    name = esm.event_source_arn.rsplit(":", 1)[-1]
                    queue_url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
                self._deliver(esm, queue_url)
            except Exception:
                if self._stop.is_set():
                    return
                logger.exception("SQS poller for %s failed; retrying", esm.event_source_arn)
                self._stop.wait(1.0)

    def _deliver(self, esm: EventSourceMapping, queue_url: str) -> None:
        response = self._sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(esm.batch_size, _MAX_RECEIVE),
            WaitTimeSeconds=self._wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        if not messages:
            return
        event = {"Records": [_record(m, esm.event_source_arn, self._region) for m in messages]}
        outcome = lambda_runtime.invoke_raw(esm.function_arn, json.dumps(event).encode())
        if outcome.error:
            # Lambda leaves the batch in the queue: it reappears after the visibility
            # timeout, and after maxReceiveCount receives SQS moves it to the DLQ.
            return
        done = messages
        if "ReportBatchItemFailures" in (esm.function_response_types or []):
            failed = partial_batch_failures(outcome.payload, {m["MessageId"] for m in messages})
            if failed is None:
                return  # an unreadable response fails the whole batch
            done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )


def _record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of Lambda's SQS event."""
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": (
                base64.b64encode(value["BinaryValue"]).decode("ascii")
                if "BinaryValue" in value
                else None
            ),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": [
                base64.b64encode(v).decode("ascii") for v in value.get("BinaryListValues", [])
            ],
            "dataType": value.get("DataType"),
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def partial_batch_failures(payload: bytes, batch: set[str]) -> set[str] | None:
    """The message ids of a partial batch response; None when it is unreadable."""
    if not payload or payload == b"null":
        return set()
    try:
        response = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(response, dict):
        return set()
    failures = response.get("batchItemFailures") or []
    if not isinstance(failures, list):
        return None
    ids: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in batch:
            return None  # Lambda fails the whole batch on an unknown or empty identifier
        ids.add(identifier)
    return ids


def _detach_inline_delivery() -> None:
    """Stop moto from invoking SQS event source mappings inside SendMessage."""
    if "create_event_source_mapping" in LambdaSimpleBackend.__dict__:
        return

    def create_event_source_mapping(
        self: LambdaBackend, spec: dict[str, Any]
    ) -> EventSourceMapping:
        esm = LambdaBackend.create_event_source_mapping(self, spec)
        for queue in sqs_backends[self.account_id][self.region_name].queues.values():
            if queue.queue_arn == esm.event_source_arn:
                queue.lambda_event_source_mappings.pop(esm.function_arn, None)
        return esm

    LambdaSimpleBackend.create_event_source_mapping = create_event_source_mapping  # type: ignore[method-assign]


def _restore_inline_delivery() -> None:
    if "create_event_source_mapping" in LambdaSimpleBackend.__dict__:
        del LambdaSimpleBackend.create_event_source_mapping
