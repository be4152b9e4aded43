"""SQS: work handed from one function to another."""

import json
from typing import Any

import boto3


class LoadQueue:
    """Asks the load_recipients function to write one contact file's recipient items."""

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self.sqs = client or boto3.client("sqs")

    def request_load(self, workspace_id: str, batch_id: str, part: int) -> None:
        message = {"workspace_id": workspace_id, "batch_id": batch_id, "part": part}
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(message))
