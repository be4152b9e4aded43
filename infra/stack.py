"""The production stack: every resource of `infra.resources`, one construct per concern."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra import resources
from infra.api import Api
from infra.functions import Functions
from infra.ingest import Ingest
from infra.messaging import Messaging
from infra.monitoring import Monitoring
from infra.nag import suppress_reviewed_findings
from infra.orchestration import Orchestration
from infra.resources import (
    CALLBACK_URL_SETTING,
    UPLOAD_ORIGINS_SETTING,
    WEBHOOK_ADDRESSES_SETTING,
    setting_name,
)
from infra.storage import Storage
from infra.telephony import Telephony
from infra.wiring import Registry


@dataclass(frozen=True)
class Settings:
    """What a deployment chooses (cdk.json context, or `cdk deploy -c name=value`)."""

    stage: str = "prod"
    telephony_provider: str = "simulated"
    dial: Mapping[str, int] = field(default_factory=lambda: dict(resources.DIAL_SETTINGS))
    # Values of further `${Name}` settings of function environments.
    extra: Mapping[str, str] = field(default_factory=dict)
    # Function logical id -> how many may run at once (None: unbounded), over the specs'
    # `max_concurrency` (an account whose concurrency quota is under 1,000 needs lower
    # bounds: AWS keeps 100 unreserved).
    max_concurrency: Mapping[str, int | None] = field(default_factory=dict)
    # Where alarms are mailed (an SNS email subscription); None: the topic only.
    alarm_email: str | None = None

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> "Settings":
        dial = {**resources.DIAL_SETTINGS, **_mapping(context, "dialSettings")}
        unknown = set(dial) - set(resources.DIAL_SETTINGS)
        if unknown:
            raise ValueError(f"dialSettings: unknown {sorted(unknown)}")
        return cls(
            stage=str(context.get("stage") or cls.stage),
            telephony_provider=str(context.get("telephonyProvider") or cls.telephony_provider),
            dial={name: int(value) for name, value in dial.items()},
            extra={str(k): str(v) for k, v in _mapping(context, "settings").items()},
            max_concurrency={
                str(k): None if v is None else int(v)
                for k, v in _mapping(context, "maxConcurrency").items()
            },
            alarm_email=str(context.get("alarmEmail") or "") or None,
        )


def _mapping(context: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A context value that is an object: from cdk.json, or JSON text from `-c key=...`."""
    value = context.get(key) or {}
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise ValueError(f"context {key}: expected a JSON object, got {value!r}")
    return value


def stack_name(settings: Settings) -> str:
    return f"BatchCalls-{settings.stage}"


class BatchCallsStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        functions: tuple[resources.FunctionSpec, ...] = resources.FUNCTIONS,
        queues: tuple[resources.QueueSpec, ...] = resources.QUEUES,
    ) -> None:
        super().__init__(scope, construct_id, description="Batch outbound calling")
        registry = Registry()
        for name, value in {**settings.dial, **settings.extra}.items():
            registry.add_setting(name, str(value))
        storage = Storage(self, "Storage", registry=registry)
        messaging = Messaging(self, "Messaging", registry=registry, queues=queues)
        telephony = Telephony(
            self, "Telephony", registry=registry, default_provider=settings.telephony_provider
        )
        api = Api(self, "Api", stage_name=settings.stage)
        registry.add_setting(setting_name(CALLBACK_URL_SETTING) or "", api.base_url)
        registry.add_setting(setting_name(WEBHOOK_ADDRESSES_SETTING) or "", "public")
        registry.add_setting(setting_name(UPLOAD_ORIGINS_SETTING) or "", storage.upload_origins)
        built = Functions(
            self,
            "Functions",
            specs=functions,
            registry=registry,
            common_environment={
                "POWERTOOLS_METRICS_NAMESPACE": resources.METRICS_NAMESPACE,
            },
            max_concurrency=settings.max_concurrency,
        )
        orchestration = Orchestration(
            self,
            "Orchestration",
            spec=resources.BATCH_ROUND,
            registry=registry,
            settings=settings.dial,
        )
        built.build()
        telephony.connect_provider_events(messaging.queues)
        telephony.grant_connect(built.functions)
        orchestration.build(built.functions)
        state_machine = orchestration.state_machine
        assert state_machine is not None
        api.route(built.functions, built.functions[resources.AUTHORIZER_FUNCTION.logical_id])
        Ingest(
            self,
            "Ingest",
            bucket=storage.bucket,
            drop_queue=messaging.queues[resources.DROP_QUEUE.logical_id],
        )
        monitoring = Monitoring(
            self,
            "Monitoring",
            dashboard_name=self.stack_name,
            state_machine=state_machine,
            state_machine_name=orchestration.name,
            functions=built.functions,
            rest_api=api.rest_api,
            dead_letter_queues=messaging.dead_letter_queues,
            alarm_email=settings.alarm_email,
        )
        suppress_reviewed_findings(self)
        outputs = {
            "ApiUrl": api.rest_api.url,
            # The web console: GET / of the API (infra.resources.ROUTES).
            "ConsoleUrl": api.rest_api.url,
            "BucketName": storage.bucket.bucket_name,
            "TableName": storage.tables[resources.MAIN_TABLE.logical_id].table_name,
            "StateMachineArn": state_machine.state_machine_arn,
            "DashboardName": monitoring.dashboard.dashboard_name,
            "AlarmTopicArn": monitoring.topic.topic_arn,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
