"""Handlers the embedded runtime's tests register in place of the product's.

They run in the test process (the local Lambda runtime is in-process), so what they
record in module-level lists is what the tests read.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from typing import Any

# Every event each recording handler received, in arrival order.
RECORDS: list[dict[str, Any]] = []
ASYNC_EVENTS: list[dict[str, Any]] = []
FAILED_ATTEMPTS: list[str] = []
AUTHORIZER_EVENTS: list[dict[str, Any]] = []
_lock = threading.Lock()

ENV_NAMES = ("TABLE_NAME", "BUCKET_NAME", "LOAD_QUEUE_URL", "AWS_ENDPOINT_URL")
BINARY_BODY = bytes(range(256))


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A proxy response whose JSON body holds the event, the context and the environment."""
    if event.get("path") == "/binary":
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(BINARY_BODY).decode(),
            "isBase64Encoded": True,
        }
    body = {
        "event": event,
        "env": {name: os.environ.get(name) for name in ENV_NAMES},
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Echo": "1"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Allows key "good" (workspace ws_1), denies "deny", rejects anything else."""
    with _lock:
        AUTHORIZER_EVENTS.append(event)
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
    if key not in ("good", "deny"):
        raise Exception("Unauthorized")  # the message API Gateway turns into a 401
    return {
        "principalId": f"key_{key}",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if key == "good" else "Deny",
                    "Resource": event["methodArn"].split("/", 1)[0] + "/*",
                }
            ],
        },
        "context": {"workspace_id": "ws_1", "admin": False, "limit": 5},
    }


def record(event: dict[str, Any], context: Any) -> None:
    with _lock:
        RECORDS.append(event)


def record_async(event: dict[str, Any], context: Any) -> None:
    with _lock:
        ASYNC_EVENTS.append(event)


def fail(event: dict[str, Any], context: Any) -> None:
    for item in event["Records"]:
        with _lock:
            FAILED_ATTEMPTS.append(item["body"])
    raise RuntimeError("boom")


def crash(event: dict[str, Any], context: Any) -> None:
    raise ValueError("the handler broke")


def double(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"doubled": event["n"] * 2}
