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
