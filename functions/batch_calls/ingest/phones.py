"""Phone numbers: phonenumbers' verdicts, about ten times faster on the usual inputs.

`phonenumbers.parse` + `is_valid_number` + `number_type` cost 35-80 µs a row (NANPA
numbers walk up to 25 regions' metadata), which alone is 4-8 s for a 100,000-row file.
Almost every real cell is digits with a few separators and maybe a leading `+`. For
exactly that shape, `_fast_check` replays phonenumbers' own algorithm (parse: country
code, IDD, national prefix; then region and type) with the same metadata, compiled once
per region and number length. Every other shape (letters, extensions, non-ASCII
punctuation) goes through phonenumbers itself. The differential tests in
tests/ingest/test_phones_differential.py hold the two to identical verdicts.

A file's phone column is first matched whole (`ContactNumberReader.match_column`): one
regex (`_ColumnPattern`) spells out `_fast_check`'s path for the usual shapes (a `+` and
a likely country's code; a national number with or without the national prefix; the
caller's own code; an international prefix; a dropped `+`) and names each cell's shape
with no Python step per cell. Only the cells it declines are read one by one (`read`).
The same differential tests hold the column to `read`, cell by cell.
"""

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, cached_property
from itertools import repeat
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
_SEPARATOR_CHARS = " ().-/"
_SEPARATORS = str.maketrans("", "", _SEPARATOR_CHARS)
_PLAIN_SHAPE = re.compile(r"(?:[Tt][Ee][Ll]:)?[ ().\-/]*(\+?)[ ().\-/]*(\d[\d ().\-/]*)", re.ASCII)
_MAX_INPUT_LENGTH = 250  # phonenumbers' _MAX_INPUT_STRING_LENGTH


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
        self.metadata = metadata
        self.verdict_regexes = _VerdictRegexes(metadata)
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

    def matches_general(self, number: str) -> bool:
        general = self.general
        return general is not None and general.fullmatch(number) is not None

    def verdict(self, nsn: str) -> bool | None:
        """None for an invalid number, else whether it is premium rate (`nsn`: ASCII digits)."""
        regex = self.verdict_regexes[len(nsn)]
        match = None if regex is None else regex.fullmatch(nsn)
        return None if match is None else match.lastgroup == "valid_premium"

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


def _types_after_premium(metadata: Any) -> tuple[Any, ...]:
    # Any type that matches makes a number valid, so the order of the types after premium
    # rate only decides how soon a match is found: the common types first.
    return (
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


def _distinct(branches: list[str | None]) -> list[str]:
    """The branches, each once (the US lists one pattern as both mobile and fixed line:
    the regex engine would try it twice on every number that is neither)."""
    return list(dict.fromkeys(branch for branch in branches if branch is not None))


def _exact_length(lengths: Iterable[int]) -> str:
    """A lookahead that holds when the whole number has one of `lengths` digits."""
    choices = "|".join(f"\\d{{{length}}}" for length in sorted(lengths))
    return f"(?=(?:{choices})\\Z)" if choices else ""


def _verdict_pattern(metadata: Any, name: str, length: int | None = None) -> str | None:
    """phonenumbers' is_valid_number and number_type as one regex: it fully matches
    exactly the national numbers whose type is not UNKNOWN (the general pattern and
    lengths, then any type's pattern and lengths), and ends in the empty group
    `<name>_premium` for a premium-rate number (tried first, as number_type does) and
    `<name>` for any other: a match's `lastgroup` says which.

    With `length`, for numbers of that many digits only: the types that allow it, and no
    length tests (a smaller regex, quicker to compile and to match)."""
    general = metadata.general_desc
    if not general.national_number_pattern or not _allows(general, length):
        return None

    def branch(desc: Any) -> str | None:
        if desc is None or not desc.national_number_pattern or not _allows(desc, length):
            return None
        lengths = "" if length is not None else _exact_length(desc.possible_length)
        return f"{lengths}(?:{desc.national_number_pattern})"

    others = _distinct(list(map(branch, _types_after_premium(metadata))))
    premium = branch(metadata.premium_rate)
    kinds = [] if premium is None else [f"{premium}(?P<{name}_premium>)"]
    if others:
        kinds.append(f"(?:{'|'.join(others)})(?P<{name}>)")
    if not kinds:
        return None
    lengths = "" if length is not None else _exact_length(general.possible_length)
    return f"(?=(?:{general.national_number_pattern})\\Z){lengths}(?:{'|'.join(kinds)})"


def _allows(desc: Any, length: int | None) -> bool:
    """Whether a number type allows `length` digits (no lengths listed: any)."""
    return length is None or not desc.possible_length or length in desc.possible_length


class _VerdictRegexes(dict[int, re.Pattern[str] | None]):
    """A region's `_verdict_pattern` by number length, compiled on first use: a file's
    junk cells name dozens of regions, each at one or two lengths."""

    def __init__(self, metadata: Any) -> None:
        super().__init__()
        self._metadata = metadata

    def __missing__(self, length: int) -> re.Pattern[str] | None:
        pattern = _verdict_pattern(self._metadata, "valid", length)
        self[length] = regex = None if pattern is None else re.compile(pattern)
        return regex


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
    if raw.isascii():
        # Nearly every cell: ASCII digits and separators, maybe one leading `+`. Deleting
        # the separators gives the answer without the regex (which says the same).
        digits = raw.translate(_SEPARATORS)
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


class Shape(NamedTuple):
    """A shape of number the column regex reads: its E.164 text is `e164_prefix` and the
    cell's digits after the first `skip` (a prefix the number was written with); its
    region, whether it is premium rate and whether it was read as international."""

    e164_prefix: str
    skip: int
    region: str
    is_premium: bool
    read_as_international: bool

    def phone(self, digits: str) -> Phone:
        """The number in a cell of this shape, given without its separators. (Made as
        namedtuple's own _make makes it: this runs for most rows of a file.)"""
        e164 = self.e164_prefix + digits[self.skip :]
        return tuple.__new__(Phone, (e164, self.region, self.is_premium))

    def reading(self, digits: str) -> ContactNumber:
        return ContactNumber(self.phone(digits), self.read_as_international)


class ContactNumberReader:
    """The contract's reading of a phone cell (api-contract.md, "File rules"), for the
    contacts of one caller region.

    First as dialled from the caller's region; if that is not a valid number and the
    cell is digits only, as `+<digits>` (and, for a `00` international prefix the caller's
    region does not use, as `+<digits after 00>`).
    """

    def __init__(self, default_region: str | None, likely_regions: Iterable[str] = ()) -> None:
        self._region = default_region
        self._rules = _default_rules(default_region)
        self._likely_regions = tuple(likely_regions)

    @cached_property
    def _column_pattern(self) -> "_ColumnPattern":
        return _ColumnPattern(self._rules, self._likely_regions)

    @property
    def shapes(self) -> dict[str, Shape]:
        """The shapes `match_column` names."""
        return self._column_pattern.shapes

    def match_column(self, cells: list[str]) -> tuple[list[str], list[str | None]]:
        """Each cell without its separators, and the name of its shape in `shapes`, or
        None where the cell must be read with `read`.

        The usual shapes (`_ColumnPattern`) of numbers dialled from the caller's region or
        written with a likely region's code (the enabled countries) are recognised by one
        regex match each, in C, with no Python step per cell."""
        digits = _column_digits(cells)
        matches = map(self._column_pattern.regex.fullmatch, digits)
        return digits, list(map(getattr, matches, repeat("lastgroup"), repeat(None)))

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


_NSN_LENGTH = f"(?=\\d{{{_MIN_NSN_LENGTH},{_MAX_NSN_LENGTH}}}\\Z)"  # else _fast_check says None


def _literal(pattern: str | None) -> str | None:
    """A prefix pattern that is plain digits ("0", "00", "011"), else None."""
    return pattern if pattern and pattern.isdigit() and pattern.isascii() else None


class _ColumnPattern:
    """One regex that gives `ContactNumberReader.read`'s answer on the usual shapes of a
    column's numbers, with no Python step per number. Written without a `+`, as
    `_national_or_idd` reads a number dialled from the caller's region:

    - a national number (no international, country-code or national prefix) and, where
      the caller's country code has one region, such a number that is not valid there
      but is as `+<digits>` (a spreadsheet dropped the `+`);
    - the national prefix and a national number, when the prefix is plain digits with
      no transform rule (`strip_national_prefix`'s conditions as lookaheads);
    - the caller's country code and a national number;
    - a plain-digit international prefix and the code of a likely region.

    And `+<code><number>` for the country codes of the likely regions.

    Each shape is `_fast_check`'s path for it with the country known; the number must be
    valid for the country's first region (whose leading digits, where regions share the
    code, must match). A cell the regex does not match is read one at a time, so the
    regex may decline anything and stay exact.
    """

    def __init__(self, default: _Rules | None, likely_regions: Iterable[str]) -> None:
        self.shapes: dict[str, Shape] = {}
        codes = sorted(
            {rules.country_code for rules in map(_region_rules, likely_regions) if rules}
        )
        after_plus = self._after_codes(codes, "plus", "", 0)
        alternatives = [f"\\+(?:{'|'.join(after_plus)})"] if after_plus else []
        if default is not None:
            alternatives += self._dialled_from(default, codes)
        # ASCII: `\d` must not take other scripts' digits, which parse first converts.
        self.regex = re.compile("|".join(alternatives) or "(?!)", re.ASCII)

    def _dialled_from(self, default: _Rules, codes: list[int]) -> list[str]:
        """The shapes of a number written without `+` (`_national_or_idd`)."""
        country = _country(default.country_code)
        own, general = default.own_code, default._general
        refused = [prefix for prefix in (default._idd, own) if prefix]
        not_idd_or_own = "".join(f"(?!{prefix})" for prefix in refused)
        # The caller's own code after an international prefix, or as a dropped `+`, is
        # rare: such cells are read one by one, and the regex stays a third smaller.
        foreign = [code for code in codes if code != default.country_code]
        shapes = []

        national = self._verdict(country, "national", country.plus_code, 0)
        if national is not None:
            # The second reading is reached only when the national one fails: with one
            # region, that is when `read` tries `+<digits>`. (With several, `read` would
            # try the other regions.)
            readings = [national]
            if len(country.regions) == 1:
                readings += self._after_codes(foreign, "dropped_plus", "+", 0)
            no_prefix = f"(?!{default._national_prefix})" if default._national_prefix else ""
            length = f"(?=\\d{{3,{_MAX_NSN_LENGTH}}}\\Z)"  # as _check_plain and _fast_check
            shapes.append(f"{not_idd_or_own}{no_prefix}{length}(?:{'|'.join(readings)})")

        prefix = _literal(default._national_prefix)
        if prefix and general and not default.transform_rule:
            stripped = self._verdict(country, "national_prefix", country.plus_code, len(prefix))
            if stripped is not None:
                # strip_national_prefix keeps the prefix when the whole number is viable
                # and the rest is not; _fast_check keeps it when the rest's length is not
                # accepted (those cells are read one at a time).
                viable = (
                    f"(?={prefix})(?:(?!(?:{general})\\Z){prefix}|{prefix}(?=(?:{general})\\Z))"
                )
                shapes.append(
                    f"{not_idd_or_own}{viable}{_accepted_length(default)}{_NSN_LENGTH}{stripped}"
                )

        own_code = self._verdict(country, "own_code", country.plus_code, len(own))
        if own_code is not None and general:
            # The code is dropped when the whole number is not viable and the rest is, or
            # when the whole number is too long.
            too_long = (
                f"(?!{_lengths(default.local_only_lengths)}\\Z)\\d{{{default.longest + 1},}}\\Z"
            )
            drop = f"(?={own})(?:(?!(?:{general})\\Z){own}(?=(?:{general})\\Z)|(?={too_long}){own})"
            prefixes = {default._national_prefix, country.main._national_prefix} - {None}
            no_prefix = "".join(f"(?!{national_prefix})" for national_prefix in prefixes)
            not_idd = f"(?!{default._idd})" if default._idd else ""
            shapes.append(f"{not_idd}{drop}{no_prefix}{_NSN_LENGTH}{own_code}")

        idd = _literal(default._idd)
        if idd:
            after_idd = self._after_codes(foreign, "idd", "+", len(idd))
            if after_idd:  # TOO_SHORT_AFTER_IDD below three digits; a 0 after it is no code
                shapes.append(f"{idd}(?!0)(?=\\d{{3}})(?:{'|'.join(after_idd)})")
        return shapes

    def _after_codes(self, codes: list[int], name: str, e164_prefix: str, skip: int) -> list[str]:
        """`<code><number>` for each code: `_fast_check` of digits written after a `+`."""
        bodies = []
        for code in codes:
            country = _country(code)
            verdict = self._verdict(country, f"{name}{code}", e164_prefix, skip)
            if verdict is not None:
                national_prefix = country.main._national_prefix
                no_prefix = f"(?!{national_prefix})" if national_prefix else ""
                bodies.append(f"{code}{_NSN_LENGTH}{no_prefix}{verdict}")
        return bodies

    def _verdict(self, country: _Country, name: str, e164_prefix: str, skip: int) -> str | None:
        region, rules = country.regions[0]
        verdict = _verdict_pattern(rules.metadata, name)
        if verdict is None:
            return None
        international = name.startswith("dropped_plus")
        self.shapes[name] = Shape(e164_prefix, skip, region, False, international)
        self.shapes[f"{name}_premium"] = Shape(e164_prefix, skip, region, True, international)
        if len(country.regions) > 1 and rules._leading_digits:
            return f"(?={rules._leading_digits}){verdict}"
        return verdict


def _lengths(lengths: Iterable[int]) -> str:
    """A regex for a run of exactly one of `lengths` digits (never matches for none)."""
    return "(?:" + ("|".join(f"\\d{{{length}}}" for length in sorted(lengths)) or "(?!)") + ")"


def _accepted_length(rules: _Rules) -> str:
    """A lookahead for `_Rules.accepts_length` of the rest of the number."""
    general = f"|{_lengths(rules.general_lengths)}\\Z" if rules.general_lengths else ""
    return f"(?!{_lengths(rules.local_only_lengths)}\\Z)(?=\\d{{{rules.longest + 1},}}\\Z{general})"


def _column_digits(cells: list[str]) -> list[str]:
    """Each cell without its separators (one pass over the whole column when no cell
    holds a line break); a cell longer than phonenumbers reads becomes empty."""
    joined = "\n".join(cells)
    if joined.count("\n") == len(cells) - 1:
        # bytes.translate deletes the separators in one pass (UTF-8 keeps them single
        # bytes and never uses their values inside another character).
        separators = _SEPARATOR_CHARS.encode()
        kept = joined.encode("utf-8", "surrogatepass").translate(None, separators)
        lines = kept.decode("utf-8", "surrogatepass").split("\n")
    else:
        lines = [cell.translate(_SEPARATORS) for cell in cells]
    if max(map(len, cells), default=0) > _MAX_INPUT_LENGTH:
        pairs = zip(cells, lines, strict=True)
        lines = ["" if len(cell) > _MAX_INPUT_LENGTH else line for cell, line in pairs]
    return lines


def region_of(e164: str) -> str | None:
    """The region of a caller number, used as the default region of its contacts."""
    phone = check(e164, None)
    return phone.region if phone is not None and phone.region != _NON_GEO_REGION else None
