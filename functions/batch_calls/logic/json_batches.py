"""The JSON request shapes, each a thin adapter onto one `CreateRequest`: our own (the
settings by their names, as the form has them), seed 003's (Dialgen: camelCase, `options`)
and seed 004's (Nexus: a staged batch, calling hours, retry and delay in seconds).

Which names each shape takes comes from the settings' description (domain.batch.Names);
a field a shape does not know is a 400 naming the closest one it does."""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from batch_calls.domain.batch import MAX_RETRIES
from batch_calls.ingest.readers import table_from_contacts
from batch_calls.ingest.table import FileRejected
from batch_calls.ingest.validate import rejected_file_body
from batch_calls.logic.batches import Contacts, CreateRequest
from batch_calls.logic.errors import InvalidField, ValidationFailed
from batch_calls.logic.settings import (
    SETTINGS,
    from_json_fields,
    refuse_unknown,
)

_MS_PER_MINUTE = 60_000
_SECONDS_PER_MINUTE = 60


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidField(name, "must be a JSON object")
    return value


def _contacts(body: Mapping[str, Any]) -> Contacts | None:
    if "contacts" not in body:
        return None
    try:
        return Contacts(table=table_from_contacts(body["contacts"]), from_json=True)
    except FileRejected as rejected:
        raise ValidationFailed(rejected_file_body(rejected)) from None


def _start(body: Mapping[str, Any], name: str = "start") -> bool:
    start = body.get(name, True)
    if not isinstance(start, bool):
        raise InvalidField(name, "must be true or false")
    return start


# -- ours ----------------------------------------------------------------------------------

OUR_FIELDS = frozenset({*SETTINGS, "contacts", "start"})


def contacts_request(body: Any) -> Contacts:
    """POST /batch-calls/{id}/contacts with JSON: {"contacts": [...]}, or the list."""
    if isinstance(body, Mapping):
        refuse_unknown(body, {"contacts"})
        if "contacts" not in body:
            raise InvalidField("contacts", "is required: a list of contacts with phoneNumber")
    contacts = _contacts({"contacts": body})
    assert contacts is not None
    return contacts


# -- seed 003: Dialgen -------------------------------------------------------------------

_DIALGEN_TOP = {
    s.names.dialgen: n
    for n, s in SETTINGS.items()
    if s.names.dialgen and "." not in s.names.dialgen
}
_DIALGEN_OPTIONS = {
    s.names.dialgen.removeprefix("options."): n
    for n, s in SETTINGS.items()
    if s.names.dialgen and s.names.dialgen.startswith("options.")
}
DIALGEN_FIELDS = frozenset({*_DIALGEN_TOP, "userId", "contacts", "options"})
# Seed 003's webhook names, and ours.
_WEBHOOK_NAMES = {"onCallComplete": "on_call_complete", "onBatchComplete": "on_batch_complete"}
_RETRY_STRATEGY = ("maxAttempts", "noAnswerDelay", "busyDelay")


def is_dialgen(body: Any) -> bool:
    """A JSON create in seed 003's shape (on POST /batch-calls, which takes both)."""
    return isinstance(body, Mapping) and any(
        name in body for name in ("agentId", "options", "userId")
    )


def dialgen_request(body: Any) -> CreateRequest:
    """Seed 003 (POST /api/v1/batch): {agentId, userId, contacts, options: {...}}."""
    body = _object(body, "body")
    refuse_unknown(body, DIALGEN_FIELDS)
    return _dialgen(body, _contacts(body), start=True)


def batch_calls_request(body: Any) -> CreateRequest:
    """POST /batch-calls with JSON: our names (`contacts`, `start` and the settings),
    seed 003's, or both; a setting given in both is refused rather than one dropped."""
    body = _object(body, "body")
    refuse_unknown(body, OUR_FIELDS | DIALGEN_FIELDS)
    if not is_dialgen(body):
        settings = from_json_fields(body, {name: name for name in SETTINGS})
        return CreateRequest(settings, _contacts(body), _start(body))
    request = _dialgen({k: v for k, v in body.items() if k in DIALGEN_FIELDS}, None, True)
    ours = from_json_fields(body, {name: name for name in SETTINGS})
    for name in ours.fields:
        if name in request.settings.fields:
            raise InvalidField(
                request.settings.name_of(name), f"is given twice (also as {name}): keep one"
            )
    request.settings.fields.update(ours.fields)
    request.settings.sent_as.update(ours.sent_as)
    return replace(request, contacts=_contacts(body), start=_start(body))


def _dialgen(body: Mapping[str, Any], contacts: Contacts | None, start: bool) -> CreateRequest:
    options = _object(body.get("options") or {}, "options")
    refuse_unknown(options, _DIALGEN_OPTIONS, within="options")
    settings = from_json_fields(body, _DIALGEN_TOP)
    from_options = from_json_fields(options, _DIALGEN_OPTIONS)
    settings.fields.update(from_options.fields)
    settings.sent_as.update({k: f"options.{v}" for k, v in from_options.sent_as.items()})
    if "retry_config" in settings.fields:
        settings.fields["retry_config"] = _retry_strategy(settings.fields["retry_config"])
    if "webhooks" in settings.fields:
        hooks = _object(settings.fields["webhooks"], "options.webhooks")
        refuse_unknown(hooks, _WEBHOOK_NAMES, within="options.webhooks")
        settings.fields["webhooks"] = {_WEBHOOK_NAMES[name]: url for name, url in hooks.items()}
        settings.sent_as.update(
            {
                f"webhooks.{ours}": f"options.webhooks.{theirs}"
                for theirs, ours in _WEBHOOK_NAMES.items()
            }
        )
    user_id = body.get("userId")
    if user_id is not None and not isinstance(user_id, str):
        raise InvalidField("userId", "must be a string: your workspace id (GET /me)")
    return CreateRequest(settings, contacts, start, user_id=user_id, caller_default="all")


def _retry_strategy(strategy: Any) -> dict[str, Any]:
    """Seed 003: maxAttempts counts the first call; delays are in milliseconds."""
    name = "options.retryStrategy"
    strategy = _object(strategy, name)
    refuse_unknown(strategy, _RETRY_STRATEGY, within=name)
    retry: dict[str, Any] = {}
    attempts = strategy.get("maxAttempts")
    if attempts is not None:
        if not _is_number(attempts, whole=True) or not 1 <= attempts <= MAX_RETRIES + 1:
            raise InvalidField(
                f"{name}.maxAttempts", f"must be a whole number from 1 to {MAX_RETRIES + 1}"
            )
        retry["max_retries"] = attempts - 1
    for delay, wait in (
        ("noAnswerDelay", "no_answer_wait_minutes"),
        ("busyDelay", "busy_wait_minutes"),
    ):
        value = strategy.get(delay)
        if value is not None:
            if not _is_number(value) or value < 0:
                raise InvalidField(f"{name}.{delay}", "must be milliseconds >= 0")
            retry[wait] = value / _MS_PER_MINUTE
    return retry


def _is_number(value: Any, whole: bool = False) -> bool:
    kinds = (int,) if whole else (int, float)
    return isinstance(value, kinds) and not isinstance(value, bool)


# -- seed 004: Nexus -----------------------------------------------------------------------

_NEXUS_SIMPLE = {
    s.names.nexus: n
    for n, s in SETTINGS.items()
    if s.names.nexus and n not in {"retry_config", "calling_window", "from_phone_numbers"}
}
NEXUS_FIELDS = frozenset(
    {*_NEXUS_SIMPLE, "callingNumbers", "retry", "delay", "callingHour", "allowedDays"}
)


@dataclass(frozen=True)
class NexusRequest:
    create: CreateRequest
    # callingNumbers: phone ids of GET /phone-numbers (or E.164 numbers), which the use
    # case resolves against the workspace's numbers.
    phone_ids: tuple[str, ...]


def nexus_request(body: Any, *, creating: bool) -> NexusRequest:
    """Seed 004: {batchName, callingNumbers, retry, delay, timezone, callingHour,
    allowedDays} (and `agentId` where the workspace has several agents). A create needs
    batchName and callingNumbers; an update gives any of them (with `batchId`)."""
    body = _object(body, "body")
    refuse_unknown(body, NEXUS_FIELDS | ({"batchId"} if not creating else set()))
    if creating and not (isinstance(body.get("batchName"), str) and body["batchName"].strip()):
        raise InvalidField("batchName", "is required: a name for the batch")
    numbers = body.get("callingNumbers")
    if creating and (not isinstance(numbers, list) or not numbers):
        raise InvalidField(
            "callingNumbers", "is required: a non-empty list of phone ids or numbers"
        )
    settings = from_json_fields(body, _NEXUS_SIMPLE)
    phone_ids: tuple[str, ...] = ()
    if numbers is not None:
        if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
            raise InvalidField(
                "callingNumbers",
                "must be a list of phone ids (GET /phone-numbers) or E.164 numbers",
            )
        phone_ids = tuple(numbers)
        settings.sent_as.update(
            {"from_phone_numbers": "callingNumbers", "from_phone_number": "callingNumbers[0]"}
        )
    retry = _nexus_retry(body)
    if retry:
        settings.fields["retry_config"] = retry
        settings.sent_as.update(
            {"retry_config": "retry", "retry_config.retry_interval_minutes": "delay"}
        )
    window = _calling_hours(body)
    if window:
        settings.fields["calling_window"] = window
        settings.sent_as.update(
            {"calling_window": "callingHour", "calling_window.days": "allowedDays"}
        )
    return NexusRequest(CreateRequest(settings, None, start=False, caller_default="all"), phone_ids)


def _nexus_retry(body: Mapping[str, Any]) -> dict[str, Any]:
    """retry: redials of a call that did not connect (no answer, busy, failed); delay:
    seconds between them."""
    retry: dict[str, Any] = {}
    if body.get("retry") is not None:
        if not _is_number(body["retry"], whole=True) or not 0 <= body["retry"] <= MAX_RETRIES:
            raise InvalidField("retry", f"must be a whole number from 0 to {MAX_RETRIES}")
        retry.update(max_retries=body["retry"], retry_on_failed=True)
    if body.get("delay") is not None:
        if not _is_number(body["delay"]) or body["delay"] < 0:
            raise InvalidField("delay", "must be seconds >= 0")
        retry["retry_interval_minutes"] = body["delay"] / _SECONDS_PER_MINUTE
    return retry


def _calling_hours(body: Mapping[str, Any]) -> dict[str, Any]:
    """callingHour {start, end} and allowedDays; the zone is the batch's timezone."""
    window: dict[str, Any] = {}
    if body.get("callingHour") is not None:
        hours = _object(body["callingHour"], "callingHour")
        refuse_unknown(hours, ("start", "end"), within="callingHour")
        if "start" not in hours or "end" not in hours:
            raise InvalidField(
                "callingHour", 'needs start and end, like {"start": "09:00", "end": "17:00"}'
            )
        window.update(start=hours["start"], end=hours["end"])
    if body.get("allowedDays") is not None:
        window["days"] = body["allowedDays"]
    return window
