"""What the simulated provider saw, over the local API (local only, never in the stack).

    GET /_local/simulator/calls?batch_id=...  {"data": [call, ...]}, in start order
    GET /_local/simulator/stats  {"batches": {batch_id: {"calls": n, "peak_simultaneous": n}}}

The simulator's registry lives in this process (the embedded runtime runs every handler
here), so this function can read it; tests and demos use it to check, from the provider's
side, how many calls a batch had live at once.
"""

from __future__ import annotations

import json
from typing import Any

from batch_calls.telephony import simulated
from infra.resources import (
    CALLBACK_URL_SETTING,
    WEBHOOK_ADDRESSES_SETTING,
    FunctionSpec,
    RouteSpec,
    setting_name,
)

PREFIX = "/_local/"

SIMULATOR_API_FUNCTION = FunctionSpec(
    "SimulatorApiFunction", "local.simulator_api.lambda_handler", 10, 256, {}
)
# For EmbeddedAws(functions=(*FUNCTIONS, *LOCAL_FUNCTIONS)).
LOCAL_FUNCTIONS = (SIMULATOR_API_FUNCTION,)
# For LocalApiGateway(routes=(*ROUTES, *LOCAL_ROUTES)): the paths under /_local/ go to
# this function, without an API key (local only).
LOCAL_ROUTES = (
    RouteSpec("GET", PREFIX + "{proxy+}", SIMULATOR_API_FUNCTION.logical_id, public=True),
)


def local_settings(api_url: str) -> dict[str, str]:
    """The local settings for `EmbeddedAws(settings=...)`: simulator callbacks to the local
    API, and webhooks to any address (receivers run on this machine)."""
    return {
        _name(CALLBACK_URL_SETTING): api_url.rstrip("/"),
        _name(WEBHOOK_ADDRESSES_SETTING): "any",
    }


def _name(setting: str) -> str:
    name = setting_name(setting)
    if name is None:
        raise ValueError(f"{setting!r} is not a ${{Name}} setting")
    return name


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = event.get("path") or ""
    if event.get("httpMethod") == "GET":
        if path == PREFIX + "simulator/calls":
            query = event.get("queryStringParameters") or {}
            return _json(200, {"data": simulated.simulator_calls(query.get("batch_id") or None)})
        if path == PREFIX + "simulator/stats":
            return _json(200, {"batches": simulated.simulator_stats()})
    return _json(404, {"error": "not_found", "message": f"no local route {path}"})


def _json(status: int, body: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
