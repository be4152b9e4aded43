"""What other branches will add to infra/resources.py appears in the stack without any
change to infra/: a webhook queue with its triggered function, a function naming the
event bus and the telephony secret. Synthesised without bundling (the code asset is not
what this checks), in a few seconds."""

import json
from typing import Any

from aws_cdk import App

from infra import resources
from infra.app import FEATURE_FLAGS
from infra.stack import BatchCallsStack, Settings
from tests.infra.support import of_type, statements

WEBHOOK_QUEUE = resources.QueueSpec(
    "WebhookQueue", visibility_timeout_seconds=60, max_receive_count=8
)
WEBHOOK_FUNCTION = resources.FunctionSpec(
    "WebhookFunction",
    f"{resources.PACKAGE}.handlers.webhooks.lambda_handler",
    30,
    256,
    {"TABLE_NAME": resources.MAIN_TABLE.logical_id, "EVENT_BUS_NAME": resources.EVENT_BUS},
    queue_trigger=(WEBHOOK_QUEUE.logical_id, 10),
)
CONTACT_EVENTS_FUNCTION = resources.FunctionSpec(
    "ContactEventsFunction",
    f"{resources.PACKAGE}.handlers.contact_events.lambda_handler",
    30,
    256,
    {
        "TELEPHONY_SECRET": resources.TELEPHONY_SECRET.logical_id,
        "WEBHOOK_QUEUE_URL": WEBHOOK_QUEUE.logical_id,
    },
)


def _synthesise() -> dict[str, Any]:
    # No stack is bundled: the functions get a placeholder asset.
    app = App(context={**FEATURE_FLAGS, "aws:cdk:bundling-stacks": []})
    stack = BatchCallsStack(
        app,
        "Additions",
        settings=Settings(),
        functions=(*resources.FUNCTIONS, WEBHOOK_FUNCTION, CONTACT_EVENTS_FUNCTION),
        queues=(*resources.QUEUES, WEBHOOK_QUEUE),
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
    webhook = _function(template, WEBHOOK_FUNCTION.logical_id)
    assert webhook["Environment"]["Variables"]["EVENT_BUS_NAME"] == {
        "Ref": next(iter(of_type(template, "AWS::Events::EventBus")))
    }
    mappings = [
        r["Properties"] for r in of_type(template, "AWS::Lambda::EventSourceMapping").values()
    ]
    assert len(mappings) == 1 + sum(1 for s in resources.FUNCTIONS if s.queue_trigger)
    assert all(m["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings)

    def actions(function: dict[str, Any]) -> str:
        return json.dumps(statements(template, function["Role"]["Fn::GetAtt"][0]))

    assert "events:PutEvents" in actions(webhook)
    contact = _function(template, CONTACT_EVENTS_FUNCTION.logical_id)
    assert "secretsmanager:GetSecretValue" in actions(contact)
    assert "sqs:SendMessage" in actions(contact)
    alarms = [
        r
        for r in of_type(template, "AWS::CloudWatch::Alarm").values()
        if r["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    assert len(alarms) == len(resources.QUEUES) + 1
