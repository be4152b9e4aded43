"""Every function of `infra.resources.FUNCTIONS`, built the same way from its spec.

Each gets its own role with only what its environment names (infra/wiring.py), its own
log group with a retention, X-Ray tracing, arm64 and the one code asset; a queue trigger
reports partial batch failures, as every queue handler answers with `batchItemFailures`;
a function with `every_minutes` is invoked by an EventBridge rule at that rate; its
`max_concurrency` bounds it (reserved concurrency, or the queue trigger's maximum).
"""

from collections.abc import Mapping

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.bundling import function_code
from infra.resources import FunctionSpec
from infra.wiring import Registry, Wired, no_grant

RUNTIME = lambda_.Runtime.PYTHON_3_14
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
MAX_FUNCTION_NAME = 64


def physical_name(stack: Stack, logical_id: str) -> str:
    """Functions and the state machine name each other (environment, substitutions):
    fixed names make their ARNs known without a reference, so no dependency cycle."""
    name = f"{stack.stack_name}-{logical_id}"
    if len(name) > MAX_FUNCTION_NAME:
        raise ValueError(f"{name}: longer than {MAX_FUNCTION_NAME} characters; shorten the stage")
    return name


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        specs: tuple[FunctionSpec, ...],
        registry: Registry,
        common_environment: Mapping[str, str],
        max_concurrency: Mapping[str, int | None] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.names = {spec.logical_id: physical_name(stack, spec.logical_id) for spec in specs}
        for logical_id, name in self.names.items():
            arn = stack.format_arn(
                service="lambda",
                resource="function",
                resource_name=name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            # A function named in another's environment is a target it hands to a service
            # (the scheduler invokes StartRound with its own role): no grant.
            registry.add(Wired(logical_id, "function", name, arn, no_grant))
        self._specs = specs
        self._registry = registry
        self._common = dict(common_environment)
        # The deployment's own bounds (None: unbounded), over the specs' defaults.
        self._max_concurrency = {spec.logical_id: spec.max_concurrency for spec in specs} | dict(
            max_concurrency or {}
        )
        unknown = set(self._max_concurrency) - set(self.names)
        if unknown:
            raise ValueError(f"maxConcurrency names no function: {sorted(unknown)}")
        self.functions: dict[str, lambda_.Function] = {}

    def build(self) -> None:
        """The functions, once everything their environments name is registered."""
        code = function_code(RUNTIME)
        for spec in self._specs:
            self.functions[spec.logical_id] = self._function(spec, code)

    def _function(self, spec: FunctionSpec, code: lambda_.Code) -> lambda_.Function:
        limit = self._max_concurrency[spec.logical_id]
        role = iam.Role(
            self,
            f"{spec.logical_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{spec.logical_id}: only what its environment names",
        )
        log_group = logs.LogGroup(
            self,
            f"{spec.logical_id}Logs",
            log_group_name=f"/aws/lambda/{self.names[spec.logical_id]}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        function = lambda_.Function(
            self,
            spec.logical_id,
            function_name=self.names[spec.logical_id],
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=spec.handler,
            code=code,
            timeout=Duration.seconds(spec.timeout_seconds),
            memory_size=spec.memory_mb,
            environment={**self._common, **self._registry.environment(spec)},
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            reserved_concurrent_executions=None if spec.queue_trigger else limit,
        )
        log_group.grant_write(role)
        self._registry.grant(spec, function)
        if spec.queue_trigger is not None:
            queue_id, batch_size = spec.queue_trigger
            queue = self._registry.get(queue_id, wanted_by=f"{spec.logical_id}: queue_trigger")
            if not isinstance(queue.construct, sqs.Queue):
                raise ValueError(f"{spec.logical_id}: queue_trigger {queue_id} is no queue")
            function.add_event_source(
                sources.SqsEventSource(
                    queue.construct,
                    batch_size=batch_size,
                    report_batch_item_failures=True,
                    max_concurrency=limit,
                )
            )
        if spec.every_minutes is not None:
            events.Rule(
                self,
                f"{spec.logical_id}Schedule",
                schedule=events.Schedule.rate(Duration.minutes(spec.every_minutes)),
                targets=[targets.LambdaFunction(function, retry_attempts=0)],
                description=f"Invokes {spec.logical_id} every {spec.every_minutes} minute(s)",
            )
        return function
