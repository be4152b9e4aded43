"""`POST /batch-calls` with a JSON body: seed 003's shape (camelCase, `options`), seed 004's
calling hours, and our own snake_case fields, all mapped onto the same batch settings."""

from collections.abc import Mapping
from typing import Any

from batch_calls.ingest.readers import table_from_contacts
from batch_calls.ingest.table import FileRejected
from batch_calls.ingest.validate import rejected_file_body
from batch_calls.logic.batches import Contacts
from batch_calls.logic.errors import InvalidField, ValidationFailed
from batch_calls.logic.settings import SETTINGS_FIELDS

_MS_PER_MINUTE = 60_000
# Accepted so clients of comparable products are not refused, but not acted on yet.
IGNORED_OPTIONS = frozenset({"priority", "tags", "timezone"})
# Seed 003's webhook names, and ours.
_WEBHOOK_NAMES = {"onCallComplete": "on_call_complete", "onBatchComplete": "on_batch_complete"}


def json_request(body: Any) -> tuple[dict[str, Any], Contacts | None, bool]:
    """(settings fields, contacts, start) from a JSON create body."""
    if not isinstance(body, Mapping):
        raise InvalidField("body", "must be a JSON object")
    fields = {name: body[name] for name in SETTINGS_FIELDS if name in body}
    for camel, snake in (
        ("agentId", "agent_id"),
        ("fromPhoneNumber", "from_phone_number"),
        ("batchName", "name"),
        ("callingNumbers", "from_phone_numbers"),  # seed 004: E.164 numbers here
    ):
        if camel in body and snake not in fields:
            fields[snake] = body[camel]
    options = body.get("options") or {}
    if not isinstance(options, Mapping):
        raise InvalidField("options", "must be a JSON object")
    fields.update(_from_options(options, fields))
    if "callingHour" in body:
        fields["calling_window"] = _calling_hours(body)

    start = body.get("start", True)
    if not isinstance(start, bool):
        raise InvalidField("start", "must be true or false")
    if "contacts" not in body:
        return fields, None, start
    try:
        table = table_from_contacts(body["contacts"])
    except FileRejected as rejected:
        raise ValidationFailed(rejected_file_body(rejected)) from None
    return fields, Contacts(table=table), start


def _from_options(options: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    mapped: dict[str, Any] = {}
    if "scheduledStartTime" in options and "scheduled_at" not in fields:
        mapped["scheduled_at"] = options["scheduledStartTime"]
    if "maxConcurrentCalls" in options and "max_concurrent_calls" not in fields:
        mapped["max_concurrent_calls"] = options["maxConcurrentCalls"]
    hooks = options.get("webhooks")
    if hooks is not None and "webhooks" not in fields:
        if not isinstance(hooks, Mapping):
            raise InvalidField("options.webhooks", "must be a JSON object")
        mapped["webhooks"] = {_WEBHOOK_NAMES.get(name, name): url for name, url in hooks.items()}
    if "maxCallsPerSecond" in options and "max_calls_per_second" not in fields:
        mapped["max_calls_per_second"] = options["maxCallsPerSecond"]
    if "priority" in options and "priority" not in fields:
        mapped["priority"] = options["priority"]
    strategy = options.get("retryStrategy")
    if strategy is not None and "retry_config" not in fields:
        mapped["retry_config"] = _retry_strategy(strategy)
    return mapped


def _retry_strategy(strategy: Any) -> dict[str, Any]:
    """Seed 003: maxAttempts counts the first call; delays are in milliseconds."""
    if not isinstance(strategy, Mapping):
        raise InvalidField("options.retryStrategy", "must be a JSON object")
    retry: dict[str, Any] = {}
    attempts = strategy.get("maxAttempts")
    if attempts is not None:
        if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
            raise InvalidField("options.retryStrategy.maxAttempts", "must be a whole number >= 1")
        retry["max_retries"] = attempts - 1
    for delay, wait in (
        ("noAnswerDelay", "no_answer_wait_minutes"),
        ("busyDelay", "busy_wait_minutes"),
    ):
        value = strategy.get(delay)
        if value is not None:
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise InvalidField(f"options.retryStrategy.{delay}", "must be milliseconds >= 0")
            retry[wait] = value / _MS_PER_MINUTE
    return retry


def _calling_hours(body: Mapping[str, Any]) -> dict[str, Any]:
    """Seed 004: callingHour {start, end}, allowedDays, timezone."""
    hours = body["callingHour"]
    if not isinstance(hours, Mapping):
        raise InvalidField(
            "callingHour", 'must be an object like {"start": "09:00", "end": "17:00"}'
        )
    window: dict[str, Any] = {"start": hours.get("start"), "end": hours.get("end")}
    if "allowedDays" in body:
        window["days"] = body["allowedDays"]
    if "timezone" in body:
        window["timezone"] = body["timezone"]
    return {key: value for key, value in window.items() if value is not None}
