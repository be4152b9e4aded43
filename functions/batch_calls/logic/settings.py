"""Batch settings from what a request sent: form fields (strings), JSON, or S3 metadata."""

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from batch_calls.domain import compliance
from batch_calls.domain.batch import BatchSettings
from batch_calls.domain.workspace import Workspace
from batch_calls.ingest.phones import region_of
from batch_calls.logic.errors import InvalidField
from batch_calls.store.database import Database

# Fields a user may set, and those that may change after creation (while paused, scheduled
# or draft).
SETTINGS_FIELDS = frozenset(BatchSettings.model_fields)
CHANGEABLE_FIELDS = frozenset(
    {
        "name",
        "scheduled_at",
        "max_concurrent_calls",
        "retry_config",
        "calling_window",
        "from_phone_numbers",
        "max_calls_per_second",
        "priority",
        "voicemail_policy",
    }
)
# What may change while the batch runs: its concurrency, which takes effect within
# seconds (logic/batches.py update_batch).
CHANGEABLE_WHILE_RUNNING = frozenset({"max_concurrent_calls"})
_JSON_FIELDS = ("retry_config", "calling_window", "webhooks")
# A scheduled_at this close to now counts as "now" (clocks differ a little).
_CLOCK_SKEW = timedelta(seconds=60)
MAX_SCHEDULE_AHEAD = timedelta(days=366)


def parse_settings(fields: Mapping[str, Any], base: dict[str, Any] | None = None) -> BatchSettings:
    """Settings from `fields` over `base`; a wrong field is an InvalidField naming it."""
    data = dict(base or {})
    for name, value in fields.items():
        if value is None or value == "":
            continue
        data[name] = _decoded(name, value)
    numbers = data.get("from_phone_numbers")
    if fields.get("from_phone_numbers") and not fields.get("from_phone_number") and numbers:
        data["from_phone_number"] = numbers[0]  # a new list of caller IDs replaces the old
    try:
        return BatchSettings.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidField(field, _plain(first["msg"])) from None


def check_against_workspace(
    settings: BatchSettings, workspace: Workspace, database: Database, now: datetime
) -> str:
    """The checks that need the workspace; returns the caller number's region."""
    widening = compliance.widening(workspace.compliance_profile, settings.calling_window)
    if widening is not None:
        raise InvalidField(
            "calling_window", f"would widen the compliance profile's hours: {widening}"
        )
    if settings.max_concurrent_calls > workspace.max_concurrent_calls:
        raise InvalidField(
            "max_concurrent_calls",
            f"is {settings.max_concurrent_calls}, above this workspace's limit of "
            f"{workspace.max_concurrent_calls}",
        )
    region = region_of(settings.from_phone_number)
    if region is None:
        raise InvalidField(
            "from_phone_number", "is not a valid phone number in E.164 form (+14155550100)"
        )
    for field, number in [
        ("from_phone_number", settings.from_phone_number),
        *(("from_phone_numbers", n) for n in settings.from_phone_numbers[1:]),
    ]:
        if region_of(number) is None:
            raise InvalidField(field, f"{number!r} is not a valid phone number in E.164 form")
        if not database.has_caller_number(workspace.workspace_id, number):
            raise InvalidField(field, f"{number} is not a caller number of this workspace")
    if settings.scheduled_at is not None and settings.scheduled_at < now - _CLOCK_SKEW:
        raise InvalidField("scheduled_at", "is in the past")
    if settings.scheduled_at is not None and settings.scheduled_at > now + MAX_SCHEDULE_AHEAD:
        raise InvalidField("scheduled_at", "is more than a year ahead")
    agent = database.get_agent(workspace.workspace_id, settings.agent_id)
    if agent is None:
        raise InvalidField("agent_id", f"there is no agent {settings.agent_id} in this workspace")
    if agent.published_version is None:
        raise InvalidField("agent_id", f"agent {settings.agent_id} has no published version")
    return region


def _decoded(name: str, value: Any) -> Any:
    """Form fields carry JSON objects as text, and a list as JSON or comma-separated."""
    if not isinstance(value, str):
        return value
    is_list = name == "from_phone_numbers"
    if name in _JSON_FIELDS or (is_list and value.lstrip().startswith("[")):
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise InvalidField(name, f"is not valid JSON ({error.msg})") from None
    if is_list:
        return [number.strip() for number in value.split(",") if number.strip()]
    return value


def _plain(message: str) -> str:
    """pydantic's messages start with a capital (and our own validators' with "Value
    error, "); the API's read "field: what is wrong"."""
    message = message.removeprefix("Value error, ")
    return message[:1].lower() + message[1:]
