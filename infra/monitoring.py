"""The dashboard and the alarms: the product's custom metrics (`infra.resources`), rounds
and their Distributed Map runs, function errors, the API's 5xx, dead letters. Every
alarm notifies one SNS topic (encrypted), which mails the `alarmEmail` address of the
deployment's context when one is given (the team confirms the subscription once).

The custom metrics carry a `service` dimension per function (Powertools), so the
dashboard sums over it with SEARCH and the Reconciliations alarm uses a Metrics Insights
query: neither needs to know which function emits what.
"""

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.resources import CALL_OUTCOME_METRICS, METRIC_NAMES, METRICS_NAMESPACE

PERIOD = Duration.minutes(5)
# More lost callbacks than this in five minutes means the provider's events are not
# arriving (wrong callback URL, a failing webhook).
RECONCILIATIONS_THRESHOLD = 10
API_5XX_THRESHOLD = 5
WIDTH = 12


def custom_metric(name: str, statistic: str = "Sum") -> cloudwatch.MathExpression:
    """One of the product's metrics, summed over the functions that emit it (averaged,
    or the highest, for those statistics)."""
    search = f"SEARCH('{{{METRICS_NAMESPACE},service}} MetricName=\"{name}\"', '{statistic}', 300)"
    across = {"Average": "AVG", "Maximum": "MAX"}.get(statistic, "SUM")
    return cloudwatch.MathExpression(expression=f"{across}({search})", label=name, period=PERIOD)


def map_children(state_machine_name: str, metric: str) -> cloudwatch.MathExpression:
    """A figure of the Distributed Map's child executions, which report under the state
    machine ARN `...:stateMachine:<name>/<map run label>` (one series per map run); the
    search also matches the round executions themselves, one per round."""
    search = (
        f'SEARCH(\'{{AWS/States,StateMachineArn}} MetricName="{metric}" '
        f"\"{state_machine_name}\"', 'Sum', 300)"
    )
    return cloudwatch.MathExpression(expression=f"SUM({search})", label=metric, period=PERIOD)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        state_machine: sfn.StateMachine,
        state_machine_name: str,
        functions: Mapping[str, lambda_.IFunction],
        rest_api: apigateway.RestApi,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # Alarms publish through CloudWatch, which needs the key's permission to.
        key = kms.Key(self, "AlarmsKey", enable_key_rotation=True, description="Alarm topic")
        key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        self.topic = sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True)
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        shown_apart = {
            *CALL_OUTCOME_METRICS.values(),
            "CallbackLatency",
            "LiveCalls",
            "Reconciliations",
        }
        others = [name for name in METRIC_NAMES if name not in shown_apart]
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=dashboard_name)
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Live calls (placed, outcome not yet known; each minute)",
                width=WIDTH,
                left=[custom_metric("LiveCalls", "Maximum")],
            ),
            cloudwatch.GraphWidget(
                title="Reconciliations (calls whose provider events never came)",
                width=WIDTH,
                left=[custom_metric("Reconciliations")],
            ),
            cloudwatch.GraphWidget(
                title="Call outcomes",
                width=WIDTH,
                left=[
                    custom_metric(name) for name in ("CallsStarted", *CALL_OUTCOME_METRICS.values())
                ],
            ),
            cloudwatch.GraphWidget(
                title="Retries, rejections, webhook failures",
                width=WIDTH,
                left=[custom_metric(name) for name in others],
            ),
            cloudwatch.GraphWidget(
                title="Callback latency (ms)",
                width=WIDTH,
                left=[custom_metric("CallbackLatency", "Average")],
            ),
            cloudwatch.GraphWidget(
                title="Rounds (state machine executions)",
                width=WIDTH,
                left=[
                    state_machine.metric_started(period=PERIOD),
                    state_machine.metric_succeeded(period=PERIOD),
                    state_machine.metric_failed(period=PERIOD),
                    state_machine.metric_aborted(period=PERIOD),
                    state_machine.metric_timed_out(period=PERIOD),
                ],
            ),
            cloudwatch.GraphWidget(
                title="Map runs: slot executions (started, succeeded, failed, timed out)",
                width=WIDTH,
                left=[
                    map_children(state_machine_name, metric)
                    for metric in (
                        "ExecutionsStarted",
                        "ExecutionsSucceeded",
                        "ExecutionsFailed",
                        "ExecutionsTimedOut",
                    )
                ],
            ),
            cloudwatch.GraphWidget(
                title="Function errors",
                width=WIDTH,
                left=[
                    function.metric_errors(period=PERIOD, label=logical_id)
                    for logical_id, function in functions.items()
                ],
            ),
            cloudwatch.GraphWidget(
                title="API",
                width=WIDTH,
                left=[
                    rest_api.metric_count(period=PERIOD),
                    rest_api.metric_client_error(period=PERIOD),
                    rest_api.metric_server_error(period=PERIOD),
                ],
                right=[rest_api.metric_latency(period=PERIOD, statistic="p95")],
            ),
        )
        self.alarms = [
            state_machine.metric_failed(period=PERIOD).create_alarm(
                self,
                "RoundsFailed",
                alarm_description="A round's execution failed: its recipients wait for the next",
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            rest_api.metric_server_error(period=PERIOD).create_alarm(
                self,
                "Api5xx",
                alarm_description="The API answers 5xx",
                threshold=API_5XX_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "Reconciliations",
                alarm_description="Calls whose provider events never came (lost callbacks)",
                metric=cloudwatch.MathExpression(
                    expression=f"SELECT SUM(Reconciliations) FROM {METRICS_NAMESPACE}",
                    label="Reconciliations",
                    period=PERIOD,
                ),
                threshold=RECONCILIATIONS_THRESHOLD,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
        for logical_id, queue in dead_letter_queues.items():
            self.alarms.append(
                queue.metric_approximate_number_of_messages_visible(period=PERIOD).create_alarm(
                    self,
                    f"{logical_id}DeadLetters",
                    alarm_description=f"Messages of {logical_id} failed and wait in its DLQ",
                    threshold=1,
                    evaluation_periods=1,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
            )
        action = actions.SnsAction(self.topic)
        for alarm in self.alarms:
            alarm.add_alarm_action(action)
