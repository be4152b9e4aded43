"""The `amazon_connect` provider: outbound calls through an Amazon Connect instance.

Placing: StartOutboundVoiceContact with the contact flow that runs the agent
(ContactFlowId = the agent id, or the flow `contact_flows` maps it to), the recipient's
variables and our ids as contact attributes (Connect allows 32 KB of them),
ClientToken = the attempt's idempotency key (Connect returns the same contact for the same
token, so throttled or failed requests are safely sent again).

Outcomes: Connect publishes "Amazon Connect Contact Event" to the account's default
EventBridge bus; the stack's rule (infra.resources.CONTACT_EVENTS_RULE) sends the
DISCONNECTED ones through a queue to `handlers.call_events.contact_events`, which reads
them with `parse_event`. Those events name Connect's ContactId only; the product finds
its call by that id (stored when the call was placed). They come through IAM-guarded
AWS services, not the public API, so they carry no signature; the public webhook route
refuses this provider.

Reconciliation: DescribeContact.

Secret object `amazon_connect`: instance_id; optionally contact_flows ({agent id: flow
id}), queue_id, traffic_type (GENERAL or CAMPAIGN; CAMPAIGN turns on answering-machine
detection) and region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
)

from batch_calls.domain import json_limits, results
from batch_calls.domain.results import AnsweredBy
from batch_calls.telephony.base import (
    CallEvent,
    CallRequest,
    DispatchUnknown,
    Outcome,
    PermanentCallError,
    PlacedCall,
)
from batch_calls.telephony.credentials import Settings
from batch_calls.telephony.transport import DEFAULT_BACKOFF, Backoff, Retry, reason

NAME = "amazon_connect"
MAX_ATTRIBUTES_BYTES = 32 * 1024  # Connect's limit on a contact's attributes
MAX_CONTACT_EVENT_BYTES = 256 * 1024  # an SQS message's limit
EVENT_SOURCE = "aws.connect"
EVENT_DETAIL_TYPE = "Amazon Connect Contact Event"
DISCONNECTED = "DISCONNECTED"
# Our ids among the contact's attributes (the flow and the agent can read them).
CALL_ID_ATTRIBUTE = "batch_calls_call_id"
BATCH_ID_ATTRIBUTE = "batch_calls_batch_id"
AGENT_VERSION_ATTRIBUTE = "batch_calls_agent_version"
# The batch's voicemail policy (hang_up or leave_message), for the flow to act on.
VOICEMAIL_ATTRIBUTE = "batch_calls_voicemail"
# What the flow (or the agent) writes back as contact attributes, read by DescribeContact:
# post-call data as batch_calls_data_<name>, a callback request as batch_calls_callback_at.
DATA_ATTRIBUTE_PREFIX = "batch_calls_data_"
CALLBACK_ATTRIBUTE = "batch_calls_callback_at"
# AnsweringMachineDetectionStatus (Contact, in the API reference) as who answered.
ANSWERED_BY: dict[str, AnsweredBy] = {
    "HUMAN_ANSWERED": AnsweredBy.HUMAN,
    "VOICEMAIL_BEEP": AnsweredBy.MACHINE,
    "VOICEMAIL_NO_BEEP": AnsweredBy.MACHINE,
    "FAX_MACHINE_DETECTED": AnsweredBy.MACHINE,
    "ANSWERED": AnsweredBy.UNKNOWN,
    "UNDETECTED": AnsweredBy.UNKNOWN,
    "AMD_UNRESOLVED": AnsweredBy.UNKNOWN,
    "AMD_ERROR": AnsweredBy.UNKNOWN,
    "ERROR": AnsweredBy.UNKNOWN,
}

THROTTLING_CODES = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "LimitExceededException"}
)
RETRYABLE_CODES = frozenset({"InternalServiceException", "ServiceUnavailableException"})

# AnsweringMachineDetectionStatus (outbound campaign calls): what the answer was.
AMD_OUTCOMES: dict[str, Outcome] = {
    "HUMAN_ANSWERED": Outcome.COMPLETED,
    "ANSWERED": Outcome.COMPLETED,
    "VOICEMAIL_BEEP": Outcome.VOICEMAIL,
    "VOICEMAIL_NO_BEEP": Outcome.VOICEMAIL,
    "AMD_UNANSWERED": Outcome.NO_ANSWER,
    "SIT_TONE_BUSY": Outcome.BUSY,
    "SIT_TONE_INVALID_NUMBER": Outcome.FAILED,
    "SIT_TONE_DETECTED": Outcome.FAILED,
    "FAX_MACHINE_DETECTED": Outcome.FAILED,
}
# These say nothing about the answer: the disconnect reason decides.
AMD_UNDECIDED = frozenset(
    {"UNDETECTED", "ERROR", "AMD_UNRESOLVED", "AMD_ERROR", "AMD_NOT_APPLICABLE"}
)
# Disconnect reasons of a call never answered (no connectedToSystemTimestamp).
UNANSWERED_REASONS: dict[str, Outcome] = {
    "TELECOM_BUSY": Outcome.BUSY,
    "TELECOM_UNANSWERED": Outcome.NO_ANSWER,
    "TELECOM_TIMEOUT": Outcome.NO_ANSWER,
    "EXPIRED": Outcome.NO_ANSWER,
    "CUSTOMER_DISCONNECT": Outcome.NO_ANSWER,  # rejected or hung up while ringing
    "TELECOM_ORIGINATOR_CANCEL": Outcome.NO_ANSWER,
}


def outcome_of(
    disconnect_reason: str | None, amd_status: str | None, answered: bool
) -> tuple[Outcome, str]:
    """A disconnected contact's outcome, and the Connect value it came from.

    Answering-machine detection decides when it reached a verdict; otherwise a contact
    that reached the flow (connected to the system) completed, whatever hung up, and one
    that never connected is read from its disconnect reason: busy, unanswered, or failed
    (a telecom problem, an invalid number, an outbound error: anything else)."""
    if amd_status and amd_status in AMD_OUTCOMES:
        return AMD_OUTCOMES[amd_status], amd_status
    reason_code = disconnect_reason or "UNKNOWN"
    if answered:
        return Outcome.COMPLETED, reason_code
    return UNANSWERED_REASONS.get(reason_code, Outcome.FAILED), reason_code


class AmazonConnectProvider:
    name = NAME

    def __init__(
        self,
        instance_id: str,
        *,
        contact_flows: Mapping[str, str] | None = None,
        queue_id: str | None = None,
        traffic_type: str | None = None,
        client: Any = None,
        region: str | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self.instance_id = instance_id
        self.contact_flows = dict(contact_flows or {})
        self.queue_id = queue_id
        self.traffic_type = traffic_type
        self._region = region
        self._client = client
        self._backoff = backoff

    @classmethod
    def from_settings(cls, settings: Settings, callback_base: str) -> AmazonConnectProvider:
        traffic = settings.optional_text("traffic_type")
        if traffic not in (None, "GENERAL", "CAMPAIGN"):
            raise ValueError("amazon_connect: traffic_type must be GENERAL or CAMPAIGN")
        return cls(
            settings.text("instance_id"),
            contact_flows=settings.mapping("contact_flows"),
            queue_id=settings.optional_text("queue_id"),
            traffic_type=traffic,
            region=settings.optional_text("region"),
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            # Retries are ours (the backoff), so a stubbed or real client sees each try.
            config = Config(retries={"max_attempts": 1, "mode": "standard"})
            self._client = boto3.client("connect", region_name=self._region, config=config)
        return self._client

    # -- placing a call -------------------------------------------------------------------

    def attributes(self, request: CallRequest) -> dict[str, str]:
        attributes = {str(k): str(v) for k, v in request.variables.items()}
        attributes[CALL_ID_ATTRIBUTE] = request.call_id
        attributes[BATCH_ID_ATTRIBUTE] = request.batch_id
        attributes[VOICEMAIL_ATTRIBUTE] = request.voicemail
        if request.agent_version is not None:
            attributes[AGENT_VERSION_ATTRIBUTE] = str(request.agent_version)
        size = sum(len(k.encode()) + len(v.encode()) for k, v in attributes.items())
        if size > MAX_ATTRIBUTES_BYTES:
            raise PermanentCallError(
                f"amazon_connect: the call's attributes are {size} bytes, over Connect's "
                f"{MAX_ATTRIBUTES_BYTES} (fewer or shorter variables)"
            )
        return attributes

    def start_request(self, request: CallRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "DestinationPhoneNumber": request.to,
            "ContactFlowId": self.contact_flows.get(request.agent_id, request.agent_id),
            "InstanceId": self.instance_id,
            "ClientToken": request.idempotency_key,
            "SourcePhoneNumber": request.from_number,
            "Attributes": self.attributes(request),
        }
        if self.queue_id:
            params["QueueId"] = self.queue_id
        if self.traffic_type:
            params["TrafficType"] = self.traffic_type
            if self.traffic_type == "CAMPAIGN":
                params["AnswerMachineDetectionConfig"] = {
                    "EnableAnswerMachineDetection": True,
                    "AwaitAnswerMachinePrompt": True,
                }
        return params

    def place_call(self, request: CallRequest) -> PlacedCall:
        params = self.start_request(request)

        def attempt() -> PlacedCall:
            try:
                contact = self.client.start_outbound_voice_contact(**params)
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", ""))
                message = str(error.response.get("Error", {}).get("Message", "")) or code
                if code in THROTTLING_CODES:
                    raise Retry(code, throttled=True) from error
                if code in RETRYABLE_CODES:
                    raise Retry(code, throttled=False) from error  # ClientToken: safe
                raise PermanentCallError(reason(f"amazon_connect: {code}: {message}")) from error
            except BotoCoreError as error:  # connection errors, timeouts
                raise Retry(type(error).__name__, throttled=False) from error
            return PlacedCall(str(contact["ContactId"]))

        return self._backoff.run(attempt, NAME)

    # -- contact events and lookups -------------------------------------------------------

    def parse_event(self, headers: Mapping[str, str], body: bytes, url: str = "") -> CallEvent:
        return read_contact_event(body)

    def lookup(self, call_id: str, provider_call_id: str | None) -> CallEvent | None:
        if not provider_call_id:
            return None
        try:
            contact = self.client.describe_contact(
                InstanceId=self.instance_id, ContactId=provider_call_id
            )["Contact"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise DispatchUnknown(f"amazon_connect: DescribeContact failed: {error}") from error
        if contact.get("DisconnectTimestamp") is None:
            return CallEvent(call_id, None, "CONNECTED", provider_call_id=provider_call_id)
        event = _disconnected(
            provider_call_id,
            contact.get("DisconnectReason"),
            contact.get("AnsweringMachineDetectionStatus"),
            connected_at=contact.get("ConnectedToSystemTimestamp"),
            ended_at=contact.get("DisconnectTimestamp"),
        )
        return replace(event, call_id=call_id, **contact_facts(contact))


def contact_facts(contact: Mapping[str, Any]) -> dict[str, Any]:
    """What DescribeContact adds: the audio recording's S3 location (Recordings) and the
    attributes the flow wrote back (Attributes). Connect gives no per-contact cost, and
    a transcript (Contact Lens) is not among the contact's fields."""
    recording = next(
        (
            str(info["Location"])
            for info in contact.get("Recordings") or []
            if info.get("Location") and info.get("MediaStreamType", "AUDIO") == "AUDIO"
        ),
        None,
    )
    attributes = contact.get("Attributes") or {}
    data = {
        str(name).removeprefix(DATA_ATTRIBUTE_PREFIX): value
        for name, value in attributes.items()
        if str(name).startswith(DATA_ATTRIBUTE_PREFIX)
    }
    callback = attributes.get(CALLBACK_ATTRIBUTE)
    try:
        callback_at = results.checked_callback_time(callback)
    except ValueError:
        callback_at = None  # the flow wrote something else: no callback
    return {
        "recording_url": results.text(recording),
        "data": results.post_call_data(data),
        "callback_at": callback_at,
    }


def read_contact_event(body: bytes) -> CallEvent:
    """An "Amazon Connect Contact Event" (EventBridge's JSON, as the queue holds it); it
    needs no settings, so a deployment reads the events even before it is configured.

    ValueError for anything else. A contact event other than DISCONNECTED (the rule only
    sends those) is read as a progress event."""
    try:
        event = json_limits.loads(body, MAX_CONTACT_EVENT_BYTES)
    except json_limits.JsonRejected as error:
        raise ValueError(f"amazon_connect: the event {error.message}") from None
    if not isinstance(event, dict) or event.get("detail-type") != EVENT_DETAIL_TYPE:
        raise ValueError(f"amazon_connect: not an {EVENT_DETAIL_TYPE!r}")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise ValueError("amazon_connect: the event has no detail")
    contact_id = _field(detail, "contactId")
    event_type = _field(detail, "eventType")
    if not contact_id:
        raise ValueError("amazon_connect: the event has no contactId")
    # EventBridge's `time`: when Connect emitted the event.
    occurred_at = _moment(_field(event, "time"))
    if event_type != DISCONNECTED:
        return CallEvent(
            "",
            None,
            event_type or "unknown",
            provider_call_id=contact_id,
            occurred_at=occurred_at,
        )
    return _disconnected(
        contact_id,
        _field(detail, "disconnectReason"),
        _field(detail, "answeringMachineDetectionStatus"),
        connected_at=_moment(_field(detail, "connectedToSystemTimestamp")),
        ended_at=_moment(_field(detail, "disconnectTimestamp")),
        occurred_at=occurred_at,
    )


def _disconnected(
    contact_id: str,
    disconnect_reason: str | None,
    amd_status: str | None,
    *,
    connected_at: datetime | None,
    ended_at: datetime | None,
    occurred_at: datetime | None = None,
) -> CallEvent:
    outcome, source = outcome_of(disconnect_reason, amd_status, connected_at is not None)
    duration = (
        max((ended_at - connected_at).total_seconds(), 0.0)
        if connected_at is not None and ended_at is not None
        else None
    )
    detail = {"disconnect_reason": disconnect_reason or ""}
    if amd_status:
        detail["answering_machine_detection"] = amd_status
    return CallEvent(
        "",
        outcome,
        source,
        duration,
        detail,
        contact_id,
        occurred_at=occurred_at,
        answered_by=ANSWERED_BY.get(amd_status or ""),
        ended_reason=results.text(disconnect_reason),
    )


def _field(fields: Mapping[str, Any], name: str) -> str | None:
    """A text field, in the event's camelCase or the API's PascalCase."""
    value = fields.get(name, fields.get(name[0].upper() + name[1:]))
    return value if isinstance(value, str) and value else None


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    # Connect and EventBridge write UTC; one without an offset is read as UTC too.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
