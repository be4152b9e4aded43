"""What a workbook is held to before calamine opens it, shared by spreadsheets.py and the
two guards: the limits, what calamine spends (measured), the measures of a sheet and of a
workbook against them, and the refusals that say so."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, NoReturn

from batch_calls.ingest.reasons import FileReason
from batch_calls.ingest.table import MAX_COLUMNS, MAX_CONTACT_ROWS, MB, SAVE_AGAIN, reject

# A sheet is read whole by calamine: at most this many cells in its used range.
MAX_SHEET_CELLS: Final = 2_000_000
# Total size of all the members of an XLSX once inflated.
MAX_EXPANDED_BYTES: Final = 300 * MB
# Estimated memory calamine may use for one workbook (see `Estimate`).
MAX_WORKBOOK_MEMORY: Final = 240 * MB


# Bytes calamine and python-calamine spend, measured on calamine 0.37 (rounded up).
DENSE_CELL_COST: Final = 32  # one cell of a materialised range
SPARSE_CELL_COST: Final = 64  # one value cell while a sheet is parsed (Vec growth included)
FORMULA_CELL_COST: Final = 96  # xls: a formula's (blanked) text and its cell
STRING_COST: Final = 64  # one shared string, besides its text
MERGE_COST: Final = 32
WORKBOOK_XML_COST: Final = 10  # per byte of workbook.xml (sheet list, defined names)


def damaged_xlsx(detail: str = "") -> NoReturn:
    reject(
        FileReason.UNREADABLE_FILE,
        f"The file is damaged or not a complete XLSX file{detail}; {SAVE_AGAIN} "
        "(as .xlsx), or save it as CSV.",
    )


def damaged_xls(detail: str = "") -> NoReturn:
    reject(
        FileReason.UNREADABLE_FILE,
        f"The file is damaged or not a complete XLS file{detail}; {SAVE_AGAIN}, "
        "preferably as .xlsx or CSV.",
    )


def password_protected() -> NoReturn:
    reject(
        FileReason.UNREADABLE_FILE,
        "The workbook is password-protected; remove the password (or save a copy without "
        "it) and upload again.",
    )


@dataclass
class Extent:
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

    def add_rows(self, rows: Sequence[int], cols: Sequence[int], first_row: int = 0) -> None:
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


def first_sheet_fits(extent: Extent) -> bool:
    return extent.width <= MAX_COLUMNS and extent.height * extent.width <= MAX_SHEET_CELLS


def check_first_sheet(extent: Extent) -> None:
    """Reject a first sheet whose used range calamine could not hold."""
    if first_sheet_fits(extent):
        return
    height, width = extent.height, extent.width
    span = (
        f"{column_name(extent.left)}{extent.top + 1}:{column_name(extent.right)}{extent.bottom + 1}"
    )
    rows = f"{height:,} row{'s' if height != 1 else ''}"
    columns = f"{width:,} column{'s' if width != 1 else ''}"
    used = f"The first sheet uses cells from {span} ({rows} × {columns})"
    if width > MAX_COLUMNS:
        reject(
            FileReason.TOO_MANY_COLUMNS,
            f"{used}; at most {MAX_COLUMNS:,} columns can be read. Delete the unused columns "
            "(or any stray cell far to the right) and upload again.",
        )
    if height > MAX_CONTACT_ROWS + 1:
        reject(
            FileReason.TOO_MANY_ROWS,
            f"{used}; at most {MAX_CONTACT_ROWS:,} contacts can be read. Delete the unused "
            "rows (or any stray cell far below the list), or split the list, and upload again.",
        )
    reject(
        FileReason.TOO_MANY_COLUMNS,
        f"{used}; at most {MAX_SHEET_CELLS:,} cells can be read at once. Delete the columns "
        "you do not need and upload again.",
    )


def check_memory(estimate: int, whole_workbook: bool) -> None:
    if estimate > MAX_WORKBOOK_MEMORY:
        scope = " (an .xls file is read whole, every sheet)" if whole_workbook else ""
        reject(
            FileReason.FILE_TOO_LARGE,
            f"The workbook holds more data than can be read at once: about "
            f"{estimate // MB:,} MB once opened{scope}, the limit is "
            f"{MAX_WORKBOOK_MEMORY // MB} MB. Remove the sheets, columns or long texts you do "
            "not need, or save the contact list as CSV, and upload again.",
        )


def column_name(index: int) -> str:
    name = ""
    index += 1
    while index > 0:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def column_index(letters: bytes) -> int:
    index = 0
    for byte in letters.upper():
        index = index * 26 + byte - 64
    return index - 1


@dataclass
class Estimate:
    """Memory calamine may need for a workbook, beyond what any small file costs."""

    total: int = 0

    def add_strings(self, count: int, text: int, longest: int = 0) -> None:
        self.total += count * STRING_COST + text + longest

    def add_sheet(self, extent: Extent, copies: int = 1) -> None:
        self.total += extent.cells * SPARSE_CELL_COST + extent.merges * MERGE_COST
        self.total += copies * (extent.dense * DENSE_CELL_COST + extent.text)
        # the parser's buffer and Python's copy of the longest text
        self.total += 2 * extent.longest
