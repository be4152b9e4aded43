"""The local-only pieces: the simulator's API function and the stack's settings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from batch_calls.telephony.simulated import SimulatedProvider
from infra.resources import (
    CALLBACK_URL_SETTING,
    FUNCTIONS,
    QUEUES,
    SIMULATOR_FUNCTION,
    SIMULATOR_QUEUE,
    FunctionSpec,
)
from local.aws import EmbeddedAws
from local.simulator_api import lambda_handler, local_settings
from tests.telephony.support import QUEUE_URL, SECRET, Clock, FakeSqs, call_request


def get(path: str, query: dict[str, str] | None = None, method: str = "GET") -> tuple[int, Any]:
    event = {"httpMethod": method, "path": path, "queryStringParameters": query}
    response = lambda_handler(event, None)
    return response["statusCode"], json.loads(response["body"])


def test_calls_and_stats_routes() -> None:
    sim = SimulatedProvider(SECRET, QUEUE_URL, FakeSqs(), Clock())
    sim.place_call(call_request(batch_id="b_1"))
    sim.place_call(call_request(batch_id="b_2"))
    status, body = get("/_local/simulator/calls", {"batch_id": "b_2"})
    assert status == 200
    assert [c["batch_id"] for c in body["data"]] == ["b_2"]
    assert len(get("/_local/simulator/calls")[1]["data"]) == 2
    status, body = get("/_local/simulator/stats")
    assert status == 200
    assert body == {
        "batches": {
            "b_1": {"calls": 1, "peak_simultaneous": 1},
            "b_2": {"calls": 1, "peak_simultaneous": 1},
        }
    }


def test_anything_else_is_404() -> None:
    assert get("/_local/simulator")[0] == 404
    assert get("/_local/other")[0] == 404
    assert get("/_local/simulator/stats", method="POST")[0] == 404


def test_the_stack_has_the_simulator() -> None:
    assert SIMULATOR_QUEUE in QUEUES
    assert SIMULATOR_FUNCTION in FUNCTIONS
    assert SIMULATOR_FUNCTION.queue_trigger == ("SimulatorQueue", 10)


def test_settings_resolve_and_unset_ones_are_left_out() -> None:
    settings = local_settings("http://127.0.0.1:8000/")
    assert settings["CallbackUrl"] == "http://127.0.0.1:8000"
    # No key among the settings: the simulator's key is a secret, read at run time.
    assert not any("secret" in name.lower() for name in settings)
    callbacks = FunctionSpec("Callbacks", "h.h", 1, 128, {"CALLBACK_URL": CALLBACK_URL_SETTING})
    # Not started: settings need no resource.
    assert EmbeddedAws(settings=settings).resolve_environment(callbacks) == {
        "CALLBACK_URL": "http://127.0.0.1:8000"
    }
    assert EmbeddedAws().resolve_environment(callbacks) == {}


def test_secret_values_must_name_a_secret_of_the_stack() -> None:
    with pytest.raises(ValueError, match="names no secret of the stack"):
        EmbeddedAws(secret_values={"TelephonySecrets": "{}"})
