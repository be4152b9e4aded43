"""The embedded AWS: a moto server in this process with the stack's resources created in it.

`EmbeddedAws` starts moto's `ThreadedMotoServer` on 127.0.0.1, points this process at it
through the standard variables (`AWS_ENDPOINT_URL`, fake credentials, a region), so
handler code that only makes plain boto3 clients reaches it unchanged, turns on moto's
Step Functions interpreter and its Docker-free Lambda, installs the in-process Lambda
runtime (`local.lambda_runtime`) and the SQS event source poller (`local.sqs_poller`), and
creates the tables, bucket, queues, secrets, event bus, EventBridge rules and functions of
`infra.resources`.

moto keeps its state in process-wide backends, so one `EmbeddedAws` runs at a time; on
exit it resets moto, restores the variables it changed and removes its patches.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import secrets
import sys
import threading
import urllib.request
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import boto3  # type: ignore[import-untyped, unused-ignore]
from moto.core.config import default_user_config
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer

from infra.resources import (
    BATCH_ROUND,
    BUCKET,
    DIAL_SETTINGS,
    DLQ_SUFFIX,
    DROP_QUEUE,
    DROP_RULE,
    EVENT_BUS,
    FUNCTIONS,
    INCOMING_PREFIX,
    QUEUES,
    RULES,
    SCHEDULER_GROUP,
    SCHEDULER_ROLE,
    SECRETS,
    TABLES,
    UPLOAD_ORIGINS_SETTING,
    FunctionSpec,
    QueueSpec,
    RuleSpec,
    SecretSpec,
    StateMachineSpec,
    TableSpec,
    environment_value,
    setting_name,
)
from local import lambda_runtime, moto_costs, moto_dynamodb
from local.scheduler_pump import SchedulerPump
from local.sqs_poller import SqsEventSourcePoller

REPOSITORY = Path(__file__).resolve().parents[1]

REGION = "us-east-1"
NAME_PREFIX = "batch-calls-local"
# Fourteen days, the longest SQS keeps a message: time to look at what failed.
DLQ_RETENTION_SECONDS = 14 * 24 * 3600

# What moto must be told before anything runs (POST /moto-api/config replaces each
# section it names, so each section is given whole).
MOTO_CONFIG: dict[str, Any] = {
    "lambda": {"use_docker": False},
    "stepfunctions": {"execute_state_machine": True},
}


@dataclass(frozen=True)
class Resource:
    """A created resource: its logical id in `infra.resources` and its physical identity."""

    logical_id: str
    kind: str  # table | bucket | queue | secret | rule | function
    name: str
    arn: str
    url: str | None = None  # queues only

    def value_for(self, variable: str) -> str:
        """What an environment variable named `variable` holds for this resource."""
        return environment_value(variable, name=self.name, arn=self.arn, url=self.url)


class _Running:
    """The one EmbeddedAws of this process (moto's backends are process-wide)."""

    lock = threading.Lock()
    instance: EmbeddedAws | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EmbeddedAws:
    """A moto server with the stack's resources, for tests and for running the product.

    `functions`, `tables` and `queues` default to the stack's; tests pass their own (fake
    handlers, a queue with a short visibility timeout). `secret_values` gives a secret's
    value by logical id (a secret not given holds `{}`, as an unconfigured deployment's, or
    a random key if Secrets Manager generates it in AWS).
    """

    def __init__(
        self,
        functions: tuple[FunctionSpec, ...] = FUNCTIONS,
        *,
        tables: tuple[TableSpec, ...] = TABLES,
        queues: tuple[QueueSpec, ...] = QUEUES,
        name_prefix: str = NAME_PREFIX,
        region: str = REGION,
        port: int = 0,
        poll_wait_seconds: int = 1,
        log_requests: bool = False,
        settings: Mapping[str, str] | None = None,
        state_machines: tuple[StateMachineSpec, ...] = (BATCH_ROUND,),
        dial_settings: Mapping[str, int] = DIAL_SETTINGS,
        secrets: tuple[SecretSpec, ...] = SECRETS,
        secret_values: Mapping[str, str] | None = None,
        rules: tuple[RuleSpec, ...] = RULES,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.functions = functions
        self.secrets = secrets
        self._secret_values = dict(secret_values or {})
        unknown = set(self._secret_values) - {spec.logical_id for spec in secrets}
        if unknown:
            raise ValueError(f"secret_values names no secret of the stack: {sorted(unknown)}")
        self.rules = rules
        self.clock = clock  # the scheduler pump's (the product's) clock; None: real time
        # Values of the functions' `${Name}` settings (infra.resources.setting).
        self.settings = {**{k: str(v) for k, v in dial_settings.items()}, **(settings or {})}
        # A state machine is created only when its functions are among `functions`.
        known = {spec.logical_id for spec in functions}
        self.state_machines = tuple(
            machine
            for machine in state_machines
            if set(machine.function_substitutions.values()) <= known
        )
        self.dial_settings = dict(dial_settings)
        self._pump: SchedulerPump | None = None
        self.tables = tables
        self.queues = queues
        self.name_prefix = name_prefix
        self.region = region
        self.account_id = DEFAULT_ACCOUNT_ID
        self._requested_port = port
        self._poll_wait_seconds = poll_wait_seconds
        self._log_requests = log_requests
        self._server: ThreadedMotoServer | None = None
        self._poller: SqsEventSourcePoller | None = None
        self._saved_environ: dict[str, str | None] = {}
        self._saved_config: dict[str, Any] = {}
        self._saved_werkzeug_level: int | None = None
        self.port = 0
        self.resources: dict[str, Resource] = {}

    # -- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        with _Running.lock:
            if _Running.instance is not None:
                raise RuntimeError("an EmbeddedAws is already running in this process")
            _Running.instance = self
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        if not self._log_requests:
            # The moto server (werkzeug) logs every request at INFO.
            werkzeug = logging.getLogger("werkzeug")
            self._saved_werkzeug_level = werkzeug.level
            werkzeug.setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(
            ip_address="127.0.0.1", port=self._requested_port, verbose=False
        )
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        self._set_environ(self.connection_env())
        # The server runs in this process, so its config is moto's module-level one.
        self._saved_config = copy.deepcopy(
            {
                "lambda": default_user_config["lambda"],
                "stepfunctions": default_user_config["stepfunctions"],
            }
        )
        self._post("/moto-api/config", MOTO_CONFIG)
        moto_dynamodb.install()
        moto_costs.install()
        lambda_runtime.install(
            {spec.logical_id: self.physical_name(spec.logical_id) for spec in self.functions},
            region=self.region,
            account_id=self.account_id,
        )
        self._poller = SqsEventSourcePoller(
            self.endpoint_url,
            region=self.region,
            account_id=self.account_id,
            wait_seconds=self._poll_wait_seconds,
        )
        self._poller.start()
        self._create_tables()
        self._create_bucket()
        self._create_queues()
        self._create_secrets()
        self._create_drop_rule()
        self._create_event_bus()
        self._create_rules()
        self._create_scheduling()
        self._predict_functions_and_state_machines()
        self._set_environ(self.function_env())
        self._create_functions()
        self._create_state_machines()
        self._pump = SchedulerPump(
            self.client("scheduler"),
            self.resources[SCHEDULER_GROUP].name,
            lambda_runtime.invoke,
            clock=self.clock or _utc_now,
            recurring={
                self.physical_name(logical_id): period
                for logical_id, period in self.recurring().items()
            },
        )
        self._pump.start()

    def stop(self) -> None:
        with _Running.lock:
            if _Running.instance is not self:
                return  # not started (or already stopped)
        if self._pump is not None:
            self._pump.stop()
            self._pump = None
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        if self._server is not None:
            try:
                self._stop_executions()
                self._post("/moto-api/reset", None)
                self._post("/moto-api/config", self._saved_config)
            finally:
                self._server.stop()
                self._server = None
        lambda_runtime.uninstall()
        moto_dynamodb.uninstall()
        moto_costs.uninstall()
        self._restore_environ()
        if self._saved_werkzeug_level is not None:
            logging.getLogger("werkzeug").setLevel(self._saved_werkzeug_level)
            self._saved_werkzeug_level = None
        self.resources = {}
        with _Running.lock:
            _Running.instance = None

    def _stop_executions(self) -> None:
        """Stop every execution still running (a batch left paused mid-call, slots
        napping): moto's interpreter threads outlive a reset otherwise, and would go on
        calling a server that is gone, in whatever this process runs next."""
        sfn = self.client("stepfunctions")
        for machine in self.state_machines:
            arn = self.resources[machine.logical_id].arn
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=arn, statusFilter="RUNNING"
            )
            for page in pages:
                for execution in page["executions"]:
                    sfn.stop_execution(executionArn=execution["executionArn"])

    # -- what the process is given -----------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connection_env(self) -> dict[str, str]:
        """The variables that send every boto3 client of this process to the moto server."""
        return {
            "MOTO_PORT": str(self.port),
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_SECURITY_TOKEN": "testing",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def function_env(self) -> dict[str, str]:
        """The union of the functions' environments, resolved to physical values.

        Exported into the process once, because handlers run in its threads (see
        `local.lambda_runtime`); two functions giving one variable different values is
        an error.
        """
        merged: dict[str, str] = {}
        for spec in self.functions:
            for variable, value in self.resolve_environment(spec).items():
                if merged.setdefault(variable, value) != value:
                    raise ValueError(
                        f"{variable} is {merged[variable]!r} for one function and "
                        f"{value!r} for {spec.logical_id}: the embedded runtime shares "
                        "one process environment"
                    )
        return merged

    def env(self) -> dict[str, str]:
        """Everything exported to this process: the connection and the functions' variables."""
        return {**self.connection_env(), **self.function_env()}

    def resolve_environment(self, spec: FunctionSpec) -> dict[str, str]:
        resolved: dict[str, str] = {}
        for variable, logical_id in spec.environment.items():
            setting = setting_name(logical_id)
            if setting is not None:
                # A setting not given stays unset: a stack started without it (tests of
                # other parts) still starts, and the function says what is missing if run.
                if setting in self.settings:
                    resolved[variable] = self.settings[setting]
                continue
            resource = self.resources.get(logical_id)
            if resource is None:
                raise ValueError(
                    f"{spec.logical_id}: {variable} names {logical_id!r}, "
                    f"which is not among {sorted(self.resources)}"
                )
            resolved[variable] = resource.value_for(variable)
        return resolved

    def recurring(self) -> dict[str, timedelta]:
        """Function logical id -> the period it is invoked at (EventBridge rules in AWS)."""
        return {
            spec.logical_id: timedelta(minutes=spec.every_minutes)
            for spec in self.functions
            if spec.every_minutes is not None
        }

    def physical_name(self, logical_id: str) -> str:
        return f"{self.name_prefix}-{logical_id.lower()}"

    def client(self, service: str) -> Any:
        """A boto3 client of the moto server, whatever this process's variables say."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    # -- creation ----------------------------------------------------------------------

    def _create_tables(self) -> None:
        dynamodb = self.client("dynamodb")
        for spec in self.tables:
            name = self.physical_name(spec.logical_id)
            self._add(Resource(spec.logical_id, "table", name, create_table(dynamodb, spec, name)))

    def _create_bucket(self) -> None:
        s3 = self.client("s3")
        name = self.physical_name(BUCKET)
        s3.create_bucket(Bucket=name)
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        self._add(Resource(BUCKET, "bucket", name, f"arn:aws:s3:::{name}"))
        # Where a browser posts presigned uploads (the console's CSP): moto's server, which
        # answers CORS on every route (the stack gives its bucket a CORS rule instead).
        self.settings.setdefault(str(setting_name(UPLOAD_ORIGINS_SETTING)), self.endpoint_url)

    def _create_queues(self) -> None:
        sqs = self.client("sqs")
        for spec in self.queues:
            dlq = self._create_queue(
                sqs,
                spec.logical_id + DLQ_SUFFIX,
                {"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)},
            )
            redrive = {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": spec.max_receive_count}
            self._create_queue(
                sqs,
                spec.logical_id,
                {
                    "VisibilityTimeout": str(spec.visibility_timeout_seconds),
                    "RedrivePolicy": json.dumps(redrive),
                },
            )

    def _create_queue(self, sqs: Any, logical_id: str, attributes: dict[str, str]) -> Resource:
        name = self.physical_name(logical_id)
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return self._add(Resource(logical_id, "queue", name, arn, url))

    def _create_drop_rule(self) -> None:
        if DROP_QUEUE.logical_id not in self.resources:
            return  # a test stack without the drop queue
        events = self.client("events")
        name = self.physical_name(DROP_RULE)
        pattern = {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {
                "bucket": {"name": [self.resources[BUCKET].name]},
                "object": {"key": [{"prefix": INCOMING_PREFIX}]},
            },
        }
        arn = events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED")[
            "RuleArn"
        ]
        events.put_targets(
            Rule=name,
            Targets=[{"Id": "drop-queue", "Arn": self.resources[DROP_QUEUE.logical_id].arn}],
        )
        self._add(Resource(DROP_RULE, "rule", name, arn))

    def _create_event_bus(self) -> None:
        name = self.physical_name(EVENT_BUS)
        arn = self.client("events").create_event_bus(Name=name)["EventBusArn"]
        self._add(Resource(EVENT_BUS, "event-bus", name, arn))

    def _create_secrets(self) -> None:
        secretsmanager = self.client("secretsmanager")
        for spec in self.secrets:
            name = self.physical_name(spec.logical_id)
            arn = secretsmanager.create_secret(
                Name=name,
                Description=spec.description,
                SecretString=self._secret_value(spec),
            )["ARN"]
            self._add(Resource(spec.logical_id, "secret", name, arn))

    def _secret_value(self, spec: SecretSpec) -> str:
        """The value given for it; else a key made for this run when Secrets Manager would
        generate one in AWS; else `{}`, an unconfigured deployment's."""
        if spec.logical_id in self._secret_values:
            return self._secret_values[spec.logical_id]
        return secrets.token_urlsafe(36) if spec.generated else "{}"

    def put_secret(self, logical_id: str, value: str) -> None:
        """Change a secret's value (functions read it again after their next cold start)."""
        self.client("secretsmanager").put_secret_value(
            SecretId=self.resources[logical_id].arn, SecretString=value
        )

    def _create_rules(self) -> None:
        """Rules on the default bus that deliver to a queue of the stack."""
        events = self.client("events")
        for spec in self.rules:
            queue = self.resources.get(spec.target_queue)
            if queue is None:
                continue  # a test stack without the rule's queue
            name = self.physical_name(spec.logical_id)
            arn = events.put_rule(
                Name=name,
                Description=spec.description,
                EventPattern=json.dumps(spec.event_pattern),
                State="ENABLED",
            )["RuleArn"]
            events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue.arn}])
            self._add(Resource(spec.logical_id, "rule", name, arn))

    def _create_functions(self) -> None:
        # moto checks that Lambda may assume the role.
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = self.client("iam").create_role(
            RoleName=f"{self.name_prefix}-lambda", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]
        lam = self.client("lambda")
        code = _placeholder_zip()
        runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
        for spec in self.functions:
            name = self.physical_name(spec.logical_id)
            arn = lam.create_function(
                FunctionName=name,
                Runtime=runtime,
                Role=role,
                Handler=spec.handler,
                Code={"ZipFile": code},
                Timeout=spec.timeout_seconds,
                MemorySize=spec.memory_mb,
                Environment={"Variables": self.resolve_environment(spec)},
            )["FunctionArn"]
            self._add(Resource(spec.logical_id, "function", name, arn))
            # The bounds are recorded as in AWS (the in-process runtime does not throttle).
            if spec.queue_trigger is not None:
                queue_id, batch_size = spec.queue_trigger
                lam.create_event_source_mapping(
                    EventSourceArn=self.resources[queue_id].arn,
                    FunctionName=name,
                    BatchSize=batch_size,
                    Enabled=True,
                    # Every queue handler answers with the partial batch response, so one
                    # failed record is retried alone (CDK: report_batch_item_failures).
                    FunctionResponseTypes=["ReportBatchItemFailures"],
                    **(
                        {"ScalingConfig": {"MaximumConcurrency": spec.max_concurrency}}
                        if spec.max_concurrency
                        else {}
                    ),
                )
            elif spec.max_concurrency is not None:
                lam.put_function_concurrency(
                    FunctionName=name, ReservedConcurrentExecutions=spec.max_concurrency
                )

    def _create_scheduling(self) -> None:
        """The schedule group and the role schedules use to invoke StartRound."""
        name = self.physical_name(SCHEDULER_GROUP)
        arn = self.client("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
        self._add(Resource(SCHEDULER_GROUP, "schedule-group", name, arn))
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "scheduler.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = self.client("iam").create_role(
            RoleName=self.physical_name(SCHEDULER_ROLE), AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]
        self._add(Resource(SCHEDULER_ROLE, "role", role["RoleName"], role["Arn"]))

    def _predict_functions_and_state_machines(self) -> None:
        """Functions name each other and the state machine in their environment, and the
        state machine names the functions: their ARNs are known before either exists."""
        for spec in self.functions:
            name = self.physical_name(spec.logical_id)
            arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
            self._add(Resource(spec.logical_id, "function", name, arn))
        for machine in self.state_machines:
            name = self.physical_name(machine.logical_id)
            arn = f"arn:aws:states:{self.region}:{self.account_id}:stateMachine:{name}"
            self._add(Resource(machine.logical_id, "state-machine", name, arn))

    def _create_state_machines(self) -> None:
        """From the same ASL file and the same substitutions as the CDK stack."""
        sfn = self.client("stepfunctions")
        role = self.resources[SCHEDULER_ROLE].arn
        for machine in self.state_machines:
            definition = substitute(
                (REPOSITORY / machine.definition).read_text(),
                {
                    **{
                        name: self.resources[logical_id].arn
                        for name, logical_id in machine.function_substitutions.items()
                    },
                    **{
                        name: str(self.dial_settings[name])
                        for name in machine.setting_substitutions
                    },
                },
            )
            created = sfn.create_state_machine(
                name=self.physical_name(machine.logical_id),
                definition=definition,
                roleArn=role,
                type="STANDARD",
            )["stateMachineArn"]
            if created != self.resources[machine.logical_id].arn:
                raise RuntimeError(f"{machine.logical_id}: created {created}, predicted otherwise")

    def _add(self, resource: Resource) -> Resource:
        self.resources[resource.logical_id] = resource
        return resource

    # -- helpers -----------------------------------------------------------------------

    def _post(self, path: str, body: Any) -> Any:
        data = json.dumps(body).encode() if body is not None else b""
        request = urllib.request.Request(
            self.endpoint_url + path,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def _set_environ(self, values: Mapping[str, str]) -> None:
        for name, value in values.items():
            if name not in self._saved_environ:
                self._saved_environ[name] = os.environ.get(name)
            os.environ[name] = value
        # A named profile would override the fake credentials (or fail to load).
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            if name in os.environ:
                self._saved_environ.setdefault(name, os.environ[name])
                del os.environ[name]

    def _restore_environ(self) -> None:
        for name, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environ = {}


def _placeholder_zip() -> bytes:
    """The code moto stores for each function; the handler runs from this process's code."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Runs in-process from the installed package (local/).\n")
    return buffer.getvalue()


def substitute(definition: str, values: Mapping[str, str]) -> str:
    """${Name} -> value, as CloudFormation's DefinitionSubstitutions does; every ${...}
    must be given, so the local and the deployed workflow cannot drift apart silently."""
    for name, value in values.items():
        definition = definition.replace("${" + name + "}", value)
    if "${" in definition:
        start = definition.index("${")
        raise ValueError(f"no value for {definition[start : definition.index('}', start) + 1]}")
    return definition


def create_table(dynamodb: Any, spec: TableSpec, name: str) -> str:
    """One table of the spec (keys, indexes, TTL) through `dynamodb`; returns its ARN."""
    keys = [(spec.partition_key, "HASH")]
    if spec.sort_key is not None:
        keys.append((spec.sort_key, "RANGE"))
    attributes = {key for key, _ in keys}
    indexes = []
    for index_name, (pk, sk) in spec.indexes.items():
        attributes.update((pk, sk))
        indexes.append(
            {
                "IndexName": index_name,
                "KeySchema": [
                    {"AttributeName": pk, "KeyType": "HASH"},
                    {"AttributeName": sk, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        )
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": a, "KeyType": t} for a, t in keys],
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)
        ],
    }
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    arn = str(dynamodb.create_table(**request)["TableDescription"]["TableArn"])
    if spec.ttl_attribute is not None:
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
        )
    return arn
