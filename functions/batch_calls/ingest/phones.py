"""Phone numbers: phonenumbers' verdicts, about ten times faster on the usual inputs.

`phonenumbers.parse` + `is_valid_number` + `number_type` cost 35-80 µs a row (NANPA
numbers walk up to 25 regions' metadata), which alone is 4-8 s for a 100,000-row file.
Almost every real cell is digits with a few separators and maybe a leading `+`. For
exactly that shape, `_fast_check` replays phonenumbers' own algorithm (parse: country
code, IDD, national prefix; then region and type) with the same metadata, compiled once
per region. Every other shape (letters, extensions, `tel:` URIs, non-ASCII digits or
punctuation) goes through phonenumbers itself. The differential tests in
tests/ingest/test_phones_differential.py hold the two to identical verdicts.

This runs once per row of a 100,000-row file, so the common path is written for speed:
regexes are compiled once and kept on the rules, the region's rules are looked up once
per file (`ContactNumberReader`), and the few steps are inlined rather than split into
small functions.
"""

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, cached_property
from typing import Any, NamedTuple

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumberType

# phonenumbers' own limits (phonenumberutil._MIN_LENGTH_FOR_NSN / _MAX_LENGTH_FOR_NSN).
_MIN_NSN_LENGTH = 2
_MAX_NSN_LENGTH = 17
_NON_GEO_REGION = "001"


def _country_code_prefixes() -> dict[str, tuple[int, int]]:
    """(country code, its length) by a number's first three digits, as phonenumbers'
    _extract_country_code finds it (the shortest code that exists; none after a 0)."""
    codes = {str(code): code for code in COUNTRY_CODE_TO_REGION_CODE}
    table = {}
    for first in range(100, 1000):
        digits = str(first)
        for length in (1, 2, 3):
            if digits[:length] in codes:
                table[digits] = (codes[digits[:length]], length)
                break
    return table


_COUNTRY_CODE_PREFIXES = _country_code_prefixes()


class Phone(NamedTuple):
    """A valid phone number: E.164 text, its region (ISO code, or "001" when the
    country code is not geographic) and whether it is a premium-rate number.
    (NamedTuples: one is built per row, and they are built in C.)"""

    e164: str
    region: str
    is_premium: bool


# Digits with ASCII spaces, brackets, dots, dashes or slashes, at most one leading `+`,
# and maybe a `tel:` scheme: what phonenumbers reduces to (plus sign, digit string)
# without further rules. (Before the first `+` or digit, parse drops everything.)
_PLAIN_SHAPE = re.compile(r"(?:[Tt][Ee][Ll]:)?[ ().\-/]*(\+?)[ ().\-/]*(\d[\d ().\-/]*)", re.ASCII)
_SEPARATORS = str.maketrans("", "", " ().-/")
_MAX_INPUT_LENGTH = 250  # phonenumbers' _MAX_INPUT_STRING_LENGTH


def _exact_length(lengths: Iterable[int]) -> str:
    """A lookahead that holds when the whole number has one of `lengths` digits."""
    choices = "|".join(f"\\d{{{length}}}" for length in sorted(lengths))
    return f"(?=(?:{choices})\\Z)" if choices else ""


def _compiled(pattern: str | None) -> re.Pattern[str] | None:
    return None if not pattern else re.compile(pattern)


class _Rules:
    """One region's metadata, in the form the checks `_fast_check` replays need.

    The patterns are compiled on first use: a file touches a few regions, not all 250.
    """

    def __init__(self, metadata: Any) -> None:
        general = metadata.general_desc
        self.country_code: int = metadata.country_code
        self._idd: str | None = metadata.international_prefix or None
        self._national_prefix: str | None = metadata.national_prefix_for_parsing or None
        self.transform_rule: str | None = metadata.national_prefix_transform_rule
        self._general: str | None = general.national_number_pattern or None
        self.general_lengths = frozenset(general.possible_length)
        self.longest = max(general.possible_length, default=0)
        self.local_only_lengths = frozenset(general.possible_length_local_only)
        self._leading_digits: str | None = metadata.leading_digits or None
        self._verdict: str | None = _verdict_pattern(metadata)
        self.own_code = str(metadata.country_code)

    @cached_property
    def idd(self) -> re.Pattern[str] | None:
        return _compiled(self._idd)

    @cached_property
    def national_prefix(self) -> re.Pattern[str] | None:
        return _compiled(self._national_prefix)

    @cached_property
    def general(self) -> re.Pattern[str] | None:
        return _compiled(self._general)

    @cached_property
    def leading_digits(self) -> re.Pattern[str] | None:
        return _compiled(self._leading_digits)

    @cached_property
    def verdict_regex(self) -> re.Pattern[str]:
        """phonenumbers' _number_type_helper as one regex: the general pattern and
        length, then premium rate (group `premium`) before every other type, each with
        its lengths. It fully matches exactly the numbers whose type is not UNKNOWN.
        (`verdict` uses it only for a region that has such a pattern.)"""
        return re.compile(self._verdict or "(?!)")

    def matches_general(self, number: str) -> bool:
        general = self.general
        return general is not None and general.fullmatch(number) is not None

    def verdict(self, nsn: str) -> bool | None:
        """None for an invalid number, else whether it is premium rate."""
        # The length test is also in the pattern; doing it first spares compiling the
        # pattern of every region a junk cell's digits happen to name.
        if self._verdict is None or (self.general_lengths and len(nsn) not in self.general_lengths):
            return None
        match = self.verdict_regex.fullmatch(nsn)
        return None if match is None else match.start("premium") != -1

    def accepts_length(self, number: str) -> bool:
        """True unless _test_number_length says TOO_SHORT, IS_POSSIBLE_LOCAL_ONLY or
        INVALID_LENGTH (parse keeps a national-prefix-stripped number only then)."""
        length = len(number)
        if length in self.local_only_lengths:
            return False
        return length in self.general_lengths or length > self.longest

    def is_too_long(self, number: str) -> bool:
        length = len(number)
        return length not in self.local_only_lengths and length > self.longest

    def strip_national_prefix(self, number: str) -> str:
        """phonenumbers' _maybe_strip_national_prefix_carrier_code, number part only."""
        prefix = self.national_prefix
        if not number or prefix is None:
            return number
        match = prefix.match(number)
        if not match:
            return number
        viable_as_is = self.matches_general(number)
        groups = match.groups()
        if not self.transform_rule or groups[-1] is None:
            stripped = number[match.end() :]
        else:
            stripped = prefix.sub(self.transform_rule, number, count=1)
        if viable_as_is and not self.matches_general(stripped):
            return number
        return stripped


def _type_branch(desc: Any) -> str | None:
    """One number type as a regex branch (phonenumbers' _is_number_matching_desc)."""
    if desc is None or not desc.national_number_pattern:
        return None
    return f"{_exact_length(desc.possible_length)}(?:{desc.national_number_pattern})"


def _verdict_pattern(metadata: Any) -> str | None:
    general = metadata.general_desc
    if not general.national_number_pattern:
        return None
    # Any branch that matches makes the number valid, so the order of the branches after
    # premium rate only decides how soon a match is found: the common types first.
    others = (
        metadata.mobile,
        metadata.fixed_line,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
    )
    branches = [branch for branch in map(_type_branch, others) if branch is not None]
    premium = _type_branch(metadata.premium_rate)
    if premium is None and not branches:
        return None
    # `(?!)` never matches: the group exists even where there is no premium rate.
    branches.insert(0, f"(?P<premium>{premium or '(?!)'})")
    guard = _exact_length(general.possible_length)
    return f"(?=(?:{general.national_number_pattern})\\Z){guard}(?:{'|'.join(branches)})"


@cache
def _region_rules(region: str) -> _Rules | None:
    metadata = PhoneMetadata.metadata_for_region(region, None)
    return None if metadata is None else _Rules(metadata)


class _Country:
    """The regions sharing a country code, in phonenumbers' order, with their rules."""

    def __init__(self, code: int) -> None:
        self.code = code
        self.plus_code = f"+{code}"
        regions = []
        for region in COUNTRY_CODE_TO_REGION_CODE[code]:
            if region == _NON_GEO_REGION:
                metadata = PhoneMetadata.metadata_for_nongeo_region(code, None)
                if metadata is not None:
                    regions.append((region, _Rules(metadata)))
            else:
                rules = _region_rules(region)
                if rules is not None:
                    regions.append((region, rules))
        self.regions = tuple(regions)
        self.main = regions[0][1]  # its rules parse numbers of the country code


@cache
def _country(code: int) -> _Country:
    return _Country(code)


class _Fallback(Exception):
    """The fast path cannot answer for this input exactly; ask phonenumbers."""


def _split_country_code(digits: str) -> tuple[_Country, str]:
    """The country and national number of at least three digits written after a `+`."""
    found = _COUNTRY_CODE_PREFIXES.get(digits[:3])
    if found is None:
        raise _Fallback  # parse then retries without the plus
    code, length = found
    return _country(code), digits[length:]


def _fast_check(has_plus: bool, digits: str, default: _Rules | None) -> Phone | None:
    """parse + is_valid_number + number_type for (`+`?)(digits), dialled from the region
    whose rules are `default`. Raises _Fallback where phonenumbers would take a rarer
    branch."""
    if has_plus:
        country, nsn = _split_country_code(digits)
        rules = country.main
    elif default is None:
        raise _Fallback
    else:
        country, nsn, rules = _national_or_idd(digits, default)

    if len(nsn) < _MIN_NSN_LENGTH:
        return None
    stripped = rules.strip_national_prefix(nsn)
    if stripped is not nsn and rules.accepts_length(stripped):
        nsn = stripped
    if len(nsn) > _MAX_NSN_LENGTH:
        return None
    if len(country.regions) == 1:
        region, rules = country.regions[0]
        premium = rules.verdict(nsn)
        return None if premium is None else Phone(country.plus_code + nsn, region, premium)
    return _shared_code_verdict(country, nsn)


def _national_or_idd(digits: str, default: _Rules) -> tuple[_Country, str, _Rules]:
    """The country and national number of a number written without `+`, and the rules
    that parse it further."""
    idd = default.idd
    if idd is not None:
        found = idd.match(digits)
        if found and not digits[found.end() :].startswith("0"):
            rest = digits[found.end() :]
            if len(rest) <= _MIN_NSN_LENGTH:
                raise _Fallback  # TOO_SHORT_AFTER_IDD
            country, nsn = _split_country_code(rest)
            return country, nsn, country.main
    own_code = default.own_code
    if digits.startswith(own_code):
        without_code = default.strip_national_prefix(digits[len(own_code) :])
        if (
            not default.matches_general(digits) and default.matches_general(without_code)
        ) or default.is_too_long(digits):
            country = _country(default.country_code)
            return country, without_code, country.main
    return _country(default.country_code), digits, default


def _shared_code_verdict(country: _Country, nsn: str) -> Phone | None:
    """is_valid_number and number_type where regions share the country code, with the
    region found as region_code_for_number does: the first whose leading digits match,
    or (without leading digits) whose patterns know the number."""
    for region, rules in country.regions:
        leading = rules.leading_digits
        if leading is not None:
            if leading.match(nsn):
                premium = rules.verdict(nsn)
                return None if premium is None else Phone(country.plus_code + nsn, region, premium)
        else:
            premium = rules.verdict(nsn)
            if premium is not None:
                return Phone(country.plus_code + nsn, region, premium)
    return None


def check_with_phonenumbers(raw: str, default_region: str | None) -> Phone | None:
    """The reference: phonenumbers' parse, is_valid_number and number_type."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return None
    if number.extension:
        return None  # a voice agent cannot dial an extension: calling the main line is wrong
    if not phonenumbers.is_valid_number(number):
        return None
    region = phonenumbers.region_code_for_number(number)
    if region is None:
        return None
    is_premium = phonenumbers.number_type(number) == PhoneNumberType.PREMIUM_RATE
    return Phone(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        region,
        is_premium,
    )


class _AsciiDigits(dict[int, int]):
    """str.translate table: any decimal digit (what `\\d` matches) to its ASCII digit and
    the fullwidth plus to `+`, as phonenumbers reads them; filled as characters appear."""

    def __missing__(self, codepoint: int) -> int:
        char = chr(codepoint)
        if char.isdecimal():
            value = ord("0") + unicodedata.decimal(char)
        else:
            value = ord("+") if char == "\uff0b" else codepoint
        self[codepoint] = value
        return value


_ASCII_DIGITS = _AsciiDigits()


def _plain(raw: str) -> tuple[bool, str] | None:
    """(has a plus, digits) when `raw` is of the plain shape, else None."""
    if len(raw) > _MAX_INPUT_LENGTH:
        return None
    # Nearly every cell: ASCII digits and separators, maybe one leading `+`. Deleting
    # the separators gives the answer without the regex (which says the same).
    digits = raw.translate(_SEPARATORS)
    if digits.isascii():
        if digits.isdigit():
            return False, digits
        if digits[:1] == "+" and digits[1:].isdigit():
            return True, digits[1:]
    else:
        raw = raw.translate(_ASCII_DIGITS)
    shape = _PLAIN_SHAPE.fullmatch(raw)
    if shape is None:
        return None
    return bool(shape.group(1)), shape.group(2).translate(_SEPARATORS)


def _check_plain(
    plain: tuple[bool, str], raw: str, default_region: str | None, default: _Rules | None
) -> Phone | None:
    has_plus, digits = plain
    if len(digits) >= 3:
        try:
            return _fast_check(has_plus, digits, default)
        except _Fallback:
            pass
    return check_with_phonenumbers(raw, default_region)


def _default_rules(default_region: str | None) -> _Rules | None:
    return _region_rules(default_region) if default_region else None


def check(raw: str, default_region: str | None) -> Phone | None:
    """The valid number `raw` denotes when dialled from `default_region`, or None."""
    plain = _plain(raw)
    if plain is None:
        return check_with_phonenumbers(raw, default_region)
    return _check_plain(plain, raw, default_region, _default_rules(default_region))


class ContactNumber(NamedTuple):
    """How a contact cell reads: the valid number, and whether it was only valid once
    read as international (a spreadsheet cell that dropped its `+`)."""

    phone: Phone
    read_as_international: bool


class ContactNumberReader:
    """The contract's reading of a phone cell (api-contract.md, "File rules"), for the
    contacts of one caller region.

    First as dialled from the caller's region; if that is not a valid number and the
    cell is digits only, as `+<digits>` (and, for a `00` international prefix the caller's
    region does not use, as `+<digits after 00>`).
    """

    def __init__(self, default_region: str | None) -> None:
        self._region = default_region
        self._rules = _default_rules(default_region)

    def read(self, raw: str) -> ContactNumber | None:
        plain = _plain(raw)
        if plain is None:
            phone = check_with_phonenumbers(raw, self._region)
            return None if phone is None else ContactNumber(phone, read_as_international=False)
        phone = _check_plain(plain, raw, self._region, self._rules)
        if phone is not None:
            return ContactNumber(phone, read_as_international=False)
        has_plus, digits = plain
        if has_plus:
            return None
        for candidate in (digits, digits[2:] if digits.startswith("00") else ""):
            if candidate:
                phone = _check_plain((True, candidate), "+" + candidate, None, None)
                if phone is not None:
                    return ContactNumber(phone, read_as_international=True)
        return None


def region_of(e164: str) -> str | None:
    """The region of a caller number, used as the default region of its contacts."""
    phone = check(e164, None)
    return phone.region if phone is not None and phone.region != _NON_GEO_REGION else None
