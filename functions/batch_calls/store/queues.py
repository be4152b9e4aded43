"""SQS: work handed from one function to another."""

import json
from typing import Any

import boto3


class LoadQueue:
    """Work on a batch's recipients that takes longer than a request: writing a contact
    file's recipient items, cancelling everyone still waiting, skipping suppressed
    numbers (load_recipients)."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self.sqs = client or boto3.client("sqs")

    def request_load(self, workspace_id: str, batch_id: str, part: int) -> None:
        self._send(
            {"action": "load", "workspace_id": workspace_id, "batch_id": batch_id, "part": part}
        )

    def request_cancel(self, workspace_id: str, batch_id: str) -> None:
        self._send({"action": "cancel", "workspace_id": workspace_id, "batch_id": batch_id})

    def request_report(self, workspace_id: str, batch_id: str) -> None:
        self._send({"action": "report", "workspace_id": workspace_id, "batch_id": batch_id})

    def request_window_reset(self, workspace_id: str, batch_id: str) -> None:
        self._send({"action": "window_reset", "workspace_id": workspace_id, "batch_id": batch_id})

    def request_suppression_sweep(self, workspace_id: str) -> None:
        self._send({"action": "suppression_sweep", "workspace_id": workspace_id})

    def _send(self, message: dict[str, object]) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(message))


class WebhookQueue:
    """Webhook deliveries waiting to be sent; a failed one waits in the queue, invisible
    for its backoff, until its next try or the dead-letter queue."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self.sqs = client or boto3.client("sqs")

    def enqueue(self, delivery: dict[str, Any]) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(delivery))

    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )
