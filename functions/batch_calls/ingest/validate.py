"""Turn a contact table into callable recipients, or into errors a person can act on.

The rules are api-contract.md's "File rules" and "Validation errors". The result is used
alike by the CLI, the API and the S3 drop: `body()` is the summary (accepted) or the 400
error body (rejected), and the accepted rows are what gets dialled.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from batch_calls.domain.telephony_config import TelephonyConfig
from batch_calls.ingest.phones import ContactNumber, ContactNumberReader, Phone, Shape
from batch_calls.ingest.readers import read_table
from batch_calls.ingest.reasons import FileReason, RowReason, WarningReason
from batch_calls.ingest.table import FileRejected, Table, cyclic_gc_paused

PHONE_COLUMN = "phone_number"
# A variable is injected into a prompt and stored with its recipient (DynamoDB items
# are at most 400 KB): bound a cell and a row well below that.
MAX_CELL_CHARS = 10_000
MAX_ROW_CHARS = 100_000
_EXAMPLES_PER_REASON = 3

OnInvalidRows = Literal["reject", "skip"]


@dataclass(frozen=True)
class ValidationOptions:
    """How to read the numbers: `default_region` is the caller number's region."""

    default_region: str | None
    config: TelephonyConfig
    on_invalid_rows: OnInvalidRows = "reject"
    dedupe: bool = True


class AcceptedRow(NamedTuple):
    """A row that becomes a call; `values` line up with the result's `variables`."""

    row: int
    phone: Phone
    values: tuple[str, ...]


class SkippedRow(NamedTuple):
    row: int
    reason: str
    values: tuple[str, ...]
    phone_number: str


@dataclass
class _Group:
    """Rows sharing one reason, with a few of their values to show what is wrong."""

    rows: list[int] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    countries: set[str] = field(default_factory=set)

    def add(self, row: int, value: str) -> None:
        self.rows.append(row)
        if len(self.examples) < _EXAMPLES_PER_REASON:
            self.examples.append({"row": row, "value": value})


@dataclass
class ValidationResult:
    total_rows: int
    variables: list[str]
    accepted: list[AcceptedRow]
    skipped: list[SkippedRow]
    errors: dict[RowReason, _Group]
    warnings: dict[WarningReason, _Group]
    on_invalid_rows: OnInvalidRows
    default_region: str | None
    file_error: FileRejected | None = None
    # The named header cells in file order, phone_number among them (the report's columns).
    columns: list[str] = field(default_factory=list)

    @property
    def invalid_rows(self) -> int:
        return sum(len(group.rows) for group in self.errors.values())

    @property
    def is_accepted(self) -> bool:
        if self.file_error is not None or not self.accepted:
            return False
        return self.on_invalid_rows == "skip" or not self.errors

    def flag(self, reason: RowReason | WarningReason, row: int, value: str) -> None:
        """A row issue found after validation (calling rules: logic/calling_rules.py);
        errors stay in the contract's reason order."""
        if isinstance(reason, WarningReason):
            self.warnings.setdefault(reason, _Group()).add(row, value)
            return
        self.errors.setdefault(reason, _Group()).add(row, value)
        self.errors = {r: self.errors[r] for r in RowReason if r in self.errors}

    def variables_of(self, row: AcceptedRow | SkippedRow) -> dict[str, str]:
        return dict(zip(self.variables, row.values, strict=True))

    def body(self) -> dict[str, Any]:
        """The summary when accepted, else the 400 body of api-contract.md."""
        errors = [self._error_entry(reason, group) for reason, group in self.errors.items()]
        warnings = [self._warning_entry(reason, group) for reason, group in self.warnings.items()]
        if self.file_error is not None:
            return rejected_file_body(self.file_error, self.total_rows)
        if not self.is_accepted:
            if self.errors:
                message = f"{self.invalid_rows} of {self.total_rows} rows failed validation"
                if self.on_invalid_rows == "skip":
                    message += ": no row is left to call"
            else:
                message = "every row was a duplicate: no row is left to call"
                if WarningReason.SUPPRESSED in self.warnings:
                    message = (
                        "every row is a duplicate or on the workspace's suppression list: "
                        "no row is left to call"
                    )
            return {
                "error": "validation_failed",
                "message": message,
                "total_rows": self.total_rows,
                "invalid_rows": self.invalid_rows,
                "errors": errors,
                "warnings": warnings,
            }
        countries: dict[str, int] = {}
        for row in self.accepted:
            countries[row.phone.region] = countries.get(row.phone.region, 0) + 1
        return {
            "valid": True,
            "message": self._summary_message(),
            "total_rows": self.total_rows,
            "accepted_rows": len(self.accepted),
            "invalid_rows": self.invalid_rows,
            "skipped_rows": len(self.skipped),
            "variables": self.variables,
            "countries": dict(sorted(countries.items(), key=lambda item: (-item[1], item[0]))),
            "errors": errors,
            "warnings": warnings,
        }

    def _summary_message(self) -> str:
        message = f"{len(self.accepted)} of {self.total_rows} rows will be called"
        if self.skipped:
            message += f"; {len(self.skipped)} skipped"
        return message

    def _error_entry(self, reason: RowReason, group: _Group) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "reason": str(reason),
            "message": _row_message(reason, group, self.default_region),
            "rows": group.rows,
            "examples": group.examples,
        }
        if reason is RowReason.UNSUPPORTED_COUNTRY:
            entry["countries"] = sorted(group.countries)
        return entry

    def _warning_entry(self, reason: WarningReason, group: _Group) -> dict[str, Any]:
        return {
            "reason": str(reason),
            "message": _warning_message(reason, group, dedupe_dropped=bool(self.skipped)),
            "rows": group.rows,
            "examples": group.examples,
        }


def rejected_file_body(rejected: FileRejected, total_rows: int = 0) -> dict[str, Any]:
    """The 400 body for a file that cannot be used at all."""
    return {
        "error": "validation_failed",
        "message": rejected.message,
        "total_rows": total_rows,
        "invalid_rows": 0,
        "errors": [{"reason": str(rejected.reason), "message": rejected.message}],
        "warnings": [],
    }


_SINGULAR = {"have": "has", "are": "is", "repeat": "repeats", "start": "starts", "hold": "holds"}


def _rows_phrase(count: int, verb: str = "") -> str:
    """ "3 rows", or with a verb in agreement: "1 row has", "3 rows have"."""
    if count == 1:
        return "1 row" + (f" {_SINGULAR[verb]}" if verb else "")
    return f"{count} rows" + (f" {verb}" if verb else "")


def _verb(count: int, singular: str, plural: str) -> str:
    """ "1 row has", "2 rows have" (and so on for each verb the messages use)."""
    return f"{_rows_phrase(count)} {singular if count == 1 else plural}"


def _row_message(reason: RowReason, group: _Group, default_region: str | None) -> str:
    count = len(group.rows)
    one = count == 1
    home = f" outside {default_region}" if default_region else ""
    match reason:
        case RowReason.MISSING_PHONE_NUMBER:
            return f"{_verb(count, 'has', 'have')} no phone_number: fill it in or delete the row"
        case RowReason.INVALID_PHONE_NUMBER:
            return (
                f"{_verb(count, 'has', 'have')} a phone_number that is not a valid number: check "
                f"the digits and write numbers{home} with their country code, for example "
                "+14155550101 (extensions cannot be dialled)"
            )
        case RowReason.PREMIUM_RATE_NUMBER:
            numbers = "a premium-rate number" if one else "premium-rate numbers"
            return (
                f"{_verb(count, 'is', 'are')} {numbers}, which this workspace does not call: "
                "remove them or set allow_premium_rate in the telephony config"
            )
        case RowReason.NO_ENABLED_COUNTRIES:
            return (
                f"{_rows_phrase(count)} cannot be called because the telephony config enables "
                "no country: add destination countries to enabled_countries"
            )
        case RowReason.UNSUPPORTED_COUNTRY:
            countries = ", ".join(sorted(group.countries))
            where = "a country" if one else "countries"
            return (
                f"{_verb(count, 'is', 'are')} in {where} not enabled for this workspace "
                f"({countries}): enable them in the telephony config or remove the rows"
            )
        case RowReason.UNSUPPORTED_PREFIX:
            return (
                f"{_verb(count, 'starts', 'start')} with a prefix that is blocked or not among "
                "enabled_prefixes: change the telephony config's prefixes or remove the rows"
            )
        case RowReason.INVALID_TIMEZONE:
            return (
                f"{_verb(count, 'has', 'have')} a timezone that is not an IANA time zone: write "
                "zones such as Asia/Kolkata or America/Los_Angeles, or leave the cell empty to "
                "use the number's zone"
            )
        case RowReason.VALUE_TOO_LONG:
            return (
                f"{_verb(count, 'has', 'have')} a cell longer than {MAX_CELL_CHARS:,} characters "
                f"or more than {MAX_ROW_CHARS:,} characters in all: shorten the values"
            )


def _warning_message(reason: WarningReason, group: _Group, *, dedupe_dropped: bool) -> str:
    count = len(group.rows)
    they = "it is" if count == 1 else "they are"
    match reason:
        case WarningReason.DUPLICATE_PHONE_NUMBER:
            action = "skipped" if dedupe_dropped else "kept, and will be called again"
            return (
                f"{_verb(count, 'repeats', 'repeat')} a phone number of an earlier row; "
                f"{they} {action}"
            )
        case WarningReason.EXTRA_CELLS:
            return (
                f"{_verb(count, 'has', 'have')} more cells than the header has columns; the "
                "extra cells are ignored"
            )
        case WarningReason.SUPPRESSED:
            return (
                f"{_verb(count, 'is', 'are')} on the workspace's suppression list; {they} skipped"
            )
        case WarningReason.NO_CONSENT:
            return (
                f"{_verb(count, 'has', 'have')} no consent (yes in a consent column), which the "
                "workspace's compliance profile requires for calls with an AI voice; "
                f"{they} skipped"
            )
        case WarningReason.UNKNOWN_TIME_ZONE:
            return (
                f"{_verb(count, 'has', 'have')} a number with no known time zone and no "
                "timezone cell; the calling window is checked in the batch's time zone for "
                + ("it" if count == 1 else "them")
            )
        case WarningReason.READ_AS_INTERNATIONAL:
            if count == 1:
                return (
                    "1 row was not a valid number from the caller's country and was read as an "
                    "international number with a + added (a spreadsheet may have dropped it)"
                )
            return (
                f"{count} rows were not valid numbers from the caller's country and were read "
                "as international numbers with a + added (a spreadsheet may have dropped it)"
            )


def _columns(header: list[str]) -> tuple[int, list[tuple[int, str]]]:
    """The phone column's position and the variables' (position, name)."""
    seen: set[str] = set()
    duplicates: list[str] = []
    for name in header:
        if name and name in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name)
    if duplicates:
        names = ", ".join(repr(name) for name in duplicates)
        raise FileRejected(
            FileReason.DUPLICATE_COLUMN,
            f"the header names {names} more than once: give every column a distinct name",
        )
    if PHONE_COLUMN not in seen:
        near = [name for name in header if "phone" in name.lower() or "number" in name.lower()]
        hint = f" (found {', '.join(repr(n) for n in near)}: rename it)" if near else ""
        raise FileRejected(
            FileReason.MISSING_PHONE_NUMBER_COLUMN,
            f"the file has no phone_number column{hint}; the first row must be a header with a "
            "column named exactly phone_number",
        )
    phone_index = header.index(PHONE_COLUMN)
    variables = [(i, name) for i, name in enumerate(header) if name and i != phone_index]
    return phone_index, variables


class _RowChecker:
    """Applies the row rules; collects the error groups and warnings as it goes.

    `check` runs once per row (100,000 times for a large file): the config's settings are
    read once here, not per row.
    """

    def __init__(self, options: ValidationOptions) -> None:
        config = options.config
        self.check_destination = config.route != "sip"
        self.enabled_countries = frozenset(config.enabled_countries)
        self.allow_premium_rate = config.allow_premium_rate
        self.blocked_prefixes = config.blocked_prefixes
        self.enabled_prefixes = config.enabled_prefixes
        self.numbers = ContactNumberReader(options.default_region, config.enabled_countries)
        self.errors: dict[RowReason, _Group] = {}
        self.warnings: dict[WarningReason, _Group] = {}

    def check(self, row: int, raw: str, reading: ContactNumber | None) -> Phone | RowReason:
        """The row's number when it can be called; else the first reason, in the
        contract's order, that it cannot, recorded. (The last reason, VALUE_TOO_LONG, is
        about the other cells: `_validate_rows` checks it.)"""
        if not raw:
            return self.fail(RowReason.MISSING_PHONE_NUMBER, row, raw)
        if reading is None:
            return self.fail(RowReason.INVALID_PHONE_NUMBER, row, raw)
        phone, read_as_international = reading
        if read_as_international:
            self.warn(WarningReason.READ_AS_INTERNATIONAL, row, raw)
        if phone.is_premium and not self.allow_premium_rate:
            return self.fail(RowReason.PREMIUM_RATE_NUMBER, row, raw)
        if self.check_destination:
            if not self.enabled_countries:
                return self.fail(RowReason.NO_ENABLED_COUNTRIES, row, raw)
            if phone.region not in self.enabled_countries:
                self.errors.setdefault(RowReason.UNSUPPORTED_COUNTRY, _Group()).countries.add(
                    phone.region
                )
                return self.fail(RowReason.UNSUPPORTED_COUNTRY, row, raw)
            e164 = phone.e164
            if e164.startswith(self.blocked_prefixes) or (
                self.enabled_prefixes and not e164.startswith(self.enabled_prefixes)
            ):
                return self.fail(RowReason.UNSUPPORTED_PREFIX, row, raw)
        return phone

    def callable_as_read(self, shape: Shape) -> bool:
        """Whether every number of this shape passes `check` with no more to record (the
        prefixes, when the config lists any, are checked number by number)."""
        if shape.read_as_international or (shape.is_premium and not self.allow_premium_rate):
            return False
        return not self.check_destination or (
            shape.region in self.enabled_countries
            and not self.enabled_prefixes
            and not self.blocked_prefixes
        )

    def fail(self, reason: RowReason, row: int, raw: str) -> RowReason:
        self.errors.setdefault(reason, _Group()).add(row, raw)
        return reason

    def warn(self, reason: WarningReason, row: int, value: str) -> None:
        self.warnings.setdefault(reason, _Group()).add(row, value)


def _fits(cells: list[str]) -> bool:
    total = sum(map(len, cells))
    return total <= MAX_CELL_CHARS or (
        total <= MAX_ROW_CHARS and max(map(len, cells)) <= MAX_CELL_CHARS
    )


def _rows_too_long(rows: list[tuple[int, list[str]]]) -> set[int]:
    """The rows with a cell or a whole row over the limits. (The characters of each row
    are counted by iterators that run in C: most files have no such row.)"""
    sizes = list(map(sum, map(map, repeat(len), map(itemgetter(1), rows))))
    if max(sizes, default=0) <= MAX_CELL_CHARS:
        return set()
    return {
        row
        for (row, cells), size in zip(rows, sizes, strict=True)
        if size > MAX_CELL_CHARS and not _fits(cells)
    }


def _picker(indices: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """The variables' cells of a row, as one C-level call (this runs 100,000 times)."""
    if len(indices) > 1:
        return itemgetter(*indices)
    if indices:
        only = indices[0]
        return lambda cells: (cells[only],)
    return lambda cells: ()


def _fit_to_header(
    cells: list[str], width: int, row: int, phone_index: int, checker: "_RowChecker"
) -> list[str]:
    """Pad a short row with empty cells; cut a long one, warning if it cut a value."""
    if len(cells) < width:
        return cells + [""] * (width - len(cells))
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        checker.warn(WarningReason.EXTRA_CELLS, row, cells[phone_index].strip())
    return cells[:width]


def validate_file(
    data: bytes, filename: str | None, options: ValidationOptions
) -> ValidationResult:
    """Read and validate a contact file of any supported format."""
    try:
        table = read_table(data, filename)
    except FileRejected as rejected:
        return _empty_result(options, file_error=rejected)
    return validate_table(table, options)


def _empty_result(
    options: ValidationOptions, file_error: FileRejected | None = None
) -> ValidationResult:
    return ValidationResult(
        total_rows=0,
        variables=[],
        accepted=[],
        skipped=[],
        errors={},
        warnings={},
        on_invalid_rows=options.on_invalid_rows,
        default_region=options.default_region,
        file_error=file_error,
    )


def validate_table(table: Table, options: ValidationOptions) -> ValidationResult:
    """Validate every row of `table`; a file-level problem is returned in the result."""
    result = _empty_result(options)
    try:
        with cyclic_gc_paused():
            _validate_rows(table, options, result)
    except FileRejected as rejected:
        result.file_error = rejected
        result.accepted.clear()
        result.skipped.clear()
    return result


def _validate_rows(table: Table, options: ValidationOptions, result: ValidationResult) -> None:
    phone_index, variable_columns = _columns(table.header)
    result.variables = [name for _, name in variable_columns]
    result.columns = [name for name in table.header if name]
    width = len(table.header)
    checker = _RowChecker(options)
    rows = list(table.rows)
    if not rows:
        raise FileRejected(
            FileReason.EMPTY_FILE,
            "the file has a header but no contacts: add one row per contact below the header",
        )
    result.total_rows = len(rows)
    if not all(map(width.__eq__, map(len, map(itemgetter(1), rows)))):
        rows = [
            (row, _fit_to_header(cells, width, row, phone_index, checker)) for row, cells in rows
        ]
    widest = table.widest_row
    too_long = set() if widest is not None and widest <= MAX_CELL_CHARS else _rows_too_long(rows)

    pick_values = _picker([i for i, _ in variable_columns])
    check, numbers = checker.check, checker.numbers
    accepted, skipped = result.accepted, result.skipped
    first_row_of: dict[str, int] = {}  # by E.164
    raws = list(map(str.strip, map(itemgetter(phone_index), map(itemgetter(1), rows))))
    digits, shape_names = numbers.match_column(raws)
    shapes = numbers.shapes
    # Most rows take the first branch: a number of a shape that needs no further check,
    # seen for the first time. (This loop runs 100,000 times for a large file.)
    callable_as_read = {name for name, shape in shapes.items() if checker.callable_as_read(shape)}
    # The fast lane's rows are made as namedtuple's own _make makes them, without the
    # Python-level __new__ (a tenth of this loop's time).
    make = tuple.__new__
    for (row, cells), raw, line, name in zip(rows, raws, digits, shape_names, strict=True):
        if name in callable_as_read and not (too_long and row in too_long):
            phone = shapes[name].phone(line)
            if first_row_of.setdefault(phone.e164, row) == row:
                accepted.append(make(AcceptedRow, (row, phone, pick_values(cells))))
                continue
        if name is not None:
            number: ContactNumber | None = shapes[name].reading(line)
        else:
            number = numbers.read(raw) if raw else None
        outcome = check(row, raw, number)
        reason: str
        if type(outcome) is not Phone:
            reason = str(outcome)
        elif too_long and row in too_long:
            reason = checker.fail(RowReason.VALUE_TOO_LONG, row, raw)
        elif first_row_of.setdefault(outcome.e164, row) == row:
            accepted.append(AcceptedRow(row, outcome, pick_values(cells)))
            continue
        else:
            checker.warn(WarningReason.DUPLICATE_PHONE_NUMBER, row, raw)
            if not options.dedupe:
                accepted.append(AcceptedRow(row, outcome, pick_values(cells)))
                continue
            reason = WarningReason.DUPLICATE_PHONE_NUMBER
        skipped.append(SkippedRow(row, str(reason), pick_values(cells), raw))

    result.errors = {r: checker.errors[r] for r in RowReason if r in checker.errors}
    result.warnings = {r: checker.warnings[r] for r in WarningReason if r in checker.warnings}


def iter_normalized(result: ValidationResult) -> Iterator[dict[str, Any]]:
    """The accepted rows as `--normalized` writes them (api-contract.md, "Command line")."""
    for row in result.accepted:
        yield {
            "row": row.row,
            "phone_number": row.phone.e164,
            "variables": result.variables_of(row),
        }
