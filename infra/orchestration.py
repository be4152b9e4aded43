"""Rounds: the state machine from its ASL file (the same file the embedded runtime runs),
the EventBridge Scheduler group for later rounds and the role those schedules use.

The state machine's name, and so its ARN, is fixed before anything is built: its
functions name it in their environment and it names them in its substitutions.
"""

from collections.abc import Mapping

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.bundling import REPOSITORY
from infra.functions import LOG_RETENTION, physical_name
from infra.resources import SCHEDULER_GROUP, SCHEDULER_ROLE, START_ROUND, StateMachineSpec
from infra.wiring import Registry, Wired

TASK_RESPONSES = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"]


class Orchestration(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: StateMachineSpec,
        registry: Registry,
        settings: Mapping[str, int],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.spec = spec
        self.settings = dict(settings)
        self.name = physical_name(stack, spec.logical_id)
        self.arn = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        # Executions of this machine (name:id), and of its Distributed Map's children
        # (name/label:id).
        self.executions = [
            stack.format_arn(
                service="states",
                resource="execution",
                resource_name=f"{self.name}{separator}*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for separator in (":", "/")
        ]
        registry.add(Wired(spec.logical_id, "state-machine", self.name, self.arn, self._grant))

        group = scheduler.CfnScheduleGroup(
            self, SCHEDULER_GROUP, name=physical_name(stack, SCHEDULER_GROUP)
        )
        group_name = group.name or ""
        schedules = stack.format_arn(
            service="scheduler", resource="schedule", resource_name=f"{group_name}/*"
        )

        def manage_schedules(grantee: iam.IGrantable) -> None:
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["scheduler:CreateSchedule", "scheduler:DeleteSchedule"],
                resource_arns=[schedules],
            )

        registry.add(
            Wired(SCHEDULER_GROUP, "schedule-group", group_name, group.attr_arn, manage_schedules)
        )

        # Schedules may only invoke StartRound, which starts a round of this machine.
        self.scheduler_role = iam.Role(
            self,
            SCHEDULER_ROLE,
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description="EventBridge Scheduler: invoke StartRound for a later round",
        )
        self.scheduler_role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[registry.get(START_ROUND, wanted_by=SCHEDULER_ROLE).arn],
            )
        )
        role = self.scheduler_role

        def pass_role(grantee: iam.IGrantable) -> None:
            role.grant_pass_role(grantee.grant_principal)

        registry.add(Wired(SCHEDULER_ROLE, "role", role.role_name, role.role_arn, pass_role))
        self.state_machine: sfn.StateMachine | None = None

    def _grant(self, grantee: iam.IGrantable) -> None:
        """Start and stop rounds, and answer a waiting Dial task."""
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["states:StartExecution"], resource_arns=[self.arn]
        )
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["states:StopExecution"], resource_arns=self.executions
        )
        # Dial tasks run in the Distributed Map's child executions (name/label).
        iam.Grant.add_to_principal(
            grantee=grantee, actions=TASK_RESPONSES, resource_arns=[self.arn, f"{self.arn}/*"]
        )

    def build(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        """The state machine, once its functions exist."""
        substitutions = {
            name: functions[logical_id].function_arn
            for name, logical_id in self.spec.function_substitutions.items()
        }
        for name in self.spec.setting_substitutions:
            substitutions[name] = str(self.settings[name])
        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/{self.name}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        machine = sfn.StateMachine(
            self,
            self.spec.logical_id,
            state_machine_name=self.name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(REPOSITORY / self.spec.definition)),
            definition_substitutions=substitutions,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL),
            tracing_enabled=True,
        )
        for logical_id in self.spec.function_substitutions.values():
            functions[logical_id].grant_invoke(machine)
        # The Distributed Map runs its slots as child executions of this machine.
        machine.add_to_role_policy(
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.arn])
        )
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=self.executions,
            )
        )
        self.state_machine = machine
