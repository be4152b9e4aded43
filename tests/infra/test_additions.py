"""What a change adds to infra/resources.py appears in the stack without any change to
infra/: a queue with its triggered function, functions naming the event bus, the
telephony secret and a queue. Synthesised without bundling (the code asset is not
what this checks), in a few seconds."""

import json
from typing import Any

from aws_cdk import App

from infra import resources
from infra.app import FEATURE_FLAGS
from infra.stack import BatchCallsStack, Settings
from tests.infra.support import of_type, statements

ADDED_QUEUE = resources.QueueSpec("AddedQueue", visibility_timeout_seconds=60, max_receive_count=8)
TRIGGERED_FUNCTION = resources.FunctionSpec(
    "AddedTriggeredFunction",
    f"{resources.PACKAGE}.handlers.added.triggered",
    30,
    256,
    {"TABLE_NAME": resources.MAIN_TABLE.logical_id, "EVENT_BUS_NAME": resources.EVENT_BUS},
    queue_trigger=(ADDED_QUEUE.logical_id, 10),
)
SECRET_READER_FUNCTION = resources.FunctionSpec(
    "AddedSecretReaderFunction",
    f"{resources.PACKAGE}.handlers.added.reads_secret",
    30,
    256,
    {
        "TELEPHONY_SECRET": resources.TELEPHONY_SECRET.logical_id,
        "ADDED_QUEUE_URL": ADDED_QUEUE.logical_id,
    },
)


def _synthesise() -> dict[str, Any]:
    # No stack is bundled: the functions get a placeholder asset.
    app = App(context={**FEATURE_FLAGS, "aws:cdk:bundling-stacks": []})
    stack = BatchCallsStack(
        app,
        "Additions",
        settings=Settings(),
        functions=(*resources.FUNCTIONS, TRIGGERED_FUNCTION, SECRET_READER_FUNCTION),
        queues=(*resources.QUEUES, ADDED_QUEUE),
    )
    return dict(app.synth().get_stack_by_name(stack.stack_name).template)


def _function(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    (function,) = [
        r["Properties"]
        for r in of_type(template, "AWS::Lambda::Function").values()
        if r["Properties"].get("FunctionName") == f"Additions-{logical_id}"
    ]
    return function


def test_added_queue_function_bus_and_secret_users_are_built_and_granted() -> None:
    template = _synthesise()
    queues = of_type(template, "AWS::SQS::Queue")
    assert len(queues) == 2 * (len(resources.QUEUES) + 1)
    triggered = _function(template, TRIGGERED_FUNCTION.logical_id)
    assert triggered["Environment"]["Variables"]["EVENT_BUS_NAME"] == {
        "Ref": next(iter(of_type(template, "AWS::Events::EventBus")))
    }
    mappings = [
        r["Properties"] for r in of_type(template, "AWS::Lambda::EventSourceMapping").values()
    ]
    assert len(mappings) == 1 + sum(1 for s in resources.FUNCTIONS if s.queue_trigger)
    assert all(m["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings)

    def actions(function: dict[str, Any]) -> str:
        return json.dumps(statements(template, function["Role"]["Fn::GetAtt"][0]))

    assert "events:PutEvents" in actions(triggered)
    reader = _function(template, SECRET_READER_FUNCTION.logical_id)
    assert "secretsmanager:GetSecretValue" in actions(reader)
    assert "sqs:SendMessage" in actions(reader)
    alarms = [
        r
        for r in of_type(template, "AWS::CloudWatch::Alarm").values()
        if r["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    assert len(alarms) == len(resources.QUEUES) + 1
