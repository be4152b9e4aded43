"""Invariant 10: the deployed stack is wired as the embedded runtime runs it.

The synthesised template's actual wiring (each function's environment keys, timeout,
memory and concurrency bound, each event source mapping, each rule's or schedule's
target) is read back and compared, entry by entry, with what the local runtime created
in moto from the same table (infra/resources.py). The API's routes are compared in
test_stack.py (test_every_api_route_goes_where_the_local_gateway_sends_it).
"""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from infra import resources
from infra.stack import Settings
from local.runtime import LocalRuntime, running
from tests.infra.conftest import STACK
from tests.infra.support import of_type

# Set by the stack on every function; the embedded runtime sets its own in the process.
COMMON_VARIABLES = {"POWERTOOLS_METRICS_NAMESPACE"}
Wiring = dict[str, Any]


@pytest.fixture(scope="module")
def local() -> Iterator[LocalRuntime]:
    with running() as runtime:
        yield runtime


def _deployed_ids(template: dict[str, Any]) -> dict[str, str]:
    """Template id -> spec logical id, for the spec's functions and queues."""
    ids = {}
    for key, function in of_type(template, "AWS::Lambda::Function").items():
        name = function["Properties"].get("FunctionName", "")
        if name.startswith(f"{STACK}-"):
            ids[key] = name.removeprefix(f"{STACK}-")
    for key in of_type(template, "AWS::SQS::Queue"):
        for queue in resources.QUEUES:
            if re.fullmatch(f"Messaging{queue.logical_id}[0-9A-F]{{8}}", key):
                ids[key] = queue.logical_id
    return ids


def _target(value: Any, ids: dict[str, str]) -> str:
    """The spec logical id a `Ref` or `Fn::GetAtt` of the template points at."""
    key = value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]
    return ids[key]


def _deployed(template: dict[str, Any]) -> Wiring:
    ids = _deployed_ids(template)
    functions = {}
    for key, function in of_type(template, "AWS::Lambda::Function").items():
        if key not in ids:
            continue  # CDK's own custom resources
        properties = function["Properties"]
        functions[ids[key]] = (
            sorted(set(properties["Environment"]["Variables"]) - COMMON_VARIABLES),
            properties["Timeout"],
            properties["MemorySize"],
            properties.get("ReservedConcurrentExecutions"),
        )
    mappings = set()
    for mapping in of_type(template, "AWS::Lambda::EventSourceMapping").values():
        properties = mapping["Properties"]
        mappings.add(
            (
                _target(properties["FunctionName"], ids),
                _target(properties["EventSourceArn"], ids),
                properties["BatchSize"],
                (properties.get("ScalingConfig") or {}).get("MaximumConcurrency"),
                tuple(properties.get("FunctionResponseTypes", ())),
            )
        )
    triggers = set()
    for rule in of_type(template, "AWS::Events::Rule").values():
        properties = rule["Properties"]
        for target in properties["Targets"]:
            if "ScheduleExpression" in properties:
                trigger: tuple[Any, ...] = ("schedule", properties["ScheduleExpression"])
            else:
                pattern = properties["EventPattern"]
                trigger = ("events", tuple(pattern["source"]), tuple(pattern["detail-type"]))
            triggers.add((*trigger, _target(target["Arn"], ids)))
    return {"functions": functions, "mappings": mappings, "triggers": triggers}


def _embedded(runtime: LocalRuntime) -> Wiring:
    aws = runtime.aws
    by_name = {resource.name: key for key, resource in aws.resources.items()}
    by_arn = {resource.arn: key for key, resource in aws.resources.items()}
    lam = aws.client("lambda")
    functions = {}
    for spec in resources.FUNCTIONS:
        name = aws.physical_name(spec.logical_id)
        configuration = lam.get_function_configuration(FunctionName=name)
        functions[spec.logical_id] = (
            # moto leaves Environment out of a function that has none.
            sorted(configuration.get("Environment", {}).get("Variables", {})),
            configuration["Timeout"],
            configuration["MemorySize"],
            lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions"),
        )
    mappings = {
        (
            by_name[mapping["FunctionArn"].rsplit(":", 1)[1]],
            by_arn[mapping["EventSourceArn"]],
            mapping["BatchSize"],
            (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency"),
            tuple(mapping.get("FunctionResponseTypes", ())),
        )
        for mapping in lam.list_event_source_mappings()["EventSourceMappings"]
        if by_name[mapping["FunctionArn"].rsplit(":", 1)[1]] in functions
    }
    events = aws.client("events")
    triggers: set[tuple[Any, ...]] = set()
    for rule in events.list_rules()["Rules"]:
        pattern = json.loads(rule["EventPattern"])
        for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
            triggers.add(
                (
                    "events",
                    tuple(pattern["source"]),
                    tuple(pattern["detail-type"]),
                    by_arn[target["Arn"]],
                )
            )
    for logical_id, period in aws.recurring().items():
        minutes = int(period.total_seconds() // 60)
        unit = "minute" if minutes == 1 else "minutes"
        triggers.add(("schedule", f"rate({minutes} {unit})", logical_id))
    return {"functions": functions, "mappings": mappings, "triggers": triggers}


def test_each_function_has_the_same_environment_keys_and_bounds(
    template: dict[str, Any], local: LocalRuntime
) -> None:
    deployed, embedded = _deployed(template)["functions"], _embedded(local)["functions"]
    assert set(deployed) == {spec.logical_id for spec in resources.FUNCTIONS}
    for logical_id, wiring in deployed.items():
        assert embedded[logical_id] == wiring, logical_id


def test_each_event_source_mapping_is_the_same(
    template: dict[str, Any], local: LocalRuntime
) -> None:
    deployed, embedded = _deployed(template)["mappings"], _embedded(local)["mappings"]
    assert deployed == embedded
    assert {mapping[0] for mapping in deployed} == {
        spec.logical_id for spec in resources.FUNCTIONS if spec.queue_trigger
    }


def test_each_rule_and_schedule_reaches_the_same_target(
    template: dict[str, Any], local: LocalRuntime
) -> None:
    deployed, embedded = _deployed(template)["triggers"], _embedded(local)["triggers"]
    assert deployed == embedded
    assert ("schedule", "rate(1 minute)", resources.SWEEP_FUNCTION.logical_id) in deployed


def test_functions_behind_the_api_answer_before_its_integration_timeout() -> None:
    """Otherwise API Gateway cuts a slow request with its own 504 and the function's
    answer (a clear 4xx, say) is lost."""
    behind_api = {route.function for route in resources.ROUTES}
    for spec in resources.FUNCTIONS:
        if spec.logical_id in behind_api:
            assert spec.timeout_seconds < resources.API_INTEGRATION_TIMEOUT_SECONDS, spec


def test_the_dialling_side_is_bounded_so_the_api_keeps_concurrency(
    template: dict[str, Any],
) -> None:
    """A big Map run of Dial invocations (and the sleeping simulator) must not take the
    account's 1,000 concurrent executions from the API and its authorizer."""
    functions = _deployed(template)["functions"]
    mappings = {mapping[0]: mapping[3] for mapping in _deployed(template)["mappings"]}
    for spec in (resources.DIAL_FUNCTION, resources.RECONCILE_FUNCTION, resources.SWEEP_FUNCTION):
        assert functions[spec.logical_id][3] == spec.max_concurrency, spec
    assert mappings[resources.SIMULATOR_FUNCTION.logical_id] is not None
    bounded = sum(limit or 0 for *_, limit in functions.values())
    # AWS keeps 100 of the default 1,000 unreserved; the API needs room in what is left.
    assert bounded <= 1000 - 100 - 200
    for spec in (resources.API_FUNCTION, resources.AUTHORIZER_FUNCTION):
        assert functions[spec.logical_id][3] is None  # never throttled by a reservation
    assert Settings.from_context({"maxConcurrency": '{"DialFunction": null}'}).max_concurrency == {
        "DialFunction": None
    }
