"""Step Functions and EventBridge Scheduler: starting, stopping and scheduling rounds,
and answering a waiting Dial task."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

# The Dial task's token is dead once its round stopped or timed out: nothing to answer.
_GONE_TOKEN_ERRORS = {"InvalidToken", "TaskTimedOut", "TaskDoesNotExist"}


class Workflow:
    def __init__(
        self,
        state_machine_arn: str,
        scheduler_group: str,
        scheduler_role_arn: str,
        start_round_function_arn: str,
    ) -> None:
        self.state_machine_arn = state_machine_arn
        self.scheduler_group = scheduler_group
        self.scheduler_role_arn = scheduler_role_arn
        self.start_round_function_arn = start_round_function_arn
        self.sfn = boto3.client("stepfunctions")
        self.scheduler = boto3.client("scheduler")

    def start(self, name: str, payload: dict[str, Any]) -> None:
        """Start the execution `name`; starting it again is a no-op (same name and input
        while it runs is idempotent in Step Functions; after it ended, it already ran)."""
        try:
            self.sfn.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload)
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise

    def stop(self, name: str) -> None:
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        try:
            self.sfn.stop_execution(executionArn=arn, cause="batch paused or cancelled")
        except ClientError as error:
            if error.response["Error"]["Code"] not in {"ExecutionDoesNotExist", "InvalidArn"}:
                raise

    def schedule(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        """A one-time schedule that starts a round at `at` and deletes itself.

        The scheduler's precision is one minute in AWS; the embedded runtime's pump fires
        to the second."""
        # at() takes whole seconds: round up, so a schedule never fires before its time.
        whole = at.astimezone(UTC).replace(microsecond=0)
        when = (whole if whole == at else whole + timedelta(seconds=1)).strftime(
            "%Y-%m-%dT%H:%M:%S"
        )
        try:
            self.scheduler.create_schedule(
                Name=name,
                GroupName=self.scheduler_group,
                ScheduleExpression=f"at({when})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target={
                    "Arn": self.start_round_function_arn,
                    "RoleArn": self.scheduler_role_arn,
                    "Input": json.dumps(payload),
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConflictException":
                raise

    def unschedule(self, name: str) -> None:
        try:
            self.scheduler.delete_schedule(Name=name, GroupName=self.scheduler_group)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise

    def answer(self, task_token: str, output: dict[str, Any]) -> bool:
        """Release a waiting task; False when its task is gone (a stopped round, or
        it timed out), which is ignored."""
        try:
            self.sfn.send_task_success(taskToken=task_token, output=json.dumps(output))
        except ClientError as error:
            if error.response["Error"]["Code"] not in _GONE_TOKEN_ERRORS:
                raise
            return False
        return True

    def heartbeat(self, task_token: str) -> None:
        try:
            self.sfn.send_task_heartbeat(taskToken=task_token)
        except ClientError as error:
            if error.response["Error"]["Code"] not in _GONE_TOKEN_ERRORS:
                raise
