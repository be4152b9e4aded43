"""Seed 000's create form read into a create command (handlers/create_form.py), and what
makes two creates the same request under one Idempotency-Key."""

import pytest

from batch_calls.handlers import create_form, idempotency
from batch_calls.logic.batches import Contacts
from batch_calls.logic.errors import InvalidField
from cli.http_client import multipart

FORM = {"agent_id": "agt_demo", "name": "May", "max_concurrent_calls": "3"}


def test_the_fields_a_multipart_body_sent_are_named() -> None:
    body, _ = multipart({"agent_id": "agt", "nmae": "typo"}, {"file": ("c.csv", b"phone\n")})
    assert create_form.field_names(body) == ["agent_id", "nmae", "file"]


def test_a_misspelt_or_missing_field_is_a_400_that_names_it() -> None:
    with pytest.raises(InvalidField) as misspelt:
        create_form.check_fields(FORM, ["agent_id", "nmae"])
    assert misspelt.value.details["field"] == "nmae"
    with pytest.raises(InvalidField) as missing:
        create_form.check_fields({"name": "May"}, ["name"])
    assert missing.value.details["field"] == "agent_id"


def test_the_form_becomes_a_create_command() -> None:
    contacts = Contacts(data=b"phone_number\n+14155550101\n", filename="c.csv")
    request, _ = create_form.create_request({**FORM, "start": "false"}, contacts)
    assert (request.contacts, request.start) == (contacts, False)
    assert request.settings.fields["max_concurrent_calls"] == 3


def test_the_same_form_and_file_is_the_same_request() -> None:
    def fingerprint(form: dict[str, str], data: bytes) -> str:
        return create_form.create_request(form, Contacts(data=data))[1]

    same = fingerprint(FORM, b"phone_number\n+14155550101\n")
    assert fingerprint(dict(reversed(FORM.items())), b"phone_number\n+14155550101\n") == same
    assert fingerprint(FORM, b"phone_number\n+14155550102\n") != same
    assert fingerprint({**FORM, "name": "June"}, b"phone_number\n+14155550101\n") != same
    assert idempotency.json_fingerprint({"a": 1, "b": 2}) == idempotency.json_fingerprint(
        {"b": 2, "a": 1}
    )
