"""The workflow CDK deploys is the file the embedded runtime runs, byte for byte."""

import json
from pathlib import Path
from typing import Any

from aws_cdk import cx_api

from batch_calls.logic import dispatch
from infra import resources
from local.aws import REPOSITORY, substitute
from tests.infra.support import of_type


def _definition_asset(
    assembly: cx_api.CloudAssembly, template: dict[str, Any]
) -> tuple[bytes, dict[str, Any]]:
    (machine,) = of_type(template, "AWS::StepFunctions::StateMachine").values()
    key = machine["Properties"]["DefinitionS3Location"]["Key"]
    return (Path(assembly.directory) / f"asset.{key}").read_bytes(), machine["Properties"]


def test_cdk_deploys_the_asl_file_the_local_runtime_runs(
    assembly: cx_api.CloudAssembly, template: dict[str, Any]
) -> None:
    deployed, _ = _definition_asset(assembly, template)
    # local/aws.py reads REPOSITORY / BATCH_ROUND.definition.
    assert deployed == (REPOSITORY / resources.BATCH_ROUND.definition).read_bytes()


def _deployed_definition(
    assembly: cx_api.CloudAssembly, template: dict[str, Any]
) -> dict[str, Any]:
    deployed, machine = _definition_asset(assembly, template)
    substitutions = {
        name: value if isinstance(value, str) else f"arn:aws:lambda:::function:{name}"
        for name, value in machine["DefinitionSubstitutions"].items()
    }
    # Every placeholder has a value (substitute raises otherwise).
    return dict(json.loads(substitute(deployed.decode(), substitutions)))


def _tasks(states: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Task state, the Map's children included."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in states.items():
        if state["Type"] == "Task":
            found[name] = state
        if state["Type"] == "Map":
            found |= _tasks(state["ItemProcessor"]["States"])
    return found


def test_a_run_is_a_distributed_map_of_slots_that_dial_with_the_watch_period(
    assembly: cx_api.CloudAssembly, template: dict[str, Any]
) -> None:
    definition = _deployed_definition(assembly, template)
    slots = definition["States"]["Slots"]
    assert slots["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",  # children wait for task tokens
    }
    assert slots["ItemsPath"] == "$.prepared.slots"
    assert slots["MaxConcurrencyPath"] == "$.prepared.max_concurrency"
    assert slots["ToleratedFailurePercentage"] == 100
    children = slots["ItemProcessor"]["States"]
    for name in ("Dial", "Reconcile"):
        task = children[name]
        assert task["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
        assert task["TimeoutSeconds"] == resources.DIAL_SETTINGS[resources.CALL_WATCH]
        # moto's interpreter sees an answer given before the invocation returns only at
        # a heartbeat timeout (architecture.md section 7): no HeartbeatSeconds.
        assert "HeartbeatSeconds" not in task
        assert task["ResultPath"] is None  # the slot's input stays as it was
    # Every way out of a slot leaves an empty output: the Map's result stays small.
    ends = [state for state in children.values() if state.get("End")]
    assert [(end["Type"], end.get("Result"), end.get("ResultPath", "$")) for end in ends] == [
        ("Pass", {}, "$")
    ]
    assert slots["ResultPath"] is None


def test_every_signal_of_a_dial_is_routed_and_every_task_recovers(
    assembly: cx_api.CloudAssembly, template: dict[str, Any]
) -> None:
    """An execution can never fail half-way and leave a batch's run open: each task
    retries Lambda's transient errors and catches everything else (FinishRound, the
    last, retries everything); and each signal a Dial raises has its route."""
    definition = _deployed_definition(assembly, template)
    tasks = _tasks(definition["States"])
    for name, task in tasks.items():
        retried = {error for rule in task["Retry"] for error in rule["ErrorEquals"]}
        assert "Lambda.ServiceException" in retried, name
        caught = {error for rule in task.get("Catch", []) for error in rule["ErrorEquals"]}
        assert "States.ALL" in caught | retried, name
    dial = tasks["Dial"]
    routed = {
        error
        for rule in dial["Retry"] + dial["Catch"]
        for error in rule["ErrorEquals"]
        if not error.startswith(("Lambda.", "States."))
    }
    assert routed == {signal.__name__ for signal in _signals(dispatch.SlotSignal)}
    assert dial["Catch"][-1] == {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.dial_error",
        "Next": "Reconcile",
    }


def _signals(kind: type[Exception]) -> set[type[Exception]]:
    return {sub for child in kind.__subclasses__() for sub in {child, *_signals(child)}}
