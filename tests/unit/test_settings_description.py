"""The one description of a batch's settings (domain.batch.BatchSettings) and what is read
from it: the form's and the S3 metadata's kinds, PATCH's fields, the seeds' names,
README's table, and the errors naming a field as the caller sent it."""

from pathlib import Path

import pytest

from batch_calls.logic.errors import InvalidField
from batch_calls.logic.json_batches import batch_calls_request, dialgen_request, nexus_request
from batch_calls.logic.settings import (
    CHANGEABLE_FIELDS,
    CHANGEABLE_WHILE_RUNNING,
    FORM_FIELDS,
    METADATA_FIELDS,
    SETTINGS,
    defaults_table,
    from_text_fields,
    parse_settings,
    refuse_unknown,
)

README = Path(__file__).parents[2] / "README.md"


def test_every_setting_has_a_doc_and_a_kind() -> None:
    assert all(setting.doc for setting in SETTINGS.values())
    kinds = {name: setting.kind for name, setting in SETTINGS.items()}
    assert kinds["max_concurrent_calls"] == kinds["priority"] == "integer"
    assert kinds["retry_config"] == kinds["calling_window"] == kinds["webhooks"] == "json"
    assert kinds["from_phone_numbers"] == kinds["tags"] == "list"
    assert kinds["dedupe"] == "boolean"
    assert METADATA_FIELDS["max-concurrent-calls"] == "max_concurrent_calls"
    assert set(FORM_FIELDS) == set(SETTINGS)


def test_the_defaults_are_written_once() -> None:
    assert SETTINGS["max_concurrent_calls"].default == 1
    assert SETTINGS["priority"].default == 5
    assert SETTINGS["retry_config"].default["max_retries"] == 0
    assert SETTINGS["on_invalid_rows"].default == "reject"


def test_patch_changes_what_the_description_says() -> None:
    assert CHANGEABLE_WHILE_RUNNING <= CHANGEABLE_FIELDS
    assert "max_concurrent_calls" in CHANGEABLE_WHILE_RUNNING
    assert {"agent_id", "from_phone_number", "on_invalid_rows", "dedupe"}.isdisjoint(
        CHANGEABLE_FIELDS
    )


def test_readme_shows_the_descriptions_table() -> None:
    """Regenerate with: .venv/bin/python -c 'from batch_calls.logic.settings import
    defaults_table; print(defaults_table())' and paste it under "Batch settings"."""
    assert defaults_table() in README.read_text(encoding="utf-8")


def test_unknown_fields_name_the_closest_known_one() -> None:
    with pytest.raises(InvalidField) as misspelt:
        refuse_unknown({"max_concurent_calls": 5}, SETTINGS)
    assert misspelt.value.details["field"] == "max_concurent_calls"
    assert misspelt.value.message.endswith("did you mean max_concurrent_calls?")
    with pytest.raises(InvalidField) as unlike:
        refuse_unknown({"zzz": 1}, ("a", "b"), within="options")
    assert unlike.value.details["field"] == "options.zzz"
    assert "the known fields are a, b" in unlike.value.message


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ({"max_concurrent_calls": "ten"}, "max_concurrent_calls"),
        ({"max_concurrent_calls": "9" * 5000}, "max_concurrent_calls"),
        ({"dedupe": "perhaps"}, "dedupe"),
        ({"retry_config": "{not json"}, "retry_config"),
        ({"max_concurrent_calls": ""}, "max_concurrent_calls"),
        ({"from_phone_numbers": "+1,,+2"}, "from_phone_numbers"),
    ],
)
def test_text_fields_are_read_by_their_kind(text: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidField) as refused:
        from_text_fields(text, FORM_FIELDS)
    assert refused.value.details["field"] == field


def test_text_fields_become_typed_settings() -> None:
    request = from_text_fields(
        {
            "max_concurrent_calls": " 4 ",
            "dedupe": "false",
            "from_phone_numbers": "+1, +2",
        },
        FORM_FIELDS,
    )
    assert request.fields == {
        "max_concurrent_calls": 4,
        "dedupe": False,
        "from_phone_numbers": ["+1", "+2"],
    }


BASE = {"agent_id": "agt", "name": "n"}


def test_seed_003_options_map_onto_the_settings() -> None:
    request = dialgen_request(
        {
            "agentId": "agt",
            "contacts": [{"phoneNumber": "+14155550101"}],
            "options": {
                "priority": 9,
                "timezone": "Asia/Kolkata",
                "maxCallsPerSecond": 3,
                "retryStrategy": {"maxAttempts": 1, "busyDelay": 120000},
                "webhooks": {"onBatchComplete": "https://example.com/done"},
                "tags": ["a"],
            },
        }
    )
    settings = parse_settings(request.settings, {**BASE, "from_phone_number": "+14155550100"})
    assert (settings.priority, settings.timezone, settings.max_calls_per_second) == (
        9,
        "Asia/Kolkata",
        3,
    )
    assert (settings.retry_config.max_retries, settings.retry_config.busy_wait_minutes) == (0, 2)
    assert settings.webhooks is not None
    assert settings.webhooks.on_batch_complete == "https://example.com/done"
    assert settings.tags == ("a",)
    assert request.contacts is not None and request.caller_default == "all"


def test_seed_004_fields_map_onto_the_settings() -> None:
    nexus = nexus_request(
        {
            "batchName": "B",
            "callingNumbers": ["+14155550100"],
            "retry": 2,
            "delay": 90,
            "timezone": "America/New_York",
            "callingHour": {"start": "09:00", "end": "17:00"},
            "allowedDays": [1, 2],
        },
        creating=True,
    )
    nexus.create.settings.fields["from_phone_numbers"] = list(nexus.phone_ids)
    settings = parse_settings(nexus.create.settings, {"agent_id": "agt"})
    assert settings.name == "B" and not nexus.create.start
    assert settings.retry_config.max_retries == 2
    assert settings.retry_config.retry_interval_minutes == 1.5
    assert settings.retry_config.retry_on_failed
    assert settings.calling_window is not None
    assert settings.calling_window.timezone == "America/New_York"
    assert settings.calling_window.days == (1, 2)


def test_a_converted_field_is_named_as_sent() -> None:
    nexus = nexus_request(
        {"batchName": "B", "callingNumbers": ["+1"], "allowedDays": [9]}, creating=True
    )
    with pytest.raises(InvalidField) as refused:
        parse_settings(nexus.create.settings, {"agent_id": "agt", "from_phone_number": "+1"})
    assert refused.value.details["field"] == "allowedDays"


def test_batch_calls_json_takes_ours_and_seed_003s_names_each_setting_once() -> None:
    with pytest.raises(InvalidField) as refused:
        batch_calls_request({"agent_id": "a", "batchName": "x"})  # seed 004's: its route
    assert refused.value.details["field"] == "batchName"
    mixed = batch_calls_request({"agentId": "a", "start": False, "options": {"priority": 2}})
    assert mixed.settings.fields == {"agent_id": "a", "priority": 2}
    assert not mixed.start
    with pytest.raises(InvalidField) as twice:
        batch_calls_request({"agentId": "a", "options": {"priority": 2}, "priority": 3})
    assert twice.value.details["field"] == "options.priority"
