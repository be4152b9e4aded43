"""The deployment's settings: one typed object, read from the environment once, naming
exactly the variables the stack and the embedded runtime set."""

import pytest

from batch_calls.deployment import VARIABLES, Deployment
from batch_calls.handlers import wiring
from infra.resources import FUNCTIONS
from local.simulator_api import LOCAL_FUNCTIONS


def test_every_variable_a_function_is_given_is_a_field_and_every_field_is_given() -> None:
    given = {
        name
        for function in (*FUNCTIONS, *LOCAL_FUNCTIONS)
        for name in function.environment
        if not name.startswith("POWERTOOLS_")
    }
    assert given == VARIABLES


def test_an_unset_variable_is_named_when_a_service_needs_it() -> None:
    deployment = Deployment.from_environment({"TABLE_NAME": "t", "CALL_WATCH_SECONDS": "60"})
    assert deployment.required("table_name") == "t"
    assert deployment.call_watch is not None and deployment.call_watch.total_seconds() == 60
    assert deployment.telephony_provider == "simulated"
    with pytest.raises(RuntimeError, match="environment variable BUCKET_NAME is not set"):
        deployment.required("bucket_name")


def test_the_environment_is_read_once_until_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    wiring.forget()
    monkeypatch.setenv("TABLE_NAME", "first")
    assert wiring.deployment().table_name == "first"
    monkeypatch.setenv("TABLE_NAME", "second")
    assert wiring.deployment().table_name == "first"
    wiring.forget()
    assert wiring.deployment().table_name == "second"
    wiring.forget()
