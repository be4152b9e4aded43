"""The amazon_connect provider with botocore's Stubber: the exact StartOutboundVoiceContact
request, throttling, refusals, every AMD value and disconnect reason, contact events and
DescribeContact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from batch_calls.telephony.amazon_connect import (
    AMD_OUTCOMES,
    AMD_UNDECIDED,
    AmazonConnectProvider,
    outcome_of,
)
from batch_calls.telephony.base import CallNotPlaced, Outcome, PermanentCallError
from batch_calls.telephony.transport import Backoff
from tests.telephony.support import call_request

INSTANCE = "11111111-2222-3333-4444-555555555555"
CONTACT = "c0ffee00-0000-4000-8000-000000000001"


@pytest.fixture
def stubbed() -> Iterator[tuple[AmazonConnectProvider, Stubber]]:
    client = boto3.client(
        "connect",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield (
            AmazonConnectProvider(
                INSTANCE,
                contact_flows={"agent_1": "flow-1"},
                queue_id="queue-1",
                traffic_type="CAMPAIGN",
                client=client,
                backoff=Backoff(sleep=[].append),
            ),
            stubber,
        )
        stubber.assert_no_pending_responses()


def expected_start() -> dict[str, Any]:
    return {
        "DestinationPhoneNumber": "+14155550101",
        "ContactFlowId": "flow-1",
        "InstanceId": INSTANCE,
        "ClientToken": "b_1:1:1:1",
        "SourcePhoneNumber": "+14155550100",
        "Attributes": {
            "customer_name": "Asha",
            "batch_calls_call_id": "call_b_1_1_1",
            "batch_calls_voicemail": "hang_up",
            "batch_calls_batch_id": "b_1",
        },
        "QueueId": "queue-1",
        "TrafficType": "CAMPAIGN",
        "AnswerMachineDetectionConfig": {
            "EnableAnswerMachineDetection": True,
            "AwaitAnswerMachinePrompt": True,
        },
    }


def test_the_start_request_is_exact(stubbed: tuple[AmazonConnectProvider, Stubber]) -> None:
    connect, stubber = stubbed
    stubber.add_response("start_outbound_voice_contact", {"ContactId": CONTACT}, expected_start())
    placed = connect.place_call(call_request(variables={"customer_name": "Asha"}))
    assert placed.provider_call_id == CONTACT


@pytest.mark.parametrize("code", ["ThrottlingException", "LimitExceededException"])
def test_throttling_then_success_sends_the_same_client_token(
    stubbed: tuple[AmazonConnectProvider, Stubber], code: str
) -> None:
    connect, stubber = stubbed
    stubber.add_client_error(
        "start_outbound_voice_contact", code, "Rate exceeded", 429, expected_start()
    )
    stubber.add_response("start_outbound_voice_contact", {"ContactId": CONTACT}, expected_start())
    assert connect.place_call(call_request(variables={"customer_name": "Asha"})).provider_call_id


def test_throttled_to_the_end_is_not_placed(stubbed: tuple[AmazonConnectProvider, Stubber]) -> None:
    connect, stubber = stubbed
    for _ in range(5):
        stubber.add_client_error("start_outbound_voice_contact", "ThrottlingException", "slow")
    with pytest.raises(CallNotPlaced, match="throttled after 5 tries"):
        connect.place_call(call_request())


@pytest.mark.parametrize(
    "code",
    [
        "DestinationNotAllowedException",
        "OutboundContactNotPermittedException",
        "InvalidParameterException",
        "ResourceNotFoundException",
    ],
)
def test_refusals_are_permanent_with_connects_reason(
    stubbed: tuple[AmazonConnectProvider, Stubber], code: str
) -> None:
    connect, stubber = stubbed
    stubber.add_client_error("start_outbound_voice_contact", code, "not allowed", 400)
    with pytest.raises(PermanentCallError, match=f"amazon_connect: {code}: not allowed"):
        connect.place_call(call_request())


def test_attributes_over_32_kb_are_refused_before_any_request(
    stubbed: tuple[AmazonConnectProvider, Stubber],
) -> None:
    connect, _ = stubbed
    with pytest.raises(PermanentCallError, match="over Connect's 32768"):
        connect.place_call(call_request(variables={"notes": "x" * 33_000}))


@pytest.mark.parametrize("status", sorted(AMD_OUTCOMES))
def test_every_decisive_amd_status_decides(status: str) -> None:
    assert outcome_of("CUSTOMER_DISCONNECT", status, True)[0] is AMD_OUTCOMES[status]
    assert outcome_of("CUSTOMER_DISCONNECT", status, False)[0] is AMD_OUTCOMES[status]


def test_every_amd_value_of_the_api_is_mapped() -> None:
    """botocore's model of Connect lists the values; a new one fails this test."""
    model = boto3.client("connect", region_name="us-east-1").meta.service_model
    values = model.shape_for("AnsweringMachineDetectionStatus").enum
    assert set(values) == set(AMD_OUTCOMES) | AMD_UNDECIDED


@pytest.mark.parametrize("status", [*sorted(AMD_UNDECIDED), None])
@pytest.mark.parametrize(
    ("reason", "answered", "outcome"),
    [
        ("CUSTOMER_DISCONNECT", True, Outcome.COMPLETED),
        ("AGENT_DISCONNECT", True, Outcome.COMPLETED),
        ("CONTACT_FLOW_DISCONNECT", True, Outcome.COMPLETED),
        ("TELECOM_PROBLEM", True, Outcome.COMPLETED),
        ("TELECOM_BUSY", False, Outcome.BUSY),
        ("TELECOM_UNANSWERED", False, Outcome.NO_ANSWER),
        ("TELECOM_TIMEOUT", False, Outcome.NO_ANSWER),
        ("EXPIRED", False, Outcome.NO_ANSWER),
        ("CUSTOMER_DISCONNECT", False, Outcome.NO_ANSWER),
        ("TELECOM_PROBLEM", False, Outcome.FAILED),
        ("TELECOM_NUMBER_INVALID", False, Outcome.FAILED),
        ("OUTBOUND_DESTINATION_ENDPOINT_ERROR", False, Outcome.FAILED),
        (None, False, Outcome.FAILED),
    ],
)
def test_disconnect_reasons_decide_when_amd_did_not(
    status: str | None, reason: str | None, answered: bool, outcome: Outcome
) -> None:
    assert outcome_of(reason, status, answered)[0] is outcome


def contact_event(time: str = "2026-11-22T10:00:43Z", **detail: Any) -> bytes:
    return json.dumps(
        {
            "version": "0",
            "time": time,
            "source": "aws.connect",
            "detail-type": "Amazon Connect Contact Event",
            "detail": {
                "contactId": CONTACT,
                "channel": "VOICE",
                "instanceArn": f"arn:aws:connect:us-east-1:123456789012:instance/{INSTANCE}",
                "initiationMethod": "API",
                **detail,
            },
        }
    ).encode()


def test_a_disconnected_event_is_read(stubbed: tuple[AmazonConnectProvider, Stubber]) -> None:
    connect, _ = stubbed
    event = connect.parse_event(
        {},
        contact_event(
            eventType="DISCONNECTED",
            disconnectReason="CUSTOMER_DISCONNECT",
            answeringMachineDetectionStatus="VOICEMAIL_BEEP",
            connectedToSystemTimestamp="2026-11-22T10:00:00.000Z",
            disconnectTimestamp="2026-11-22T10:00:42.500Z",
        ),
    )
    assert (event.call_id, event.provider_call_id, event.outcome) == (
        "",
        CONTACT,
        Outcome.VOICEMAIL,
    )
    assert event.duration_seconds == 42.5
    assert event.detail == {
        "disconnect_reason": "CUSTOMER_DISCONNECT",
        "answering_machine_detection": "VOICEMAIL_BEEP",
    }
    unanswered = connect.parse_event(
        {}, contact_event(eventType="DISCONNECTED", disconnectReason="TELECOM_BUSY")
    )
    assert unanswered.outcome is Outcome.BUSY and unanswered.duration_seconds is None
    progress = connect.parse_event({}, contact_event(eventType="CONNECTED_TO_SYSTEM"))
    assert progress.outcome is None


def test_the_events_time_is_when_it_occurred(
    stubbed: tuple[AmazonConnectProvider, Stubber],
) -> None:
    connect, _ = stubbed
    disconnected = connect.parse_event({}, contact_event(eventType="DISCONNECTED"))
    progress = connect.parse_event({}, contact_event(eventType="CONNECTED_TO_SYSTEM"))
    expected = datetime(2026, 11, 22, 10, 0, 43, tzinfo=UTC)
    assert disconnected.occurred_at == progress.occurred_at == expected
    unstamped = connect.parse_event({}, contact_event(time="", eventType="DISCONNECTED"))
    assert unstamped.occurred_at is None


def test_other_events_are_bad_events(stubbed: tuple[AmazonConnectProvider, Stubber]) -> None:
    connect, _ = stubbed
    with pytest.raises(ValueError):
        connect.parse_event({}, b"not json")
    with pytest.raises(ValueError):
        connect.parse_event({}, json.dumps({"detail-type": "Object Created"}).encode())
    with pytest.raises(ValueError, match="contactId"):
        connect.parse_event({}, contact_event(contactId=""))


def test_lookup_describes_the_contact(stubbed: tuple[AmazonConnectProvider, Stubber]) -> None:
    connect, stubber = stubbed
    expected = {"InstanceId": INSTANCE, "ContactId": CONTACT}
    stubber.add_response("describe_contact", {"Contact": {"Id": CONTACT}}, expected)
    started = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    ended = datetime(2026, 11, 22, 10, 1, tzinfo=UTC)
    stubber.add_response(
        "describe_contact",
        {
            "Contact": {
                "Id": CONTACT,
                "ConnectedToSystemTimestamp": started,
                "DisconnectTimestamp": ended,
                "DisconnectReason": "CUSTOMER_DISCONNECT",
                "AnsweringMachineDetectionStatus": "HUMAN_ANSWERED",
            }
        },
        expected,
    )
    stubber.add_client_error("describe_contact", "ResourceNotFoundException", "gone", 404)
    live = connect.lookup("call_1", CONTACT)
    assert live is not None and live.outcome is None
    done = connect.lookup("call_1", CONTACT)
    assert done is not None and (done.call_id, done.outcome) == ("call_1", Outcome.COMPLETED)
    assert done.duration_seconds == 60.0
    assert connect.lookup("call_1", CONTACT) is None
    assert connect.lookup("call_1", None) is None


def test_an_event_tells_who_answered_and_why_it_ended(
    stubbed: tuple[AmazonConnectProvider, Stubber],
) -> None:
    connect, _ = stubbed
    event = connect.parse_event(
        {},
        contact_event(
            eventType="DISCONNECTED",
            disconnectReason="CUSTOMER_DISCONNECT",
            answeringMachineDetectionStatus="HUMAN_ANSWERED",
        ),
    )
    assert (event.answered_by, event.ended_reason) == ("human", "CUSTOMER_DISCONNECT")


def test_lookup_reads_the_recording_and_the_flows_attributes(
    stubbed: tuple[AmazonConnectProvider, Stubber],
) -> None:
    connect, stubber = stubbed
    contact = {
        "Id": CONTACT,
        "ConnectedToSystemTimestamp": datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
        "DisconnectTimestamp": datetime(2026, 11, 22, 10, 1, tzinfo=UTC),
        "DisconnectReason": "CUSTOMER_DISCONNECT",
        "AnsweringMachineDetectionStatus": "VOICEMAIL_BEEP",
        "Recordings": [
            {"Location": "s3://bucket/screen.mp4", "MediaStreamType": "VIDEO"},
            {"Location": "s3://bucket/call.wav", "MediaStreamType": "AUDIO"},
        ],
        "Attributes": {
            "customer_name": "Asha",
            "batch_calls_data_interest": "high",
            "batch_calls_callback_at": "2026-11-23T15:00:00",
        },
    }
    stubber.add_response("describe_contact", {"Contact": contact})
    event = connect.lookup("call_1", CONTACT)
    assert event is not None
    assert (event.answered_by, event.recording_url) == ("machine", "s3://bucket/call.wav")
    assert event.data == {"interest": "high"}
    assert event.callback_at == "2026-11-23T15:00:00"
    assert (event.cost, event.transcript_url) == (None, None)  # Connect tells neither
