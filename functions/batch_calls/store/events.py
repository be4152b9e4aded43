"""EventBridge: the project's bus, where batch lifecycle and call-completed events go
(docs/events.md)."""

import json
from typing import Any

import boto3

SOURCE = "batch-calls"


class EventBus:
    def __init__(self, bus_name: str, client: Any = None) -> None:
        self.bus_name = bus_name
        self.events = client or boto3.client("events")

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        response = self.events.put_events(
            Entries=[
                {
                    "EventBusName": self.bus_name,
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, ensure_ascii=False),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            failed = response["Entries"][0]
            raise RuntimeError(f"EventBridge refused the event: {failed.get('ErrorMessage')}")
