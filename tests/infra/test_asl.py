"""The workflow CDK deploys is the file the embedded runtime runs, byte for byte."""

import json
from pathlib import Path
from typing import Any

from aws_cdk import cx_api

from batch_calls.logic.rounds import DIAL_ERROR
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


def test_deployed_round_maps_from_s3_under_a_concurrency_path_and_dials_with_timeouts(
    assembly: cx_api.CloudAssembly, template: dict[str, Any]
) -> None:
    deployed, machine = _definition_asset(assembly, template)
    substitutions = {
        name: value if isinstance(value, str) else f"arn:aws:lambda:::function:{name}"
        for name, value in machine["DefinitionSubstitutions"].items()
    }
    # Every placeholder has a value (substitute raises otherwise).
    definition = json.loads(substitute(deployed.decode(), substitutions))
    dial_round = definition["States"]["DialRound"]
    assert dial_round["MaxConcurrencyPath"] == "$.prepared.max_concurrency"
    assert dial_round["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert dial_round["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    dial = dial_round["ItemProcessor"]["States"]["Dial"]
    assert dial["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert dial["TimeoutSeconds"] == resources.DIAL_SETTINGS["DialTimeoutSeconds"]
    assert dial["HeartbeatSeconds"] == resources.DIAL_SETTINGS["DialHeartbeatSeconds"]
    # Any Dial failure is reconciled with the recipient's fields still in the input, and
    # a failing child or Map still ends in FinishRound, so the batch always advances.
    (dial_catch,) = dial["Catch"]
    assert dial_catch["ErrorEquals"] == ["States.ALL"]
    assert dial_catch["Next"] == "Reconcile"
    assert dial_catch["ResultPath"] == f"$.{DIAL_ERROR}"  # where Reconcile looks for it
    assert dial_round["ToleratedFailurePercentage"] == 100
    (round_catch,) = dial_round["Catch"]
    assert round_catch["ErrorEquals"] == ["States.ALL"]
    assert round_catch["Next"] == dial_round["Next"] == "FinishRound"
    assert round_catch["ResultPath"] not in ("$", "$.prepared")
