"""A batch's settings from any request, read through their one description.

`domain.batch.BatchSettings` describes every setting once: name, type, bounds, default,
doc, and (`Names`) what the seeds call it and when it may change. This module derives
from it what each request shape needs - the form's and the S3 metadata's fields and
their types, the fields PATCH may change, README's defaults table - and turns what a
shape sent into one typed command (`SettingsRequest`) that `parse_settings` validates,
naming a wrong field as the caller sent it.
"""

import difflib
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from batch_calls.domain import compliance
from batch_calls.domain.batch import BatchSettings, Names
from batch_calls.domain.workspace import Workspace
from batch_calls.ingest.phones import region_of
from batch_calls.logic.errors import InvalidField
from batch_calls.logic.ports import Workspaces

Kind = Literal["text", "integer", "boolean", "json", "list"]


@dataclass(frozen=True)
class Setting:
    """One setting as the description gives it."""

    name: str
    doc: str
    default: Any  # None when it has none (or its default is null)
    required: bool
    kind: Kind  # how a form or S3 metadata writes it (text, always)
    names: Names

    @property
    def metadata_name(self) -> str:
        return self.name.replace("_", "-")


def _kind(annotation: Any) -> Kind:
    options = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(options) == 1:
        annotation = options[0]
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is tuple:
        return "list"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "json"
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    return "text"


def _setting(name: str, info: FieldInfo) -> Setting:
    names = next((m for m in info.metadata if isinstance(m, Names)), Names())
    default = None if info.default is PydanticUndefined else info.default
    if isinstance(default, BaseModel):
        default = default.model_dump(mode="json")
    return Setting(
        name=name,
        doc=info.description or "",
        default=default,
        required=info.is_required(),
        kind=_kind(info.annotation),
        names=names,
    )


SETTINGS: dict[str, Setting] = {
    name: _setting(name, info) for name, info in BatchSettings.model_fields.items()
}
# What PATCH may change (while paused, scheduled or draft), and what also while running.
CHANGEABLE_FIELDS = frozenset(name for name, s in SETTINGS.items() if s.names.changeable)
CHANGEABLE_WHILE_RUNNING = frozenset(name for name, s in SETTINGS.items() if s.names.while_running)
# A scheduled_at this close to now counts as "now" (clocks differ a little).
_CLOCK_SKEW = timedelta(seconds=60)
MAX_SCHEDULE_AHEAD = timedelta(days=366)


@dataclass(frozen=True)
class SettingsRequest:
    """The one typed command every shape's adapter makes: settings by their own names,
    as sent (validated by `parse_settings`), and the name the caller gave each, so an
    error names `options.scheduledStartTime` to whoever sent that."""

    fields: dict[str, Any] = field(default_factory=dict)
    sent_as: dict[str, str] = field(default_factory=dict)  # setting path -> caller's path

    def name_of(self, path: str) -> str:
        """The caller's name for a setting's `path` (retry_config.max_retries, tags[2]):
        its longest prefix the caller named otherwise, renamed."""
        known = [
            prefix
            for prefix in self.sent_as
            if path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))
        ]
        if not known:
            return path
        prefix = max(known, key=len)
        return self.sent_as[prefix] + path[len(prefix) :]


def refuse_unknown(sent: Iterable[str], known: Iterable[str], within: str = "") -> None:
    """A field the shape does not know is a 400 naming it and the closest known name:
    never dropped (a misspelt max_concurent_calls would silently dial one at a time)."""
    known = sorted(known)
    for name in sent:
        if name in known:
            continue
        path = f"{within}.{name}" if within else name
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else f"the known fields are {', '.join(known)}"
        raise InvalidField(path, f"is not a field of this request; {hint}")


# -- the shapes whose values are text: multipart form fields, S3 metadata --------------

_WHOLE_NUMBER = re.compile(r"\s*[+-]?\d{1,12}\s*")
_BOOLEANS = {"true": True, "false": False}


def from_text_fields(fields: Mapping[str, str], names: Mapping[str, str]) -> SettingsRequest:
    """Settings from text values (`names`: the caller's name -> the setting), each read as
    its setting's kind says (an empty value too: it is not a value of any of them)."""
    request = SettingsRequest()
    for sent_name, setting_name in names.items():
        text = fields.get(sent_name)
        if text is None:
            continue
        request.fields[setting_name] = _from_text(SETTINGS[setting_name], sent_name, text)
        request.sent_as[setting_name] = sent_name
    return request


def _from_text(setting: Setting, sent_name: str, text: Any) -> Any:
    """A text value as its setting's kind (a value already typed is taken as it is)."""
    if not isinstance(text, str):
        return text
    if setting.kind == "integer":
        if not _WHOLE_NUMBER.fullmatch(text):
            raise InvalidField(sent_name, f"must be a whole number, not {text[:40]!r}")
        return int(text)
    if setting.kind == "boolean":
        value = _BOOLEANS.get(text.strip().lower())
        if value is None:
            raise InvalidField(sent_name, "must be true or false")
        return value
    if setting.kind == "json" or (setting.kind == "list" and text.lstrip().startswith("[")):
        try:
            return json.loads(text)
        except (json.JSONDecodeError, RecursionError, ValueError) as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else "too deep"
            raise InvalidField(sent_name, f"is not valid JSON ({reason})") from None
    if setting.kind == "list":
        items = [item.strip() for item in text.split(",")]
        if not all(items):
            raise InvalidField(sent_name, "must be a comma-separated list with no empty item")
        return items
    return text


def read_start(text: str) -> bool:
    """The form's `start` (false stages a draft)."""
    value = _BOOLEANS.get(text.strip().lower())
    if value is None:
        raise InvalidField("start", "must be true or false")
    return value


FORM_FIELDS = {name: name for name in SETTINGS}
METADATA_FIELDS = {setting.metadata_name: name for name, setting in SETTINGS.items()}


# -- the JSON shapes ---------------------------------------------------------------------


def from_json_fields(body: Mapping[str, Any], names: Mapping[str, str]) -> SettingsRequest:
    """Settings from JSON values as sent (`names`: the caller's name -> the setting); a
    null is a field left out."""
    request = SettingsRequest()
    for sent_name, setting_name in names.items():
        if body.get(sent_name) is not None:
            request.fields[setting_name] = body[sent_name]
            request.sent_as[setting_name] = sent_name
    return request


# -- validation ----------------------------------------------------------------------------


def parse_settings(
    request: SettingsRequest, base: Mapping[str, Any] | None = None
) -> BatchSettings:
    """The settings `request` gives over `base`; a wrong field is an InvalidField naming
    it as the caller sent it."""
    data = dict(base or {})
    data.update(request.fields)
    numbers = request.fields.get("from_phone_numbers")
    if numbers and "from_phone_number" not in request.fields and isinstance(numbers, list):
        data["from_phone_number"] = numbers[0]  # a new list of caller IDs replaces the old
        request.sent_as.setdefault("from_phone_number", request.name_of("from_phone_numbers"))
    try:
        return BatchSettings.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        path = _path(first["loc"])
        field_name = request.name_of(path) if path else "body"
        raise InvalidField(field_name, _plain(first["msg"])) from None


def _path(location: tuple[int | str, ...]) -> str:
    """("tags", 3) -> tags[3]; ("retry_config", "max_retries") -> retry_config.max_retries."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _plain(message: str) -> str:
    """pydantic's messages start with a capital (and our own validators' with "Value
    error, "); the API's read "field: what is wrong"."""
    message = message.removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def check_against_workspace(
    settings: BatchSettings,
    workspace: Workspace,
    database: Workspaces,
    now: datetime,
    request: SettingsRequest | None = None,
) -> str:
    """The checks that need the workspace; returns the caller number's region."""
    name_of = (request or SettingsRequest()).name_of
    removal = compliance.removal(workspace.compliance_profile, settings.compliance_profile)
    if removal is not None:
        raise InvalidField(name_of("compliance_profile"), f"{removal} (a batch can add one)")
    profile = compliance.in_force(workspace.compliance_profile, settings.compliance_profile)
    widening = compliance.widening(profile, settings.calling_window)
    if widening is not None:
        raise InvalidField(
            name_of("calling_window"), f"would widen the compliance profile's hours: {widening}"
        )
    if settings.max_concurrent_calls > workspace.max_concurrent_calls:
        raise InvalidField(
            name_of("max_concurrent_calls"),
            f"is {settings.max_concurrent_calls}, above this workspace's limit of "
            f"{workspace.max_concurrent_calls}",
        )
    region = region_of(settings.from_phone_number)
    if region is None:
        raise InvalidField(
            name_of("from_phone_number"),
            f"{settings.from_phone_number!r} is not a valid phone number in E.164 form "
            "(+14155550100)",
        )
    for path, number in [
        ("from_phone_number", settings.from_phone_number),
        *(("from_phone_numbers", n) for n in settings.from_phone_numbers[1:]),
    ]:
        if region_of(number) is None:
            raise InvalidField(
                name_of(path), f"{number!r} is not a valid phone number in E.164 form"
            )
        if not database.has_caller_number(workspace.workspace_id, number):
            raise InvalidField(name_of(path), f"{number} is not a caller number of this workspace")
    if settings.scheduled_at is not None and settings.scheduled_at < now - _CLOCK_SKEW:
        raise InvalidField(name_of("scheduled_at"), "is in the past")
    if settings.scheduled_at is not None and settings.scheduled_at > now + MAX_SCHEDULE_AHEAD:
        raise InvalidField(name_of("scheduled_at"), "is more than a year ahead")
    agent = database.get_agent(workspace.workspace_id, settings.agent_id)
    if agent is None:
        raise InvalidField(
            name_of("agent_id"), f"there is no agent {settings.agent_id} in this workspace"
        )
    if agent.published_version is None:
        raise InvalidField(
            name_of("agent_id"), f"agent {settings.agent_id} has no published version"
        )
    return region


# -- the defaults table (README) ---------------------------------------------------------


def defaults_table() -> str:
    """README's table of settings, written from the description (a test compares them)."""
    lines = [
        "| Setting | Seed 003 (Dialgen) | Seed 004 (Nexus) | Default | PATCH | What it does |",
        "|---|---|---|---|---|---|",
    ]
    for setting in SETTINGS.values():
        default = "-" if setting.required else json.dumps(setting.default)
        if setting.name == "retry_config":
            default = "no retries"
        change = (
            "any time"
            if setting.names.while_running
            else ("not running" if setting.names.changeable else "no")
        )
        doc = setting.doc.replace("|", "/")
        lines.append(
            f"| `{setting.name}` | {_code(setting.names.dialgen)} | {_code(setting.names.nexus)} "
            f"| {default} | {change} | {doc} |"
        )
    return "\n".join(lines)


def _code(name: str | None) -> str:
    return f"`{name}`" if name else "-"
