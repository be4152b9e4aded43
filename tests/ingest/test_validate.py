"""Row and file rules of the contract, on tables built in the test (no file reading)."""

import dataclasses
import random
from collections.abc import Iterable

import pytest

from batch_calls.domain.telephony_config import TelephonyConfig
from batch_calls.ingest import validate
from batch_calls.ingest.phones import ContactNumberReader
from batch_calls.ingest.reasons import FileReason, RowReason, WarningReason
from batch_calls.ingest.table import Table
from batch_calls.ingest.validate import (
    MAX_CELL_CHARS,
    OnInvalidRows,
    ValidationOptions,
    ValidationResult,
    iter_normalized,
    validate_table,
)
from bench.contact_files import phone_cell

IN_AND_US = TelephonyConfig(enabled_countries=("IN", "US"))


def table(header: list[str], rows: Iterable[list[str]]) -> Table:
    """Rows numbered as a spreadsheet numbers them: header 1, first contact 2."""
    return Table(header, 1, iter(list(enumerate(rows, start=2))))


def run(
    rows: Iterable[list[str]],
    *,
    header: list[str] | None = None,
    region: str | None = "IN",
    config: TelephonyConfig = IN_AND_US,
    on_invalid_rows: OnInvalidRows = "reject",
    dedupe: bool = True,
) -> ValidationResult:
    options = ValidationOptions(region, config, on_invalid_rows, dedupe)
    return validate_table(table(header or ["phone_number", "name"], rows), options)


def reasons_by_row(result: ValidationResult) -> dict[int, str]:
    return {row: str(reason) for reason, group in result.errors.items() for row in group.rows}


def test_a_clean_file_is_accepted_with_numbers_in_e164_and_variables_kept() -> None:
    result = run(
        [["9876543210", "Priya Sharma"], ["+1 (415) 555-0101", "Jordan Lee"]],
        header=["phone_number", "Customer_Name"],
    )
    assert result.is_accepted
    assert [(r.row, r.phone.e164, r.phone.region) for r in result.accepted] == [
        (2, "+919876543210", "IN"),
        (3, "+14155550101", "US"),
    ]
    assert list(iter_normalized(result)) == [
        {"row": 2, "phone_number": "+919876543210", "variables": {"Customer_Name": "Priya Sharma"}},
        {"row": 3, "phone_number": "+14155550101", "variables": {"Customer_Name": "Jordan Lee"}},
    ]
    body = result.body()
    assert body["valid"] is True
    assert (body["total_rows"], body["accepted_rows"], body["invalid_rows"]) == (2, 2, 0)
    assert body["countries"] == {"IN": 1, "US": 1}


@pytest.mark.parametrize(
    ("cell", "region", "e164"),
    [
        ("9876543210", "IN", "+919876543210"),  # national, caller in India
        ("098765 43210", "IN", "+919876543210"),  # with the trunk 0
        ("tel:+91-98765-43210", "US", "+919876543210"),
        ("+91 ९८७६५ ४३२१०", "US", "+919876543210"),  # Devanagari digits
        ("+91.98765.43210", "US", "+919876543210"),
        ("011 91 98765 43210", "US", "+919876543210"),  # US IDD
        ("00 91 98765 43210", "IN", "+919876543210"),  # IDD of the caller's region
        ("0091 98765 43210", "US", "+919876543210"),  # 00 where the caller dials 011
        ("(415) 555-0101", "US", "+14155550101"),
        ("919876543210", "US", "+919876543210"),  # a spreadsheet dropped the +
        ("14155550101", "IN", "+14155550101"),
    ],
)
def test_every_usual_way_of_writing_a_number(cell: str, region: str, e164: str) -> None:
    result = run([[cell, "x"]], region=region)
    assert [r.phone.e164 for r in result.accepted] == [e164], result.body()


def test_a_number_valid_from_the_callers_country_is_not_reread_as_international() -> None:
    # 3235882989 is a Los Angeles number from the US, and +32 35882989 would be Belgian:
    # the reading from the caller's country wins; only an invalid one is re-read.
    result = run([["3235882989", "la"], ["919876543210", "in"]], region="US")
    assert [r.phone.e164 for r in result.accepted] == ["+13235882989", "+919876543210"]
    assert result.warnings[WarningReason.READ_AS_INTERNATIONAL].rows == [3]


def test_each_row_is_reported_under_its_first_failing_reason_in_contract_order() -> None:
    config = TelephonyConfig(
        enabled_countries=("IN",), enabled_prefixes=("+9198",), blocked_prefixes=("+91987",)
    )
    result = run(
        [
            ["", "missing"],
            ["12", "invalid"],
            ["+1 900 555 0123", "premium and not an enabled country"],
            ["+44 20 7946 0958", "country"],
            ["+91 98765 43210", "blocked prefix"],
            ["+91 91234 56789", "not an enabled prefix"],
            ["+91 98123 45678", "fine"],
        ],
        config=config,
    )
    assert reasons_by_row(result) == {
        2: "missing_phone_number",
        3: "invalid_phone_number",
        4: "premium_rate_number",
        5: "unsupported_country",
        6: "unsupported_prefix",
        7: "unsupported_prefix",
    }
    assert list(result.errors) == [
        RowReason.MISSING_PHONE_NUMBER,
        RowReason.INVALID_PHONE_NUMBER,
        RowReason.PREMIUM_RATE_NUMBER,
        RowReason.UNSUPPORTED_COUNTRY,
        RowReason.UNSUPPORTED_PREFIX,
    ]
    assert not result.is_accepted


def test_the_400_body_groups_rows_by_reason_and_says_what_to_fix() -> None:
    rows = [["+91 98765 4321" + str(i % 10), "ok"] for i in range(10)]
    rows[2] = ["12345", "bad"]
    rows[5] = ["+44 20 7946 0958", "uk"]
    result = run(rows)
    body = result.body()
    assert body["error"] == "validation_failed"
    assert body["message"] == "2 of 10 rows failed validation"
    assert (body["total_rows"], body["invalid_rows"]) == (10, 2)
    by_reason = {entry["reason"]: entry for entry in body["errors"]}
    assert by_reason["invalid_phone_number"]["rows"] == [4]
    assert by_reason["invalid_phone_number"]["examples"] == [{"row": 4, "value": "12345"}]
    assert by_reason["unsupported_country"]["rows"] == [7]
    assert by_reason["unsupported_country"]["countries"] == ["GB"]
    assert "GB" in by_reason["unsupported_country"]["message"]
    assert all(entry["message"] for entry in body["errors"])


def test_premium_rate_numbers_are_refused_unless_allowed() -> None:
    premium = [["+1 900 555 0123", "x"]]
    assert reasons_by_row(run(premium)) == {2: "premium_rate_number"}
    allowed = dataclasses.replace(IN_AND_US, allow_premium_rate=True)
    assert run(premium, config=allowed).is_accepted


def test_sip_route_skips_country_and_prefix_checks_but_not_validity() -> None:
    sip = TelephonyConfig(route="sip")
    assert run([["+44 20 7946 0958", "uk"]], config=sip).is_accepted
    assert reasons_by_row(run([["+44 12", "uk"]], config=sip)) == {2: "invalid_phone_number"}


def test_no_enabled_countries_is_its_own_reason() -> None:
    result = run([["+91 98765 43210", "x"]], config=TelephonyConfig())
    assert reasons_by_row(result) == {2: "no_enabled_countries"}


def test_duplicates_are_warned_and_dropped_when_dedupe_is_on() -> None:
    rows = [["9876543210", "a"], ["+91 98765 43210", "b"], ["098765 43210", "c"]]
    deduped = run(rows)
    assert [r.row for r in deduped.accepted] == [2]
    assert [(s.row, s.reason) for s in deduped.skipped] == [
        (3, "duplicate_phone_number"),
        (4, "duplicate_phone_number"),
    ]
    assert deduped.warnings[WarningReason.DUPLICATE_PHONE_NUMBER].rows == [3, 4]
    assert deduped.is_accepted

    kept = run(rows, dedupe=False)
    assert [r.row for r in kept.accepted] == [2, 3, 4]
    assert kept.warnings[WarningReason.DUPLICATE_PHONE_NUMBER].rows == [3, 4]


def test_skip_mode_accepts_the_valid_rows_and_reports_the_skipped_ones() -> None:
    result = run([["9876543210", "a"], ["123", "b"], ["", "c"]], on_invalid_rows="skip")
    assert result.is_accepted
    assert [r.row for r in result.accepted] == [2]
    assert [(s.row, s.reason) for s in result.skipped] == [
        (3, "invalid_phone_number"),
        (4, "missing_phone_number"),
    ]
    body = result.body()
    assert (body["accepted_rows"], body["skipped_rows"], body["invalid_rows"]) == (1, 2, 2)


def test_skip_mode_with_nothing_left_to_call_is_rejected() -> None:
    result = run([["123", "b"]], on_invalid_rows="skip")
    assert not result.is_accepted
    assert result.body()["error"] == "validation_failed"


def test_header_rules() -> None:
    missing = run([["x"]], header=["Phone Number"])
    assert missing.file_error is not None
    assert missing.file_error.reason is FileReason.MISSING_PHONE_NUMBER_COLUMN
    assert "'Phone Number'" in missing.file_error.message

    duplicate = run([["9876543210", "a", "b"]], header=["phone_number", "name", "name"])
    assert duplicate.file_error is not None
    assert duplicate.file_error.reason is FileReason.DUPLICATE_COLUMN
    assert duplicate.body()["errors"][0]["reason"] == "duplicate_column"

    header_only = run([])
    assert header_only.file_error is not None
    assert header_only.file_error.reason is FileReason.EMPTY_FILE


def test_variables_are_every_other_named_column_with_names_and_values_exact() -> None:
    result = run(
        [["Priya ", "9876543210", "ignored", " 007 "]],
        header=["Name", "phone_number", "", "Account ID"],
    )
    assert result.variables == ["Name", "Account ID"]
    assert result.variables_of(result.accepted[0]) == {"Name": "Priya ", "Account ID": " 007 "}


def test_oversized_values_are_a_row_reason_reported_after_phone_reasons() -> None:
    big = "x" * (MAX_CELL_CHARS + 1)
    result = run([["9876543210", big], ["123", big]])
    assert reasons_by_row(result) == {2: "value_too_long", 3: "invalid_phone_number"}


def test_extra_cells_beyond_the_header_are_ignored_with_a_warning() -> None:
    result = run([["9876543210", "a", "surplus"], ["9123456789", "b", ""]])
    assert result.is_accepted
    assert result.warnings[WarningReason.EXTRA_CELLS].rows == [2]
    assert result.variables_of(result.accepted[0]) == {"name": "a"}


def test_a_short_row_reads_missing_cells_as_empty() -> None:
    result = run([["9876543210"]], header=["phone_number", "name", "city"])
    assert result.variables_of(result.accepted[0]) == {"name": "", "city": ""}


def test_a_hundred_thousand_rows_are_counted_and_numbered_exactly() -> None:
    invalid_rows = {17, 5_000, 99_999}
    rows = [
        ["12" if index + 2 in invalid_rows else f"+91 9{index:09d}", f"name {index}"]
        for index in range(100_000)
    ]
    result = run(rows, on_invalid_rows="skip")
    assert result.total_rows == 100_000
    assert len(result.accepted) == 100_000 - len(invalid_rows)
    assert set(result.errors[RowReason.INVALID_PHONE_NUMBER].rows) == invalid_rows
    assert len({r.phone.e164 for r in result.accepted}) == len(result.accepted)
    assert result.accepted[-1].row == 100_001


# --- the fast lane of the row loop -----------------------------------------------------

MIXED_CONFIGS = [
    IN_AND_US,
    TelephonyConfig(enabled_countries=("IN", "US", "GB"), allow_premium_rate=True),
    TelephonyConfig(enabled_countries=("IN",), enabled_prefixes=("+9198", "+1415")),
    TelephonyConfig(enabled_countries=("US", "GB"), blocked_prefixes=("+1900",)),
    TelephonyConfig(route="sip"),
    TelephonyConfig(),
]


@pytest.mark.parametrize("config", MIXED_CONFIGS)
@pytest.mark.parametrize("dedupe", [True, False])
def test_rows_read_in_bulk_give_what_rows_read_one_by_one_give(
    config: TelephonyConfig, dedupe: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most rows skip the row checks (their number's shape passes them all); the result
    must be the one every row checked on its own gives: bodies, accepted and skipped rows."""
    rows = [
        [cell, f"name {index}", "x" * (MAX_CELL_CHARS + 1) if index % 997 == 0 else ""]
        for index, cell in enumerate(_mixed_cells(3_000))
    ]

    def validated() -> ValidationResult:
        options = ValidationOptions("IN", config, "skip", dedupe)
        return validate_table(table(["phone_number", "name", "notes"], rows), options)

    bulk = validated()
    monkeypatch.setattr(
        ContactNumberReader, "match_column", lambda _, cells: (cells, [None] * len(cells))
    )
    one_by_one = validated()
    assert bulk.body() == one_by_one.body()
    assert bulk.accepted == one_by_one.accepted
    assert sorted(bulk.skipped) == sorted(one_by_one.skipped)
    assert bulk.accepted or (config.route == "pstn" and not config.enabled_countries)


def _mixed_cells(count: int) -> list[str]:
    """Numbers as bench/contact_files.py writes them (duplicates, premium rate, junk)."""
    rng = random.Random(5)
    cells: list[str] = []
    for _ in range(count):
        cells.append(rng.choice(cells) if cells and rng.random() < 0.03 else phone_cell(rng))
    return cells


def test_row_counts_agree_with_their_verbs() -> None:
    assert validate._rows_phrase(1, "have") == "1 row has"
    assert validate._rows_phrase(2, "have") == "2 rows have"
    assert validate._rows_phrase(1, "are") == "1 row is"
    assert validate._rows_phrase(1, "repeat") == "1 row repeats"
