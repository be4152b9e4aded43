"""Whole batches through the local runtime (the real ASL, the functions, the API) with
each real provider pointed at a local fake that answers and calls back like the real
service; the workspace chooses the provider (the deployment default stays simulated)."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

import boto3
import pytest

from batch_calls.handlers import wiring
from batch_calls.logic import admin
from batch_calls.telephony import factory, signing, twilio
from batch_calls.telephony.amazon_connect import AmazonConnectProvider
from batch_calls.telephony.transport import Backoff
from local import runtime
from tests.orchestration.conftest import Product
from tests.telephony.fakes import FakeTwilio, FakeVoicePlatform, Script

PLATFORM_SECRET = b"platform-signing-secret"
SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token"
INSTANCE = "11111111-2222-3333-4444-555555555555"
RETRY_ONCE = json.dumps({"max_retries": 1, "retry_interval_minutes": 0})


class FakeConnect:
    """StartOutboundVoiceContact as a client: each new ClientToken is one contact, whose
    DISCONNECTED contact event is put on the default EventBridge bus, as Connect does."""

    def __init__(self, fates: dict[str, tuple[str, str | None, bool]]) -> None:
        self.fates = fates  # number -> (disconnect reason, AMD status, answered)
        self.contacts: dict[str, str] = {}  # ClientToken -> ContactId
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def start_outbound_voice_contact(self, **request: Any) -> dict[str, str]:
        with self.lock:
            self.requests.append(request)
            token = request["ClientToken"]
            if token in self.contacts:
                return {"ContactId": self.contacts[token]}
            contact_id = f"contact-{len(self.contacts) + 1}"
            self.contacts[token] = contact_id
        reason, amd, answered = self.fates[request["DestinationPhoneNumber"]]
        detail: dict[str, Any] = {
            "eventType": "DISCONNECTED",
            "contactId": contact_id,
            "initiationMethod": "API",
            "channel": "VOICE",
            "disconnectReason": reason,
            "disconnectTimestamp": "2026-11-22T10:00:30Z",
        }
        if amd:
            detail["answeringMachineDetectionStatus"] = amd
        if answered:
            detail["connectedToSystemTimestamp"] = "2026-11-22T10:00:05Z"
        threading.Timer(0.3, self._publish, (detail,)).start()
        return {"ContactId": contact_id}

    @staticmethod
    def _publish(detail: dict[str, Any]) -> None:
        boto3.client("events").put_events(
            Entries=[
                {
                    "Source": "aws.connect",
                    "DetailType": "Amazon Connect Contact Event",
                    "Detail": json.dumps(detail),
                }
            ]
        )


@dataclass
class World:
    product: Product
    platform: FakeVoicePlatform
    twilio: FakeTwilio

    def use(self, provider: str) -> None:
        workspace = self.product.local.demo.workspace.workspace_id
        admin.configure(wiring.database(), workspace, telephony_provider=provider)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with (
        FakeVoicePlatform(PLATFORM_SECRET, Script()) as platform,
        FakeTwilio(SID, TOKEN, Script()) as fake_twilio,
    ):
        secret = {
            "http": {
                "call_url": platform.url + "/calls",
                "status_url": platform.url + "/calls/{call_id}",
                "signing_secret": PLATFORM_SECRET.decode(),
                "api_key": platform.api_key,
            },
            "twilio": {
                "account_sid": SID,
                "auth_token": TOKEN,
                "stream_url": "wss://agents.example.com/stream",
                "api_base_url": fake_twilio.url,
            },
            "amazon_connect": {"instance_id": INSTANCE},
        }
        with runtime.running(telephony_secret=json.dumps(secret)) as local:
            yield World(Product(local), platform, fake_twilio)


def numbers(first: int, count: int) -> list[str]:
    return [f"+1415555{first + i:04d}" for i in range(count)]


def csv_of(phones: list[str]) -> str:
    return "phone_number,customer_name\n" + "".join(
        f"{phone},Name {i}\n" for i, phone in enumerate(phones)
    )


def by_number(product: Product, batch_id: str) -> dict[str, dict[str, Any]]:
    return {r["phone_number"]: r for r in product.recipients(batch_id)}


def test_a_batch_through_the_http_provider(world: World) -> None:
    phones = numbers(1000, 18)
    fates = ["completed", "no_answer", "busy", "voicemail", "failed", "throttled"]
    script = world.platform.script
    expected: dict[str, tuple[str, str, int]] = {}  # status, last_outcome, calls
    for i, phone in enumerate(phones):
        fate = fates[i % len(fates)]
        if fate == "no_answer":
            script.fates[phone] = ["no_answer", "completed"]  # retried, then answered
            expected[phone] = ("completed", "completed", 2)
        elif fate == "busy":
            script.fates[phone] = ["busy"]
            expected[phone] = ("failed", "busy", 2)  # busy is retried once, then failed
        elif fate == "throttled":
            script.throttle.add(phone)
            expected[phone] = ("completed", "completed", 1)
        else:
            script.fates[phone] = [fate]
            expected[phone] = (fate, fate, 1)
    refused = numbers(1100, 1)[0]
    script.refuse.add(refused)
    world.use("http")

    batch_id = world.product.create(
        csv_of([*phones, refused]), max_concurrent_calls="5", retry_config=RETRY_ONCE
    )
    world.product.wait_for(batch_id, "completed")

    recipients = by_number(world.product, batch_id)
    for phone, (status, outcome, calls) in expected.items():
        got = recipients[phone]
        assert (got["status"], got["last_outcome"], got["attempts_made"]) == (
            status,
            outcome,
            calls,
        ), phone
        assert world.platform.calls_to[phone] == calls  # one call per attempt
    assert recipients[refused]["status"] == "failed"
    assert recipients[refused]["last_outcome"] == (
        "http: refused (422): the number is not reachable"
    )
    world.product.assert_counters_match_recipients(batch_id)

    orders = [r for r in world.platform.server.requests if r.method == "POST"]
    keys = Counter(r.header("Idempotency-Key") for r in orders)
    throttled = [p for p in phones if p in script.throttle]
    # A throttled request was sent again with its key; the platform made one call of it.
    assert sum(keys.values()) == len(keys) + len(throttled)
    first = next(r.json() for r in orders if r.json()["to"] == phones[0])
    assert first["agent"] == {
        "id": "agt_demo",
        "version": 1,
        "prompt": first["agent"]["prompt"],
    }
    assert first["agent"]["prompt"].startswith("You are calling Name 0 on behalf")
    assert first["variables"] == {"customer_name": "Name 0"}
    assert first["callback_url"] == world.product.local.gateway.url + "/provider-events/http"
    assert world.platform.bad_requests == [] and world.platform.callback_errors == []


def test_a_batch_through_the_twilio_provider(world: World) -> None:
    fates = {
        "completed/human": ("completed", "completed"),
        "completed/unknown": ("completed", "completed"),
        "completed/machine_start": ("voicemail", "voicemail"),
        "completed/machine_end_beep": ("voicemail", "voicemail"),
        "completed/machine_end_silence": ("voicemail", "voicemail"),
        "completed/machine_end_other": ("voicemail", "voicemail"),
        "completed/fax": ("failed", "failed"),
        "busy": ("failed", "busy"),
        "no-answer": ("no_answer", "no_answer"),
        "canceled": ("failed", "failed"),
        "failed": ("failed", "failed"),
    }
    phones = numbers(2000, len(fates))
    script = world.twilio.script
    expected = {}
    for i, phone in enumerate(phones):
        fate = list(fates)[i % len(fates)]
        script.fates[phone] = [fate]
        expected[phone] = fates[fate]
    throttled, refused = numbers(2100, 2)
    script.throttle.add(throttled)
    script.refuse.add(refused)
    world.use("twilio")

    batch_id = world.product.create(
        csv_of([*phones, throttled, refused]),
        max_concurrent_calls="6",
        retry_config=json.dumps({"max_retries": 0}),
    )
    world.product.wait_for(batch_id, "completed")

    recipients = by_number(world.product, batch_id)
    for phone, (status, outcome) in expected.items():
        assert (recipients[phone]["status"], recipients[phone]["last_outcome"]) == (
            status,
            outcome,
        ), phone
    assert recipients[throttled]["status"] == "completed"
    assert world.twilio.calls_to[throttled] == 1
    assert (recipients[refused]["status"], recipients[refused]["last_outcome"]) == (
        "failed",
        "twilio: The 'To' number is not a valid phone number. (error 21211)",
    )
    assert sum(world.twilio.calls_to[p] for p in phones) == len(phones)
    world.product.assert_counters_match_recipients(batch_id)
    assert world.twilio.callback_errors == []


def test_forged_and_replayed_callbacks_change_nothing(world: World) -> None:
    """Through the API route: 401 and the recipient is unchanged, for each provider."""
    world.twilio.script.fates["+14155553000"] = ["completed/human"]
    world.use("twilio")
    batch_id = world.product.create(csv_of(["+14155553000"]))
    world.product.wait_for(batch_id, "completed")
    before = world.product.recipients(batch_id)
    counts = world.product.batch(batch_id)["counts"]
    call_id = before[0]["call_id"]
    gateway = world.product.local.gateway.url
    post = world.product.client.request

    url = f"{gateway}/provider-events/twilio?call_id={call_id}"
    params = {"CallSid": "CA1", "CallStatus": "busy", "Timestamp": formatdate(time.time())}
    body = urllib.parse.urlencode(params).encode()
    form = "application/x-www-form-urlencoded"
    forged = {"X-Twilio-Signature": twilio.signature("guess", url, _multi(params))}
    path = f"/provider-events/twilio?call_id={call_id}"
    assert post("POST", path, body=body, headers=forged, content_type=form).status == 401
    stale = {**params, "Timestamp": formatdate(time.time() - 7200)}
    replayed = {"X-Twilio-Signature": twilio.signature(TOKEN, url, _multi(stale))}
    stale_body = urllib.parse.urlencode(stale).encode()
    assert post("POST", path, body=stale_body, headers=replayed, content_type=form).status == 401

    http_body = json.dumps({"call_id": call_id, "status": "busy"}).encode()
    for headers in (
        signing.sign(b"guess", http_body, time.time()),
        signing.sign(PLATFORM_SECRET, http_body, time.time() - 3600),
        {},
    ):
        reply = post("POST", "/provider-events/http", body=http_body, headers=headers)
        assert reply.status == 401
    assert post("POST", "/provider-events/amazon_connect", body=b"{}").status == 404
    assert post("POST", "/provider-events/nobody", body=b"{}").status == 404

    assert world.product.recipients(batch_id) == before
    assert world.product.batch(batch_id)["counts"] == counts


def _multi(params: dict[str, str]) -> dict[str, list[str]]:
    return {k: [v] for k, v in params.items()}


def test_a_batch_through_amazon_connect_and_eventbridge(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """StartOutboundVoiceContact is faked (moto has no Connect calls); its contact events
    go through the stack's real rule, queue and function."""
    fates = [
        ("CUSTOMER_DISCONNECT", "HUMAN_ANSWERED", True, "completed"),
        ("CUSTOMER_DISCONNECT", "VOICEMAIL_BEEP", True, "voicemail"),
        ("TELECOM_UNANSWERED", None, False, "no_answer"),
        ("TELECOM_PROBLEM", None, False, "failed"),
        ("CONTACT_FLOW_DISCONNECT", None, True, "completed"),
    ]
    phones = numbers(4000, 10)
    fake = FakeConnect({p: fates[i % len(fates)][:3] for i, p in enumerate(phones)})
    built = AmazonConnectProvider(INSTANCE, client=fake, backoff=Backoff(sleep=[].append))
    monkeypatch.setitem(factory._REAL, "amazon_connect", lambda settings, base: built)
    wiring.forget()
    world.use("amazon_connect")
    try:
        batch_id = world.product.create(
            csv_of(phones), max_concurrent_calls="4", retry_config=json.dumps({"max_retries": 0})
        )
        world.product.wait_for(batch_id, "completed")
    finally:
        wiring.forget()  # the faked client stays with this test

    recipients = by_number(world.product, batch_id)
    for i, phone in enumerate(phones):
        assert recipients[phone]["status"] == fates[i % len(fates)][3], phone
    assert len(fake.contacts) == len(phones)
    assert {r["ContactFlowId"] for r in fake.requests} == {"agt_demo"}
    assert all(r["Attributes"]["customer_name"].startswith("Name ") for r in fake.requests)
    world.product.assert_counters_match_recipients(batch_id)
