"""The fast path must give phonenumbers' own verdict on every input.

`check` answers most inputs without calling phonenumbers; `check_with_phonenumbers` is
phonenumbers' parse + is_valid_number + number_type. They must agree on every region's
example numbers in every format, on random digit strings and on generated text.
"""

import random
from collections.abc import Iterator

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from batch_calls.ingest import phones
from batch_calls.ingest.phones import check, check_with_phonenumbers

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
# Regions whose dialling rules differ most: NANPA, IDD 00/011/0011, national prefixes
# with transform rules (AR, MX, BR), Italian leading zeros, shared country codes (RU/KZ).
OTHER_DEFAULTS = ["US", "CA", "IN", "GB", "DE", "AR", "MX", "BR", "IT", "RU", "AU", "JP", None]
TYPES = [
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
]


def _written_forms(number: phonenumbers.PhoneNumber) -> Iterator[str]:
    """The ways people write a number in contact lists."""
    nsn = phonenumbers.national_significant_number(number)
    code = str(number.country_code)
    yield phonenumbers.format_number(number, PhoneNumberFormat.E164)
    yield phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    yield phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    yield nsn
    yield code + nsn  # a spreadsheet dropped the +
    yield "00" + code + nsn
    yield "011 " + code + " " + nsn
    yield "(" + nsn[:3] + ") " + nsn[3:]


def _example_cases() -> Iterator[tuple[str, str | None]]:
    for region in REGIONS:
        examples = [phonenumbers.example_number_for_type(region, t) for t in TYPES]
        examples.append(phonenumbers.invalid_example_number(region))
        for number in filter(None, examples):
            for written in _written_forms(number):
                yield written, region
                for other in OTHER_DEFAULTS:
                    yield written, other
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            for written in _written_forms(number):
                yield written, "US"


def _mismatches(
    cases: list[tuple[str, str | None]],
) -> list[tuple[str, str | None, object, object]]:
    found = []
    for raw, region in cases:
        fast, reference = check(raw, region), check_with_phonenumbers(raw, region)
        if fast != reference:
            found.append((raw, region, fast, reference))
    return found


def test_every_regions_example_numbers_in_every_written_form() -> None:
    cases = list(_example_cases())
    assert len(cases) > 50_000
    assert _mismatches(cases)[:10] == []


def test_random_digit_strings_with_every_kind_of_prefix() -> None:
    rng = random.Random(20261122)
    cases = []
    for _ in range(40_000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 19)))
        prefix = rng.choice(["", "", "+", "00", "011", "0", "1", "+0", "8", "0011"])
        region = rng.choice([*REGIONS, None])
        cases.append((prefix + digits, region))
    assert _mismatches(cases)[:10] == []


@settings(max_examples=3000, deadline=None)
@given(
    raw=st.text(alphabet="0123456789 ().-/+", min_size=0, max_size=24),
    region=st.sampled_from([*OTHER_DEFAULTS, "FR", "NG", "CN", "ZZ"]),
)
def test_generated_plain_inputs(raw: str, region: str | None) -> None:
    assert check(raw, region) == check_with_phonenumbers(raw, region)


@settings(max_examples=1500, deadline=None)
@given(
    raw=st.text(
        alphabet=st.sampled_from(list("0123456789 +-()x#;:tel٠١٢٣٤٥٦٧٨٩０１２３ＡextB\u00a0\t")),
        max_size=24,
    ),
    region=st.sampled_from(["US", "IN", "DE", None]),
)
def test_generated_text_with_letters_and_foreign_digits(raw: str, region: str | None) -> None:
    assert check(raw, region) == check_with_phonenumbers(raw, region)


def test_plain_written_numbers_are_answered_without_phonenumbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The speed claim: the usual shapes never reach the slow reference."""
    cases = [
        (written, region)
        for region in ["US", "IN", "GB", "DE", "BR", "AU"]
        for t in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE)
        for number in [phonenumbers.example_number_for_type(region, t)]
        if number is not None
        for written in _written_forms(number)
    ]
    expected = [check_with_phonenumbers(raw, region) for raw, region in cases]

    def no_fallback(raw: str, region: str | None) -> None:
        raise AssertionError(f"{raw!r} in {region} fell back to phonenumbers")

    monkeypatch.setattr(phones, "check_with_phonenumbers", no_fallback)
    assert [check(raw, region) for raw, region in cases] == expected


# --- a whole column at once ------------------------------------------------------------

# (caller region, likely regions): NANPA callers (shared country code, national prefix 1),
# a caller whose country has one region (where a dropped `+` is read in bulk), national
# prefixes with transform rules, a shared code with leading digits (RU/KZ), no caller.
READERS = [
    ("IN", ["IN", "US", "GB"]),
    ("US", ["US", "CA", "AG"]),
    ("GB", ["GB", "DE", "FR", "JE"]),
    ("AR", ["AR", "MX", "BR"]),
    ("IT", ["IT", "VA"]),
    ("KZ", ["KZ", "RU"]),
    (None, ["US", "IN"]),
]


def _read_column(
    reader: phones.ContactNumberReader, cells: list[str]
) -> list[phones.ContactNumber | None]:
    """Each cell read as validation reads a column: its shape's number where
    `match_column` names one, else `read` (an empty cell is no number)."""
    digits, names = reader.match_column(cells)
    return [
        (reader.read(cell) if cell else None) if name is None else reader.shapes[name].reading(line)
        for cell, line, name in zip(cells, digits, names, strict=True)
    ]


def _column_cases() -> list[str]:
    cells = {written for written, _ in _example_cases()}
    for region in REGIONS:  # the code written before the national form: "+44 020 7946 0000"
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
                cells.add(f"+{number.country_code} {national}")
    rng = random.Random(7)
    likely = {region for _, regions in READERS for region in regions}
    codes = sorted(map(phonenumbers.country_code_for_region, likely))
    for _ in range(10_000):  # national prefixes after the country code: "+54 0 11 15 ..."
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 12)))
        cells.add(f"+{rng.choice(codes)}{rng.choice(['0', '1', '8', '15', '9', '0 15'])}{digits}")
    for _ in range(5_000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 19)))
        cells.add(rng.choice(["", "+", "00", "0", "1", "91", "7", "+1", " ", "tel:"]) + digits)
    cells.update(["", " ", "+", "1" * 300, "9876543210\n12", "+٩١ ٩٨٧٦٥ ٤٣٢١٠", "\ud800 98765"])
    return sorted(cells)


@pytest.mark.parametrize(("caller", "likely"), READERS)
def test_a_column_reads_as_each_of_its_cells_does(caller: str | None, likely: list[str]) -> None:
    cells = _column_cases()
    reader = phones.ContactNumberReader(caller, likely)
    assert len(cells) > 10_000
    column = _read_column(reader, cells)
    mismatches = [
        (cell, bulk, reader.read(cell))
        for cell, bulk in zip(cells, column, strict=True)
        if bulk != reader.read(cell)
    ]
    assert mismatches[:10] == []


@settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(st.text(alphabet="0123456789 ()-.+", max_size=18), max_size=20),
    reader=st.sampled_from(READERS),
)
def test_generated_columns(cells: list[str], reader: tuple[str | None, list[str]]) -> None:
    numbers = phones.ContactNumberReader(*reader)
    assert _read_column(numbers, cells) == [numbers.read(cell) for cell in cells]


def test_the_usual_shapes_of_a_column_are_read_in_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The speed claim of match_column: `+<code>` numbers of the likely regions, national
    numbers and dropped `+`s never take the one-cell-at-a-time path."""
    examples = [
        phonenumbers.example_number_for_type(region, kind)
        for region in ["IN", "US", "GB"]
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE)
    ]
    cells = [
        written
        for number in examples
        if number is not None
        for written in (
            phonenumbers.format_number(number, PhoneNumberFormat.E164),
            phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
        )
    ]
    # National numbers of the caller's country, and foreign ones that dropped their `+`.
    cells += ["98765 43210", "(987) 654-3210", "14155550123", "442079460123"]
    reader = phones.ContactNumberReader("IN", ["IN", "US", "GB"])
    expected = [reader.read(cell) for cell in cells]

    def one_at_a_time(cell: str) -> None:
        raise AssertionError(f"{cell!r} was read on its own")

    monkeypatch.setattr(reader, "read", one_at_a_time)
    assert _read_column(reader, cells) == expected
    assert all(reading is not None for reading in expected)


def test_country_codes_are_prefix_free() -> None:
    """The column regex tries `+<code>` for several codes: no code may begin another."""
    codes = [str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE]
    assert not [(a, b) for a in codes for b in codes if a != b and b.startswith(a)]
