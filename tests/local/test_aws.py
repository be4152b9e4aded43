"""The embedded AWS: resources from infra.resources, and every path into a handler."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import boto3
import pytest

from infra.resources import DROP_QUEUE, INCOMING_PREFIX, LOAD_QUEUE, MAIN_TABLE
from local import lambda_runtime
from local.aws import EmbeddedAws
from local.sqs_poller import partial_batch_failures
from tests.local import fake_handlers
from tests.local.support import FAIL_QUEUE, wait_until


def test_tables_have_the_spec_keys_index_and_ttl(aws: EmbeddedAws) -> None:
    dynamodb = boto3.client("dynamodb")
    table = dynamodb.describe_table(TableName="batch-calls-local-table")["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    indexes = {
        index["IndexName"]: tuple(k["AttributeName"] for k in index["KeySchema"])
        for index in table["GlobalSecondaryIndexes"]
    }
    assert indexes == MAIN_TABLE.indexes
    ttl = dynamodb.describe_time_to_live(TableName="batch-calls-local-table")
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }
    idempotency = dynamodb.describe_table(TableName=aws.resources["IdempotencyTable"].name)
    assert idempotency["Table"]["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


def test_queues_have_dead_letter_queues(aws: EmbeddedAws) -> None:
    sqs = boto3.client("sqs")
    for spec in (DROP_QUEUE, LOAD_QUEUE):
        queue = aws.resources[spec.logical_id]
        attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])[
            "Attributes"
        ]
        assert attributes["VisibilityTimeout"] == str(spec.visibility_timeout_seconds)
        assert json.loads(attributes["RedrivePolicy"]) == {
            "deadLetterTargetArn": aws.resources[f"{spec.logical_id}DLQ"].arn,
            "maxReceiveCount": spec.max_receive_count,
        }


def test_bucket_rule_and_functions_follow_the_spec(aws: EmbeddedAws) -> None:
    bucket = aws.resources["Bucket"].name
    assert bucket == "batch-calls-local-bucket"
    # EventBridge notifications: moto's GetBucketNotificationConfiguration does not echo
    # them, so the S3 drop test below is what shows they are on.

    events = boto3.client("events")
    rule = events.describe_rule(Name="batch-calls-local-droprule")
    assert json.loads(rule["EventPattern"])["detail"]["object"] == {
        "key": [{"prefix": INCOMING_PREFIX}]
    }
    (target,) = events.list_targets_by_rule(Rule="batch-calls-local-droprule")["Targets"]
    assert target["Arn"] == aws.resources["DropQueue"].arn

    lam = boto3.client("lambda")
    config = lam.get_function_configuration(FunctionName="batch-calls-local-apifunction")
    assert config["Handler"] == "tests.local.fake_handlers.echo"
    assert config["Timeout"] == 29
    assert config["Environment"]["Variables"] == {
        "TABLE_NAME": "batch-calls-local-table",
        "BUCKET_NAME": "batch-calls-local-bucket",
        "LOAD_QUEUE_URL": aws.resources["LoadQueue"].url,
    }
    (mapping,) = lam.list_event_source_mappings(FunctionName="batch-calls-local-dropfunction")[
        "EventSourceMappings"
    ]
    assert mapping["EventSourceArn"] == aws.resources["DropQueue"].arn
    assert mapping["BatchSize"] == 1
    assert aws.env()["TABLE_NAME"] == "batch-calls-local-table"
    assert aws.env()["AWS_ENDPOINT_URL"] == aws.endpoint_url


def test_invoke_runs_the_handler_in_process_with_its_environment(aws: EmbeddedAws) -> None:
    response = boto3.client("lambda").invoke(
        FunctionName="batch-calls-local-apifunction", Payload=json.dumps({"hello": "world"})
    )
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    body = json.loads(json.loads(response["Payload"].read())["body"])
    assert body["event"] == {"hello": "world"}
    assert body["env"] == {
        "TABLE_NAME": "batch-calls-local-table",
        "BUCKET_NAME": "batch-calls-local-bucket",
        "LOAD_QUEUE_URL": aws.resources["LoadQueue"].url,
        "AWS_ENDPOINT_URL": aws.endpoint_url,
    }
    context = body["context"]
    assert context["function_name"] == "batch-calls-local-apifunction"
    assert context["invoked_function_arn"] == aws.resources["ApiFunction"].arn
    assert context["memory_limit_in_mb"] == 1769
    assert context["log_group_name"] == "/aws/lambda/batch-calls-local-apifunction"
    assert 0 < context["remaining_ms"] <= 29_000
    uuid.UUID(context["aws_request_id"])


def test_a_raising_handler_is_reported_as_lambda_does(aws: EmbeddedAws) -> None:
    response = boto3.client("lambda").invoke(FunctionName="batch-calls-local-crashfunction")
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "the handler broke"
    assert any("fake_handlers.py" in line for line in error["stackTrace"])


def test_direct_invoke_by_logical_id(aws: EmbeddedAws) -> None:
    assert lambda_runtime.invoke("DoubleFunction", {"n": 21}) == {"doubled": 42}
    with pytest.raises(lambda_runtime.LambdaFunctionError) as raised:
        lambda_runtime.invoke("CrashFunction", {})
    assert raised.value.error_type == "ValueError"


def test_async_invoke_returns_202_and_runs_in_the_background(aws: EmbeddedAws) -> None:
    marker = str(uuid.uuid4())
    response = boto3.client("lambda").invoke(
        FunctionName="batch-calls-local-asyncfunction",
        InvocationType="Event",
        Payload=json.dumps({"marker": marker}),
    )
    assert response["StatusCode"] == 202
    wait_until(lambda: [e for e in fake_handlers.ASYNC_EVENTS if e.get("marker") == marker])


def _records_with_body(marker: str) -> list[dict[str, Any]]:
    return [
        record
        for event in list(fake_handlers.RECORDS)
        for record in event.get("Records", [])
        if marker in record["body"]
    ]


def test_an_sqs_message_reaches_its_function(aws: EmbeddedAws) -> None:
    marker = str(uuid.uuid4())
    queue = aws.resources["LoadQueue"]
    boto3.client("sqs").send_message(
        QueueUrl=queue.url,
        MessageBody=json.dumps({"marker": marker}),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "load"}},
    )
    (record,) = wait_until(lambda: _records_with_body(marker))
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue.arn
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"]["stringValue"] == "load"

    # Deleted once the handler succeeded: nothing waiting, nothing in flight.
    def queue_is_empty() -> bool:
        counts = boto3.client("sqs").get_queue_attributes(
            QueueUrl=queue.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return set(counts.values()) == {"0"}

    wait_until(queue_is_empty)


def test_s3_drop_reaches_the_drop_function_through_eventbridge_and_sqs(aws: EmbeddedAws) -> None:
    s3 = boto3.client("s3")
    bucket = aws.resources["Bucket"].name
    name = f"{uuid.uuid4()}.csv"
    s3.put_object(Bucket=bucket, Key=f"elsewhere/{name}", Body=b"phone_number\n")
    s3.upload_fileobj(
        io.BytesIO(b"phone_number\n+14155550101\n"),
        bucket,
        f"{INCOMING_PREFIX}{name}",
        ExtraArgs={"Metadata": {"agent-id": "agent_1", "from-phone-number": "+14155550100"}},
    )
    records = wait_until(lambda: _records_with_body(name))
    (record,) = records  # the object outside incoming/ sent nothing
    assert record["eventSourceARN"] == aws.resources["DropQueue"].arn
    event = json.loads(record["body"])
    assert event["source"] == "aws.s3"
    assert event["detail-type"] == "Object Created"
    assert event["detail"]["bucket"]["name"] == bucket
    key = event["detail"]["object"]["key"]
    assert key == f"{INCOMING_PREFIX}{name}"
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["Metadata"] == {"agent-id": "agent_1", "from-phone-number": "+14155550100"}


def test_a_failing_message_is_retried_then_dead_lettered(aws: EmbeddedAws) -> None:
    marker = str(uuid.uuid4())
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=aws.resources["FailQueue"].url, MessageBody=marker)
    dlq = aws.resources["FailQueueDLQ"].url

    def dead_lettered() -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = sqs.receive_message(
            QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        return [m for m in messages if m["Body"] == marker]

    wait_until(dead_lettered, timeout=15)
    assert fake_handlers.FAILED_ATTEMPTS.count(marker) == FAIL_QUEUE.max_receive_count


def _run_state_machine(definition: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """Run `definition` in moto's interpreter; the finished execution's description."""
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"test-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/batch-calls-local-states",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(state))

    def finished() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution["executionArn"])
        return described if described["status"] != "RUNNING" else None

    return wait_until(finished)


def test_step_functions_lambda_invoke_reaches_the_handler(aws: EmbeddedAws) -> None:
    function_arn = aws.resources["DoubleFunction"].arn
    definition = {
        "StartAt": "Integration",
        "States": {
            "Integration": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                "ResultSelector": {"n.$": "$.Payload.doubled"},
                "TimeoutSeconds": 10,
                "Next": "Direct",
            },
            "Direct": {
                "Type": "Task",
                "Resource": function_arn,
                "TimeoutSeconds": 10,
                "End": True,
            },
        },
    }
    described = _run_state_machine(definition, {"n": 5})
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"doubled": 20}


def test_only_one_embedded_aws_runs_at_a_time(aws: EmbeddedAws) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        EmbeddedAws().start()
    other = EmbeddedAws()
    other.stop()  # stopping one that never started leaves the running one alone
    assert lambda_runtime.installed()


def test_partial_batch_responses_are_read_as_lambda_reads_them() -> None:
    batch = {"m1", "m2"}

    def failures(*ids: str) -> bytes:
        return json.dumps({"batchItemFailures": [{"itemIdentifier": i} for i in ids]}).encode()

    assert partial_batch_failures(b"null", batch) == set()
    assert partial_batch_failures(failures(), batch) == set()
    assert partial_batch_failures(failures("m2"), batch) == {"m2"}
    # An unknown or empty identifier fails the whole batch.
    assert partial_batch_failures(failures("x"), batch) is None
    assert partial_batch_failures(failures(""), batch) is None


def test_step_functions_sees_a_handler_error_as_lambda_reports_it(aws: EmbeddedAws) -> None:
    definition = {
        "StartAt": "Crash",
        "States": {
            "Crash": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": aws.resources["CrashFunction"].arn},
                "TimeoutSeconds": 10,
                "Catch": [
                    {"ErrorEquals": ["ValueError"], "ResultPath": "$.error", "Next": "Caught"}
                ],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    described = _run_state_machine(definition, {})
    assert described["status"] == "SUCCEEDED", described
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "ValueError"
    assert json.loads(error["Cause"])["errorMessage"] == "the handler broke"
