"""The functions emit exactly the metrics the dashboard reads (infra/resources.py)."""

from batch_calls import monitoring
from batch_calls.domain.batch import Outcome
from infra import resources


def test_metric_names_are_the_dashboards() -> None:
    assert monitoring.NAMESPACE == resources.METRICS_NAMESPACE
    assert monitoring.SERVICE == resources.METRICS_SERVICE
    assert monitoring.METRIC_NAMES == resources.METRIC_NAMES
    assert monitoring.CALL_OUTCOME_METRICS == resources.CALL_OUTCOME_METRICS


def test_every_outcome_has_its_metric() -> None:
    assert set(monitoring.CALL_OUTCOME_METRICS) == {str(outcome) for outcome in Outcome}


def test_counted_metrics_carry_the_namespace_and_service() -> None:
    monitoring.metrics.clear_metrics()  # what other tests counted without a handler's flush
    monitoring.count(monitoring.CALLS_STARTED)
    emitted = monitoring.metrics.serialize_metric_set()
    monitoring.metrics.clear_metrics()
    (directive,) = emitted["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == resources.METRICS_NAMESPACE
    assert emitted["service"] == resources.METRICS_SERVICE
    assert [m["Name"] for m in directive["Metrics"]] == ["CallsStarted"]
