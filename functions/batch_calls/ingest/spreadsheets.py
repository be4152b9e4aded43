"""Read the first sheet of a checked workbook with python-calamine, and what the guards
share: the measures of a sheet and the limits they are held to.

Spreadsheets need guards because calamine materialises a whole sheet as a dense
rows x columns range (32 bytes a cell) when it is opened, an .xls file is parsed whole
(every sheet, formulas included) and an XLSX is a zip whose parts may expand a
thousandfold. So before calamine sees a file:

- XLSX: every zip member is inflated as a stream (declared sizes are not trusted) and the
  total is capped; the shared strings and the first sheet are scanned on the way for the
  used range, the number of cells, the text they hold and merged cells, and the workbook
  is rejected if calamine would need too much memory for it.
- XLS: the compound file is parsed and checked (chains, sizes), every sheet's BIFF records
  are scanned the same way, and a copy is handed to calamine in which the DIMENSIONS
  records and formula token streams are blanked (cached values are kept): calamine sizes
  an allocation from the former (a lying one aborts the process) and turns the latter
  into formula text that python-calamine never returns.
"""

from __future__ import annotations

import datetime
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, NoReturn

import python_calamine

from batch_calls.ingest.readers import (
    _MB,
    _SAVE_AGAIN,
    Row,
    _float_text,
    _guarded,
    _header,
    _is_blank,
    _reject,
    _too_many_rows,
)
from batch_calls.ingest.reasons import FileReason
from batch_calls.ingest.table import (
    MAX_COLUMNS,
    MAX_CONTACT_ROWS,
    FileRejected,
    Table,
)

# A sheet is read whole by calamine: at most this many cells in its used range.
MAX_SHEET_CELLS: Final = 2_000_000
# Total size of all the members of an XLSX once inflated.
MAX_EXPANDED_BYTES: Final = 300 * _MB
# Estimated memory calamine may use for one workbook (see `_Estimate`).
MAX_WORKBOOK_MEMORY: Final = 240 * _MB


# Bytes calamine and python-calamine spend, measured on calamine 0.37 (rounded up).
_DENSE_CELL_COST: Final = 32  # one cell of a materialised range
_SPARSE_CELL_COST: Final = 64  # one value cell while a sheet is parsed (Vec growth included)
_FORMULA_CELL_COST: Final = 96  # xls: a formula's (blanked) text and its cell
_STRING_COST: Final = 64  # one shared string, besides its text
_MERGE_COST: Final = 32
_WORKBOOK_XML_COST: Final = 10  # per byte of workbook.xml (sheet list, defined names)


def _damaged_xlsx(detail: str = "") -> NoReturn:
    _reject(
        FileReason.UNREADABLE_FILE,
        f"The file is damaged or not a complete XLSX file{detail}; {_SAVE_AGAIN} "
        "(as .xlsx), or save it as CSV.",
    )


def _damaged_xls(detail: str = "") -> NoReturn:
    _reject(
        FileReason.UNREADABLE_FILE,
        f"The file is damaged or not a complete XLS file{detail}; {_SAVE_AGAIN}, "
        "preferably as .xlsx or CSV.",
    )


def _password_protected() -> NoReturn:
    _reject(
        FileReason.UNREADABLE_FILE,
        "The workbook is password-protected; remove the password (or save a copy without "
        "it) and upload again.",
    )


CellValue = (
    int
    | float
    | str
    | bool
    | datetime.time
    | datetime.date
    | datetime.datetime
    | datetime.timedelta
)


def read_spreadsheet(payload: bytes) -> Table:
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(payload))
        sheet = workbook.get_sheet_by_index(0)
        height, width = sheet.height, sheet.width
        source = sheet.iter_rows()
    except python_calamine.PasswordError:
        _password_protected()
    except python_calamine.WorksheetNotFound:
        _reject(FileReason.EMPTY_FILE, "The workbook has no sheet.")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine panics are BaseException
        _reject(
            FileReason.UNREADABLE_FILE,
            f"The workbook could not be read ({_calamine_error(exc)}); {_SAVE_AGAIN}, or save "
            "it as CSV.",
        )
    if height * width > MAX_SHEET_CELLS:  # the guards should have caught this already
        _reject(
            FileReason.TOO_MANY_COLUMNS,
            f"The first sheet uses {height:,} rows × {width:,} columns; at most "
            f"{MAX_SHEET_CELLS:,} cells can be read. Delete unused rows and columns.",
        )
    header_search = _guarded(_header_row(source))
    found = next(header_search, None)
    if found is None:
        _reject(
            FileReason.EMPTY_FILE,
            "The first sheet of the workbook is empty; put the contact list on the first sheet.",
        )
    row_number, cells = found
    header = _header(cells)
    return Table(header, row_number, _guarded(_sheet_rows(source, row_number, len(header))))


def _header_row(source: Iterator[list[CellValue]]) -> Iterator[Row]:
    row_number = 0
    while (values := _next_sheet_row(source, row_number + 1)) is not None:
        row_number += 1
        cells = [_cell_text(value) for value in values]
        if not _is_blank(cells):
            yield row_number, cells
            return


def _calamine_error(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    return text


def _sheet_rows(source: Iterator[list[CellValue]], header_row: int, width: int) -> Iterator[Row]:
    row_number = header_row
    contacts = 0
    while (values := _next_sheet_row(source, row_number + 1)) is not None:
        row_number += 1
        # Most cells are text already: skip the call for them (700,000 cells a big sheet).
        cells = [value if type(value) is str else _cell_text(value) for value in values]
        if _is_blank(cells):
            continue
        contacts += 1
        if contacts > MAX_CONTACT_ROWS:
            _too_many_rows()
        end = len(cells)
        while end > width and not cells[end - 1]:
            end -= 1
        del cells[end:]
        if end < width:
            cells.extend([""] * (width - end))
        yield row_number, cells


def _next_sheet_row(source: Iterator[list[CellValue]], row_number: int) -> list[CellValue] | None:
    try:
        return next(source)
    except StopIteration:
        return None
    except OverflowError as exc:
        raise FileRejected(
            FileReason.UNREADABLE_FILE,
            f"Row {row_number} has a cell formatted as a date, time or duration whose number "
            "is out of range (a phone number in a date-formatted column?). Format that "
            "column as Text or Number and upload again.",
        ) from exc


def _cell_text(value: object) -> str:
    """A cell as a person sees it in the sheet."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    return "" if value is None else str(value)


@dataclass
class _Extent:
    """Where a sheet's value cells are, and what reading them costs."""

    cells: int = 0
    top: int = sys.maxsize
    bottom: int = -1
    left: int = sys.maxsize
    right: int = -1
    text: int = 0  # upper bound of the UTF-8 bytes of text the cells hold
    longest: int = 0  # upper bound of the longest text node, read whole into a buffer
    merges: int = 0

    def add(self, row: int, col: int) -> None:
        self.cells += 1
        self.top = min(self.top, row)
        self.bottom = max(self.bottom, row)
        self.left = min(self.left, col)
        self.right = max(self.right, col)

    def add_rows(self, rows: list[int], cols: list[int], first_row: int = 0) -> None:
        """Add cells, given their rows (numbered from `first_row`) and their columns."""
        if rows:
            self.cells += len(rows)
            self.top = min(self.top, min(rows) - first_row)
            self.bottom = max(self.bottom, max(rows) - first_row)
            self.left = min(self.left, min(cols))  # noqa: PLW3301
            self.right = max(self.right, max(cols))  # noqa: PLW3301

    @property
    def height(self) -> int:
        return self.bottom - self.top + 1 if self.cells else 0

    @property
    def width(self) -> int:
        return self.right - self.left + 1 if self.cells else 0

    @property
    def dense(self) -> int:
        return self.height * self.width


def _first_sheet_fits(extent: _Extent) -> bool:
    return extent.width <= MAX_COLUMNS and extent.height * extent.width <= MAX_SHEET_CELLS


def _check_first_sheet(extent: _Extent) -> None:
    """Reject a first sheet whose used range calamine could not hold."""
    if _first_sheet_fits(extent):
        return
    height, width = extent.height, extent.width
    span = (
        f"{_column_name(extent.left)}{extent.top + 1}:"
        f"{_column_name(extent.right)}{extent.bottom + 1}"
    )
    rows = f"{height:,} row{'s' if height != 1 else ''}"
    columns = f"{width:,} column{'s' if width != 1 else ''}"
    used = f"The first sheet uses cells from {span} ({rows} × {columns})"
    if width > MAX_COLUMNS:
        _reject(
            FileReason.TOO_MANY_COLUMNS,
            f"{used}; at most {MAX_COLUMNS:,} columns can be read. Delete the unused columns "
            "(or any stray cell far to the right) and upload again.",
        )
    if height > MAX_CONTACT_ROWS + 1:
        _reject(
            FileReason.TOO_MANY_ROWS,
            f"{used}; at most {MAX_CONTACT_ROWS:,} contacts can be read. Delete the unused "
            "rows (or any stray cell far below the list), or split the list, and upload again.",
        )
    _reject(
        FileReason.TOO_MANY_COLUMNS,
        f"{used}; at most {MAX_SHEET_CELLS:,} cells can be read at once. Delete the columns "
        "you do not need and upload again.",
    )


def _check_memory(estimate: int, whole_workbook: bool) -> None:
    if estimate > MAX_WORKBOOK_MEMORY:
        scope = " (an .xls file is read whole, every sheet)" if whole_workbook else ""
        _reject(
            FileReason.FILE_TOO_LARGE,
            f"The workbook holds more data than can be read at once: about "
            f"{estimate // _MB:,} MB once opened{scope}, the limit is "
            f"{MAX_WORKBOOK_MEMORY // _MB} MB. Remove the sheets, columns or long texts you do "
            "not need, or save the contact list as CSV, and upload again.",
        )


def _column_name(index: int) -> str:
    name = ""
    index += 1
    while index > 0:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _column_index(letters: bytes) -> int:
    index = 0
    for byte in letters.upper():
        index = index * 26 + byte - 64
    return index - 1


@dataclass
class _Estimate:
    """Memory calamine may need for a workbook, beyond what any small file costs."""

    total: int = 0

    def add_strings(self, count: int, text: int, longest: int = 0) -> None:
        self.total += count * _STRING_COST + text + longest

    def add_sheet(self, extent: _Extent, copies: int = 1) -> None:
        self.total += extent.cells * _SPARSE_CELL_COST + extent.merges * _MERGE_COST
        self.total += copies * (extent.dense * _DENSE_CELL_COST + extent.text)
        # the parser's buffer and Python's copy of the longest text
        self.total += 2 * extent.longest
