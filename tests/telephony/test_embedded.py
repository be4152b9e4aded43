"""The simulator on the embedded AWS: a placed call's SQS message waits out its delay, the
worker (the stack's SimulatorFunction, fed by the local SQS poller) ends it and its signed
callback reaches the local API gateway, whose webhook stand-in verifies it."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from batch_calls.telephony.base import Outcome
from batch_calls.telephony.simulated import SimulatedProvider, simulator_calls
from infra.resources import SIMULATOR_FUNCTION, SIMULATOR_QUEUE, FunctionSpec, RouteSpec
from local.api_gateway import LocalApiGateway
from local.aws import EmbeddedAws
from local.simulator_api import LOCAL_FUNCTIONS, LOCAL_ROUTES, local_settings
from tests.local.support import wait_until
from tests.telephony import fake_webhook
from tests.telephony.support import call_request

WEBHOOK = FunctionSpec("WebhookFunction", "tests.telephony.fake_webhook.receive", 29, 256, {})


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[EmbeddedAws, LocalApiGateway]]:
    # The gateway binds its port when made, so its URL can be a setting of the stack.
    gateway = LocalApiGateway(
        routes=(RouteSpec("ANY", "/{proxy+}", WEBHOOK.logical_id), *LOCAL_ROUTES),
        authorizer=None,
    )
    with (
        gateway,
        EmbeddedAws(
            (SIMULATOR_FUNCTION, WEBHOOK, *LOCAL_FUNCTIONS),
            tables=(),
            queues=(SIMULATOR_QUEUE,),
            settings=local_settings(gateway.url),
        ) as aws,
    ):
        yield aws, gateway


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_callback_arrives_after_the_calls_duration(
    stack: tuple[EmbeddedAws, LocalApiGateway],
) -> None:
    aws, gateway = stack
    sim = SimulatedProvider(
        b"unused-for-placing", aws.resources[SIMULATOR_QUEUE.logical_id].url or ""
    )
    placed_at = time.time()
    # 2 s: all of it an SQS delay. 0.4 s: no delay, all of it the worker's sleep.
    long = sim.place_call(
        call_request(row=1, variables={"sim_outcomes": "voicemail", "sim_duration_seconds": "2"})
    )
    sim.place_call(
        call_request(row=2, variables={"sim_outcomes": "completed", "sim_duration_seconds": "0.4"})
    )
    sim.place_call(call_request(row=3, variables={"sim_outcomes": "lost"}))

    def both() -> list[tuple[float, Any]] | None:
        return list(fake_webhook.EVENTS) if len(fake_webhook.EVENTS) >= 2 else None

    events = {event.call_id: (arrived, event) for arrived, event in wait_until(both, 10)}
    assert fake_webhook.REJECTED == []
    arrived, event = events["call_b_1_1_1"]
    assert (event.outcome, event.duration_seconds) == (Outcome.VOICEMAIL, 2.0)
    assert 2.0 <= arrived - placed_at < 4.0  # the message was held back by its DelaySeconds
    arrived, event = events["call_b_1_2_1"]
    assert event.outcome == Outcome.COMPLETED
    assert 0.4 <= arrived - placed_at < 2.0
    time.sleep(0.5)
    assert len(fake_webhook.EVENTS) == 2  # the lost call never calls back

    (call,) = [c for c in simulator_calls("b_1") if c["provider_call_id"] == long.provider_call_id]
    assert call["ended_at"] is not None
    assert sim.lookup("call_b_1_1_1", None) is not None

    # What the simulator saw, over the local API.
    stats = get_json(gateway.url + "/_local/simulator/stats")
    assert stats["batches"]["b_1"]["calls"] == 3
    assert stats["batches"]["b_1"]["peak_simultaneous"] == 3
    calls = get_json(gateway.url + "/_local/simulator/calls?batch_id=b_1")["data"]
    assert [c["outcome"] for c in calls] == ["voicemail", "completed", "lost"]
    assert get_json(gateway.url + "/_local/simulator/calls?batch_id=other") == {"data": []}


def test_the_worker_reports_item_failures(stack: tuple[EmbeddedAws, LocalApiGateway]) -> None:
    aws, _ = stack
    lam = boto3.client("lambda")
    (mapping,) = lam.list_event_source_mappings(
        FunctionName=aws.resources[SIMULATOR_FUNCTION.logical_id].name
    )["EventSourceMappings"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10
