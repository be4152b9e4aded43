"""What the functions tell CloudWatch: Powertools Metrics (EMF), Tracer and Logger.

The metric names are the ones `infra/resources.py` gives the dashboard and alarms
(METRICS_NAMESPACE, METRICS_SERVICE, METRIC_NAMES, CALL_OUTCOME_METRICS). `infra` is
never bundled into a function, so they are repeated here, and
tests/unit/test_monitoring.py holds the two lists equal.

Metrics are shared by every Metrics instance of a process; each handler flushes them
with `@metrics.log_metrics`. Locally the embedded runtime sets
POWERTOOLS_METRICS_DISABLED, and Tracer turns itself off outside Lambda.
"""

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "BatchCalls"
SERVICE = "batch-calls"

CALLS_STARTED = "CallsStarted"
CALL_OUTCOME_METRICS = {
    "completed": "CallsCompleted",
    "no_answer": "CallsNoAnswer",
    "busy": "CallsBusy",
    "voicemail": "CallsVoicemail",
    "failed": "CallsFailed",
}
RETRIES_SCHEDULED = "RetriesScheduled"
VALIDATION_REJECTIONS = "ValidationRejections"
CALLBACK_LATENCY = "CallbackLatency"
RECONCILIATIONS = "Reconciliations"
WEBHOOK_DELIVERY_FAILURES = "WebhookDeliveryFailures"
# A gauge: the calls placed whose outcome is not yet known, read by the sweep each minute.
LIVE_CALLS = "LiveCalls"
METRIC_NAMES = (
    CALLS_STARTED,
    *CALL_OUTCOME_METRICS.values(),
    RETRIES_SCHEDULED,
    VALIDATION_REJECTIONS,
    CALLBACK_LATENCY,
    RECONCILIATIONS,
    WEBHOOK_DELIVERY_FAILURES,
    LIVE_CALLS,
)

metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# Most invocations (a round prepared, a status read) count nothing: not worth a warning.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
tracer = Tracer(service=SERVICE)


def count(name: str, value: float = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def milliseconds(name: str, value: float) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=value)


def logger(function: str) -> Logger:
    """A function's structured logger. Its correlation keys (batch_id, recipient,
    call_id) are appended per invocation by the handler."""
    return Logger(service=f"{SERVICE}-{function}")
