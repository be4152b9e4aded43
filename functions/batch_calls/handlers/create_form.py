"""Seed 000's create form (multipart/form-data) as POST /batch-calls reads it: the fields
Powertools parses and documents (the settings of the description, then the file and the
other fields), and the create command they ask for."""

import inspect
import json
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import File, Form, Header, UploadFile

from batch_calls.handlers import idempotency
from batch_calls.logic.batches import Contacts, CreateRequest
from batch_calls.logic.errors import InvalidField
from batch_calls.logic.settings import (
    FORM_FIELDS,
    SETTINGS,
    Setting,
    from_text_fields,
    read_start,
    refuse_unknown,
)

# Seed 000's form requires agent_id (declared optional to Powertools, which would ask
# a JSON body for it too; api_models.finish_document marks it required).
REQUIRED = ("agent_id",)
# Seed 000's curl, as the document's example of the form.
SEED_000_FORM = {
    "agent_id": "agt_demo",
    "file": "phone_number,customer_name\n9876543210,Priya Sharma\n",
    "from_phone_number": "+912234567890",
    "name": "May Follow-Up Campaign",
    "max_concurrent_calls": 10,
    "retry_config": '{"max_retries": 2, "retry_interval_minutes": 60}',
}
# The form's fields besides the settings.
_EXTRAS = ("file", "upload_id", "start")

_FIELD_NAME = re.compile(rb'content-disposition:[^\r\n]*?\bname="([^"]*)"', re.IGNORECASE)


def field_names(body: bytes) -> list[str]:
    """The names of the fields a multipart body sent (Powertools reads only the declared
    ones, so a misspelt field would be dropped)."""
    return [name.decode("utf-8", "replace") for name in _FIELD_NAME.findall(body)]


def check_fields(form: Mapping[str, Any], sent: Sequence[str]) -> None:
    """InvalidField for a field the form does not have, or a required one missing."""
    refuse_unknown(list(sent), [*FORM_FIELDS, *_EXTRAS])
    for name in REQUIRED:
        if not form.get(name):
            raise InvalidField(name, "is required")


def create_request(form: Mapping[str, Any], contacts: Contacts | None) -> tuple[CreateRequest, str]:
    """The create command the form asks for, and its idempotency fingerprint."""
    start = form.get("start")
    request = CreateRequest(
        from_text_fields(form, FORM_FIELDS), contacts, start is None or read_start(start)
    )
    sent = {name: form.get(name) for name in FORM_FIELDS}
    fingerprint = idempotency.form_fingerprint(
        {**sent, "start": start, "upload_id": form.get("upload_id")},
        contacts.data if contacts else None,
    )
    return request, fingerprint


# How a form writes each kind of setting (all of them text, read by logic/settings.py).
_SCHEMA: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "json": {"type": "string", "contentMediaType": "application/json"},
    "list": {"type": "string"},
}


def _parameter(setting: Setting) -> inspect.Parameter:
    """A form field of the create, documented as the description says. Typed Any: the
    settings' adapter reads it (Powertools would also hold a JSON body to the form's
    types, and answer in its words)."""
    doc = setting.doc
    if setting.kind in {"text", "integer", "boolean"} and setting.default is not None:
        doc = f"{doc} (default: {json.dumps(setting.default)})"
    if setting.name == "scheduled_at":
        schema = {"type": "string", "format": "date-time"}
    else:
        schema = _SCHEMA[setting.kind]
    return inspect.Parameter(
        setting.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[Any, Form(description=doc, json_schema_extra=schema)],
    )


# The create route's parameters, which Powertools reads the form by and documents it with.
SIGNATURE = inspect.Signature(
    [
        *(_parameter(setting) for setting in SETTINGS.values()),
        inspect.Parameter(
            "file",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                UploadFile | None,
                File(description="CSV, XLSX, XLS or JSON; 10 MB (or upload_id)"),
            ],
        ),
        inspect.Parameter(
            "upload_id",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[str | None, Form(description="from POST /batch-calls/uploads")],
        ),
        inspect.Parameter(
            "start",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                Any, Form(description="false stages a draft", json_schema_extra={"type": "boolean"})
            ],
        ),
        inspect.Parameter(
            "idempotency_key",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[str | None, Header(alias="Idempotency-Key")],
        ),
    ],
    return_annotation=Response[str],
)
