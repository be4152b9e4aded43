"""The production stack's template: the properties issue 6 lists, resource by resource,
for every resource `infra.resources` declares (so one added there is checked too)."""

import json
import re
from typing import Any

from aws_cdk.assertions import Match, Template

from infra import resources
from infra.app import build_app
from infra.functions import RUNTIME
from local.api_gateway import LocalApiGateway
from local.simulator_api import LOCAL_ROUTES
from tests.infra.conftest import CDK_CONTEXT, STACK
from tests.infra.support import as_list, function_id, of_type, statements

# Actions that read or write the product's data: none may have Resource "*".
DATA_SERVICES = ("dynamodb:", "s3:", "sqs:", "states:", "secretsmanager:", "scheduler:", "events:")


def test_tables_are_on_demand_encrypted_with_pitr_ttl_and_the_spec_indexes(
    template: dict[str, Any],
) -> None:
    tables = of_type(template, "AWS::DynamoDB::Table")
    assert len(tables) == len(resources.TABLES)
    by_keys = {
        r["Properties"]["KeySchema"][0]["AttributeName"]: r["Properties"] for r in tables.values()
    }
    for spec in resources.TABLES:
        table = by_keys[spec.partition_key]
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["SSESpecification"]["SSEEnabled"] is True
        assert table["TimeToLiveSpecification"] == {
            "AttributeName": spec.ttl_attribute,
            "Enabled": True,
        }
        indexes = {
            index["IndexName"]: tuple(key["AttributeName"] for key in index["KeySchema"])
            for index in table.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == spec.indexes
    assert all(r["DeletionPolicy"] == "Retain" for r in tables.values())


def test_bucket_is_encrypted_private_tls_only_with_lifecycle_and_eventbridge(
    template: dict[str, Any],
) -> None:
    assertions = Template.from_json(template)
    for bucket in of_type(template, "AWS::S3::Bucket").values():
        properties = bucket["Properties"]
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert properties["LifecycleConfiguration"]["Rules"]
    assertions.resource_count_is("AWS::S3::BucketPolicy", 2)
    assertions.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )
    assertions.has_resource_properties(
        "Custom::S3BucketNotifications",
        {"NotificationConfiguration": {"EventBridgeConfiguration": {}}},
    )
    assertions.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [Match.object_like({"Prefix": resources.INCOMING_PREFIX, "Status": "Enabled"})]
                )
            }
        },
    )


def test_every_queue_has_its_dead_letter_queue_and_is_encrypted(template: dict[str, Any]) -> None:
    queues = of_type(template, "AWS::SQS::Queue")
    assert len(queues) == 2 * len(resources.QUEUES)
    redriven = {
        r["Properties"]["VisibilityTimeout"]: r["Properties"]["RedrivePolicy"]
        for r in queues.values()
        if "RedrivePolicy" in r["Properties"]
    }
    for spec in resources.QUEUES:
        assert redriven[spec.visibility_timeout_seconds]["maxReceiveCount"] == (
            spec.max_receive_count
        )
    assert all(r["Properties"]["SqsManagedSseEnabled"] for r in queues.values())


def _rules_from(template: dict[str, Any], source: str) -> list[dict[str, Any]]:
    return [
        rule
        for rule in of_type(template, "AWS::Events::Rule").values()
        if rule["Properties"].get("EventPattern", {}).get("source") == [source]
    ]


def test_drop_rule_sends_incoming_objects_to_the_drop_queue(template: dict[str, Any]) -> None:
    (rule,) = _rules_from(template, "aws.s3")
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"] == {"key": [{"prefix": resources.INCOMING_PREFIX}]}
    (target,) = rule["Properties"]["Targets"]
    drop_queue = target["Arn"]["Fn::GetAtt"][0]
    assert template["Resources"][drop_queue]["Properties"]["VisibilityTimeout"] == (
        resources.DROP_QUEUE.visibility_timeout_seconds
    )


def test_provider_event_rules_send_their_events_to_their_queues(
    template: dict[str, Any],
) -> None:
    for spec in resources.RULES:
        (rule,) = _rules_from(template, spec.event_pattern["source"][0])  # type: ignore[index]
        assert rule["Properties"]["EventPattern"] == spec.event_pattern
        (target,) = rule["Properties"]["Targets"]
        # CDK's logical ids start with the construct path: Messaging/<queue logical id>.
        assert target["Arn"]["Fn::GetAtt"][0].startswith("Messaging" + spec.target_queue)


def test_every_function_is_arm64_traced_logged_with_its_own_role_and_environment(
    template: dict[str, Any],
) -> None:
    roles = set()
    for spec in resources.FUNCTIONS:
        function = template["Resources"][function_id(template, spec.logical_id)]["Properties"]
        assert function["Architectures"] == ["arm64"]
        assert function["Runtime"] == RUNTIME.name
        assert function["Handler"] == spec.handler
        assert function["Timeout"] == spec.timeout_seconds
        assert function["MemorySize"] == spec.memory_mb
        assert function["TracingConfig"] == {"Mode": "Active"}
        log_group = template["Resources"][function["LoggingConfig"]["LogGroup"]["Ref"]]
        assert log_group["Properties"]["RetentionInDays"] > 0
        assert set(spec.environment) <= set(function["Environment"]["Variables"])
        roles.add(function["Role"]["Fn::GetAtt"][0])
    assert len(roles) == len(resources.FUNCTIONS)


def test_queue_triggers_report_partial_batch_failures(template: dict[str, Any]) -> None:
    mappings = {
        r["Properties"]["FunctionName"]["Ref"]: r["Properties"]
        for r in of_type(template, "AWS::Lambda::EventSourceMapping").values()
    }
    triggered = [spec for spec in resources.FUNCTIONS if spec.queue_trigger]
    assert len(mappings) == len(triggered)
    for spec in triggered:
        assert spec.queue_trigger is not None
        mapping = mappings[function_id(template, spec.logical_id)]
        assert mapping["BatchSize"] == spec.queue_trigger[1]
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_no_data_action_is_granted_on_every_resource(template: dict[str, Any]) -> None:
    for key, policy in of_type(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "*" not in as_list(statement["Resource"]):
                continue
            data = [a for a in as_list(statement["Action"]) if a.startswith(DATA_SERVICES)]
            assert not data, f"{key}: {data} on Resource '*'"


def test_functions_get_only_what_their_environment_names(template: dict[str, Any]) -> None:
    def actions(logical_id: str) -> set[str]:
        function = template["Resources"][function_id(template, logical_id)]["Properties"]
        role = function["Role"]["Fn::GetAtt"][0]
        return {a for s in statements(template, role) for a in as_list(s["Action"])}

    authorizer = actions(resources.AUTHORIZER_FUNCTION.logical_id)
    assert "dynamodb:GetItem" in authorizer
    assert not {a for a in authorizer if a.startswith(("s3:", "states:", "sqs:Send"))}
    api = actions(resources.API_FUNCTION.logical_id)
    assert {"states:StartExecution", "states:StopExecution", "sqs:SendMessage"} <= api
    assert {"scheduler:CreateSchedule", "scheduler:DeleteSchedule", "iam:PassRole"} <= api
    assert "lambda:InvokeFunction" not in api  # it hands StartRound to the scheduler
    assert "states:SendTaskSuccess" in actions(resources.CALL_EVENTS_FUNCTION.logical_id)
    simulator = actions(resources.SIMULATOR_FUNCTION.logical_id)
    assert not {a for a in simulator if a.startswith(("dynamodb:", "s3:", "states:"))}
    # Amazon Connect: the dial places calls, the reconcile looks them up, nobody else.
    assert "connect:StartOutboundVoiceContact" in actions(resources.DIAL_FUNCTION.logical_id)
    assert "connect:DescribeContact" in actions(resources.RECONCILE_FUNCTION.logical_id)
    connect_users = {
        spec.logical_id
        for spec in resources.FUNCTIONS
        if any(a.startswith("connect:") for a in actions(spec.logical_id))
    }
    assert connect_users == {
        resources.DIAL_FUNCTION.logical_id,
        resources.RECONCILE_FUNCTION.logical_id,
    }
    assert "secretsmanager:GetSecretValue" in actions(resources.DIAL_FUNCTION.logical_id)


def test_scheduler_role_may_only_invoke_start_round(template: dict[str, Any]) -> None:
    (role_id,) = [
        key
        for key, r in of_type(template, "AWS::IAM::Role").items()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "scheduler.amazonaws.com"}
    ]
    (statement,) = statements(template, role_id)
    assert statement["Action"] == "lambda:InvokeFunction"
    assert json.dumps(statement["Resource"]).count(f"{STACK}-{resources.START_ROUND}") == 1
    (group,) = of_type(template, "AWS::Scheduler::ScheduleGroup").values()
    assert group["Properties"]["Name"] == f"{STACK}-{resources.SCHEDULER_GROUP}"


def _method_paths(template: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    api_resources = of_type(template, "AWS::ApiGateway::Resource")

    def path(ref: dict[str, Any]) -> str:
        if "Fn::GetAtt" in ref:  # the API's root resource
            return ""
        resource = api_resources[ref["Ref"]]["Properties"]
        return path(resource["ParentId"]) + "/" + resource["PathPart"]

    return {
        (m["Properties"]["HttpMethod"], path(m["Properties"]["ResourceId"]) or "/"): m["Properties"]
        for m in of_type(template, "AWS::ApiGateway::Method").values()
    }


def test_the_authorizer_guards_every_route_but_the_public_ones(template: dict[str, Any]) -> None:
    (authorizer_id, authorizer), *_ = of_type(template, "AWS::ApiGateway::Authorizer").items()
    assert authorizer["Properties"]["Type"] == "REQUEST"
    # Bearer or x-api-key: no identity source can be required, so nothing is cached.
    assert not authorizer["Properties"].get("IdentitySource")
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 0
    methods = _method_paths(template)
    public = {(route.method, route.path) for route in resources.ROUTES if route.public}
    assert public <= set(methods)
    assert {("ANY", "/"), ("ANY", "/{proxy+}")} <= set(methods)
    for route, method in methods.items():
        if route in public:
            assert method["AuthorizationType"] == "NONE", route
        else:
            assert method["AuthorizationType"] == "CUSTOM", route
            assert method["AuthorizerId"] == {"Ref": authorizer_id}, route
        assert method["Integration"]["Type"] == "AWS_PROXY"


def test_api_has_binary_types_throttling_access_logs_and_tracing(template: dict[str, Any]) -> None:
    (api,) = of_type(template, "AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["BinaryMediaTypes"] == list(resources.BINARY_MEDIA_TYPES)
    (stage,) = of_type(template, "AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    assert properties["AccessLogSetting"]["DestinationArn"]
    assert properties["TracingEnabled"] is True
    (settings,) = [s for s in properties["MethodSettings"] if s["ResourcePath"] == "/*"]
    assert settings["ThrottlingRateLimit"] > 0
    assert settings["ThrottlingBurstLimit"] > 0
    assert settings["LoggingLevel"] == "ERROR"


def test_settings_reach_functions_without_a_cycle_or_a_secret_in_the_template(
    template: dict[str, Any],
) -> None:
    simulator = template["Resources"][
        function_id(template, resources.SIMULATOR_FUNCTION.logical_id)
    ]["Properties"]["Environment"]["Variables"]
    # The callback URL is built from the API's id, not from its stage (which depends on
    # the api function: a cycle as soon as the api function wants the URL).
    callback = json.dumps(simulator["CALLBACK_URL"])
    (api_id,) = of_type(template, "AWS::ApiGateway::RestApi")
    assert {"Ref": api_id} in simulator["CALLBACK_URL"]["Fn::Join"][1]
    assert "Stage" not in callback and "Deployment" not in callback
    # No secret's value reaches the template or an environment: a function gets the
    # secret's ARN (and the right to read it) and reads the value at run time.
    assert "resolve:secretsmanager" not in json.dumps(template)
    secrets = of_type(template, "AWS::SecretsManager::Secret")
    for generated in secrets.values():
        assert "SecretString" not in generated["Properties"]
    prefix = f"Telephony{resources.SIMULATOR_SECRET.logical_id}"
    (simulator_secret,) = [key for key in secrets if key.startswith(prefix)]
    assert simulator["SIMULATOR_SECRET_ARN"] == {"Ref": simulator_secret}
    assert "GenerateSecretString" in secrets[simulator_secret]["Properties"]
    # Deployed, webhooks go to public addresses only (the embedded runtime says "any").
    webhooks = template["Resources"][function_id(template, resources.WEBHOOK_FUNCTION.logical_id)]
    assert webhooks["Properties"]["Environment"]["Variables"]["WEBHOOK_ADDRESSES"] == "public"


def test_state_machine_logs_traces_and_substitutes_from_the_spec(
    template: dict[str, Any],
) -> None:
    (machine,) = of_type(template, "AWS::StepFunctions::StateMachine").values()
    properties = machine["Properties"]
    assert properties["StateMachineName"] == f"{STACK}-{resources.STATE_MACHINE}"
    assert properties["LoggingConfiguration"]["Level"] == "ALL"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    substitutions = properties["DefinitionSubstitutions"]
    for name, logical_id in resources.BATCH_ROUND.function_substitutions.items():
        assert substitutions[name] == {"Fn::GetAtt": [function_id(template, logical_id), "Arn"]}
    for name in resources.BATCH_ROUND.setting_substitutions:
        assert substitutions[name] == str(resources.DIAL_SETTINGS[name])


def test_alarms_watch_rounds_dead_letters_reconciliations_and_api_errors(
    template: dict[str, Any],
) -> None:
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    names = {r["Properties"].get("MetricName") for r in alarms.values()}
    assert {"ExecutionsFailed", "5XXError", "ApproximateNumberOfMessagesVisible"} <= names
    dead_letter_alarms = [
        r
        for r in alarms.values()
        if r["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    assert len(dead_letter_alarms) == len(resources.QUEUES)
    queries = json.dumps([r["Properties"].get("Metrics") for r in alarms.values()])
    assert "SUM(Reconciliations)" in queries
    (dashboard,) = of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in resources.METRIC_NAMES:
        assert metric in body
    # The Distributed Map's children report under the state machine's name.
    assert f"{STACK}-{resources.STATE_MACHINE}" in body
    assert "LiveCalls" in body and "ExecutionsFailed" in body
    # Every alarm reaches someone: the one topic, encrypted, TLS only.
    (topic_id, topic), *_ = of_type(template, "AWS::SNS::Topic").items()
    assert "KmsMasterKeyId" in topic["Properties"]
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}], alarm
    (policy,) = of_type(template, "AWS::SNS::TopicPolicy").values()
    assert "aws:SecureTransport" in json.dumps(policy)


def test_alarm_email_subscribes_to_the_topic() -> None:
    """From cdk.json's (or -c) alarmEmail: alarms mail the team."""
    app = build_app(context={**CDK_CONTEXT, "alarmEmail": "oncall@example.com"})
    template = app.synth().get_stack_by_name(STACK).template
    (subscription,) = of_type(template, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "oncall@example.com"


def test_outputs(template: dict[str, Any]) -> None:
    assert {
        "ApiUrl",
        "BucketName",
        "TableName",
        "StateMachineArn",
        "DashboardName",
        "AlarmTopicArn",
    } <= set(template["Outputs"])


def _integrated_function(template: dict[str, Any], method: dict[str, Any]) -> str:
    """The spec logical id of the function a method's proxy integration invokes."""
    uri = json.dumps(method["Integration"]["Uri"])
    (logical_id,) = [
        spec.logical_id
        for spec in resources.FUNCTIONS
        if f'"{function_id(template, spec.logical_id)}"' in uri
    ]
    return logical_id


def _example(path: str) -> str:
    """A request path that the resource path `path` matches."""
    return re.sub(r"\{[^}]+\+\}", "a/b", re.sub(r"\{[^}+]+\}", "x", path))


def test_every_api_route_goes_where_the_local_gateway_sends_it(template: dict[str, Any]) -> None:
    """Invariant 10: the deployed API and the embedded runtime's gateway route each
    method to the same function, with the same authorization; the local gateway adds
    only its /_local/ routes (it would have caught provider webhooks reaching the api
    function, which has no such route, in AWS)."""
    deployed = {
        route: (_integrated_function(template, method), method["AuthorizationType"] == "NONE")
        for route, method in _method_paths(template).items()
    }
    local = {}
    with LocalApiGateway(routes=(*resources.ROUTES, *LOCAL_ROUTES)) as gateway:
        for route in gateway.routes:
            method = route.method if route.method != "ANY" else "PATCH"
            assert gateway.route_for(method, _example(route.pattern)) is route, route.pattern
            local[(route.method, route.pattern)] = (route.spec.function, route.spec.public)
    local_only = {(route.method, route.path) for route in LOCAL_ROUTES}
    assert {k: v for k, v in local.items() if k not in local_only} == deployed
    events = ("POST", "/provider-events/simulated")
    chosen = gateway.route_for(*events)
    assert chosen is not None
    assert (chosen.spec.function, chosen.spec.public) == (
        resources.CALL_EVENTS_FUNCTION.logical_id,
        True,
    )


def test_provider_webhooks_have_their_own_throttle(template: dict[str, Any]) -> None:
    (stage,) = of_type(template, "AWS::ApiGateway::Stage").values()
    settings = {
        (s["HttpMethod"], s["ResourcePath"]): s for s in stage["Properties"]["MethodSettings"]
    }
    for route in resources.ROUTES:
        if route.throttle is None:
            continue
        # A method setting's resource path: "/", then the path with each / as ~1.
        own = settings[(route.method, "/" + route.path.replace("/", "~1"))]
        assert (own["ThrottlingRateLimit"], own["ThrottlingBurstLimit"]) == route.throttle
    assert any(route.throttle for route in resources.ROUTES if route.public)


def test_the_sweep_runs_every_minute(template: dict[str, Any]) -> None:
    """Calls nobody watches (a stopped run's) are reconciled in AWS as locally."""
    scheduled = {
        json.dumps(rule["Properties"]["Targets"]): rule["Properties"]["ScheduleExpression"]
        for rule in of_type(template, "AWS::Events::Rule").values()
        if "ScheduleExpression" in rule["Properties"]
    }
    sweep = function_id(template, resources.SWEEP_FUNCTION.logical_id)
    assert [rate for targets, rate in scheduled.items() if sweep in targets] == ["rate(1 minute)"]


def test_the_console_may_post_large_files_to_the_bucket_it_names(
    template: dict[str, Any],
) -> None:
    (bucket_id,) = [
        key
        for key, bucket in of_type(template, "AWS::S3::Bucket").items()
        if "CorsConfiguration" in bucket["Properties"]
    ]
    rules = template["Resources"][bucket_id]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rules == [{"AllowedMethods": ["POST"], "AllowedOrigins": ["*"]}]
    console = template["Resources"][function_id(template, resources.CONSOLE_FUNCTION.logical_id)]
    origins = json.dumps(console["Properties"]["Environment"]["Variables"]["UPLOAD_ORIGINS"])
    assert ".s3.amazonaws.com https://" in origins and bucket_id in origins
    assert "RegionalDomainName" in origins
    # Naming the bucket grants nothing: the console's role reads no data.
    assert "s3:" not in json.dumps(
        [
            policy
            for policy in of_type(template, "AWS::IAM::Policy").values()
            if "ConsoleFunction" in json.dumps(policy["Properties"]["Roles"])
        ]
    )
