"""What every file reader produces: a header and the non-blank rows, as text; and how a
reader refuses a file. Shared by readers.py (CSV, JSON), spreadsheets.py and the guards."""

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, NoReturn

from batch_calls.ingest.reasons import FileReason

MB: Final = 1024 * 1024
MAX_FILE_BYTES = 10 * MB
MAX_CONTACT_ROWS = 100_000
MAX_COLUMNS = 1_000

# A row as readers yield it: (spreadsheet row number, cells as text).
Row = tuple[int, list[str]]

SUPPORTED: Final = "Upload the contact list as a CSV, XLSX, XLS or JSON file."
SAVE_AGAIN: Final = "open it in your spreadsheet program and save it again"
RESAVE: Final = "Open it in your spreadsheet program and save it as XLSX or CSV. "


@dataclass
class Table:
    """A contact list as read from a file, before any validation.

    `header` holds the header cells trimmed of spaces and a BOM, in file order (empty
    strings kept, so positions line up with row cells). `rows` yields, in file order, each
    non-blank row as (spreadsheet row number, cells as text), at least as many cells as
    the header has; the header is at `header_row` (1 unless blank rows precede it).
    `widest_row` is the most characters any row's cells hold together, when the reader
    knows it without another pass over the rows (a CSV), else None.
    """

    header: list[str]
    header_row: int
    rows: Iterator[Row]
    widest_row: int | None = None


class FileRejected(Exception):
    """The file as a whole cannot be used; `message` tells the user what to fix."""

    def __init__(self, reason: FileReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def reject(reason: FileReason, message: str) -> NoReturn:
    raise FileRejected(reason, message)


def unsupported(looks_like: str) -> NoReturn:
    """Reject a file of another kind; `looks_like` may end with advice after a period."""
    kind, _, advice = looks_like.partition(". ")
    reject(
        FileReason.UNSUPPORTED_FILE_TYPE,
        f"This file looks like {kind}, not a contact list. {advice}{SUPPORTED}",
    )


def too_many_rows(rows: int | None = None) -> NoReturn:
    held = f"more than {MAX_CONTACT_ROWS:,}" if rows is None else f"{rows:,}"
    reject(
        FileReason.TOO_MANY_ROWS,
        f"The file holds {held} contacts; at most {MAX_CONTACT_ROWS:,} can be uploaded at "
        "once. Split the list into several files.",
    )


def too_many_columns(columns: int) -> NoReturn:
    reject(
        FileReason.TOO_MANY_COLUMNS,
        f"The file has {columns:,} columns; at most {MAX_COLUMNS:,} can be read. Delete the "
        "columns you do not need and upload again.",
    )


def is_blank(cells: list[str]) -> bool:
    # str.strip removes exactly the characters for which str.isspace holds
    return not "".join(cells).strip()


def clean_header_cell(cell: str) -> str:
    return cell.strip().lstrip("\ufeff").strip()


def header_cells(cells: list[str]) -> list[str]:
    """Header cells trimmed of spaces and a BOM; trailing empty cells dropped."""
    header = [clean_header_cell(cell) for cell in cells]
    while header and not header[-1]:
        header.pop()
    if len(header) > MAX_COLUMNS:
        too_many_columns(len(header))
    return header


def guarded_rows(rows: Iterator[Row]) -> Iterator[Row]:
    """Rows, with any failure while reading them turned into a `FileRejected`."""
    last = 0
    try:
        for row in rows:
            last = row[0]
            yield row
    except (FileRejected, GeneratorExit, KeyboardInterrupt, SystemExit):
        raise
    except MemoryError as exc:
        raise FileRejected(
            FileReason.FILE_TOO_LARGE,
            f"The file is too large to read (memory ran out after row {last}); split it "
            "into smaller files.",
        ) from exc
    except BaseException as exc:  # calamine panics are BaseException
        raise FileRejected(
            FileReason.UNREADABLE_FILE,
            f"The file could not be read after row {last} ({type(exc).__name__}); it may be "
            f"damaged: {SAVE_AGAIN}, or save it as CSV.",
        ) from exc


# Below 2**53 every whole number is a float of its own, and repr writes all its digits.
_EXACT_WHOLE_FLOATS: Final = 2.0**53


def float_text(value: float) -> str:
    """A number as a person reads it: no ".0", no exponent, no invented digits."""
    if value.is_integer() and -_EXACT_WHOLE_FLOATS < value < _EXACT_WHOLE_FLOATS:
        return str(int(value))  # the same text, without repr's: most numeric cells
    if not math.isfinite(value):
        return repr(value)
    if value == 0:
        return "0"
    text = repr(value)
    if "e" in text:
        text = format(Decimal(text), "f")
    return text.removesuffix(".0")


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """For reading and validating a file: they make a few objects per row that live until
    the end, none of them in a cycle. With the cyclic collector on, Python walks them all
    again each time their number grows by a quarter: a fifth of the time of a 100,000-row
    file, for no garbage."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
