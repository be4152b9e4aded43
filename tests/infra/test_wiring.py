"""Generic wiring: a resource named in a function's environment resolves and is granted
by its kind; an unknown logical id or setting fails synthesis with a clear message. On a
small stack without the code asset, so it runs in about a second."""

import json

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from infra import resources
from infra.messaging import Messaging
from infra.stack import Settings
from infra.telephony import Telephony
from infra.wiring import Registry, UnknownResource
from tests.infra.support import of_type


def _spec(**environment: str) -> resources.FunctionSpec:
    return resources.FunctionSpec(
        "NewFunction", "batch_calls.handlers.x.handler", 10, 128, environment
    )


def test_unknown_logical_id_fails_loudly() -> None:
    with pytest.raises(UnknownResource, match=r"NewFunction: QUEUE_URL names 'NoSuchQueue'"):
        Registry().environment(_spec(QUEUE_URL="NoSuchQueue"))


def test_unknown_setting_fails_loudly() -> None:
    with pytest.raises(UnknownResource, match=r"wants the setting \$\{Nope\}"):
        Registry().environment(_spec(VALUE="${Nope}"))


def test_a_new_function_naming_the_bus_and_the_secret_gets_names_and_grants() -> None:
    stack = Stack(App(), "Wiring")
    registry = Registry()
    Messaging(stack, "Messaging", registry=registry)
    Telephony(stack, "Telephony", registry=registry, default_provider="simulated")
    spec = _spec(
        EVENT_BUS_NAME=resources.EVENT_BUS,
        TELEPHONY_SECRET_ARN=resources.TELEPHONY_SECRET.logical_id,
        LOAD_QUEUE_URL=resources.LOAD_QUEUE.logical_id,
    )
    environment = registry.environment(spec)
    assert set(environment) == set(spec.environment)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    registry.grant(spec, role)
    template = dict(Template.from_stack(stack).to_json())
    granted = json.dumps([p["Properties"] for p in of_type(template, "AWS::IAM::Policy").values()])
    for action in ("events:PutEvents", "secretsmanager:GetSecretValue", "sqs:SendMessage"):
        assert action in granted


def test_queue_visibility_outlasts_the_function_it_triggers() -> None:
    queues = {spec.logical_id: spec for spec in resources.QUEUES}
    for function in resources.FUNCTIONS:
        if function.queue_trigger is not None:
            queue = queues[function.queue_trigger[0]]
            assert queue.visibility_timeout_seconds >= function.timeout_seconds, function


def test_context_objects_come_from_cdk_json_or_as_json_text_from_the_command_line() -> None:
    given = Settings.from_context({"stage": "dev", "dialSettings": '{"CallWatchSeconds": 120}'})
    assert given.stage == "dev"
    assert given.dial == {**resources.DIAL_SETTINGS, "CallWatchSeconds": 120}
    assert Settings.from_context({}).dial == resources.DIAL_SETTINGS
    with pytest.raises(ValueError, match="dialSettings: unknown"):
        Settings.from_context({"dialSettings": {"CallWatch": 5}})
