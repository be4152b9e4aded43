"""Read the first sheet of a checked workbook with python-calamine.

Spreadsheets need guards because calamine materialises a whole sheet as a dense
rows x columns range (32 bytes a cell) when it is opened, an .xls file is parsed whole
(every sheet, formulas included) and an XLSX is a zip whose parts may expand a
thousandfold. So before calamine sees a file:

- XLSX: every zip member is inflated as a stream (declared sizes are not trusted) and the
  total is capped; the shared strings and the first sheet are scanned on the way for the
  used range, the number of cells, the text they hold and merged cells, and the workbook
  is rejected if calamine would need too much memory for it.
- XLS: the compound file is parsed and checked (chains, sizes), every sheet's BIFF records
  are scanned the same way, walked as calamine walks them (an embedded chart's substream
  skipped, every shared string present counted, whatever the count the table declares),
  and a copy is handed to calamine in which the DIMENSIONS records and formula token
  streams are blanked (cached values are kept): calamine sizes an allocation from the
  former (a lying one aborts the process) and turns the latter into formula text that
  python-calamine never returns.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator

import python_calamine

from batch_calls.ingest.reasons import FileReason
from batch_calls.ingest.table import (
    MAX_CONTACT_ROWS,
    SAVE_AGAIN,
    FileRejected,
    Row,
    Table,
    float_text,
    guarded_rows,
    header_cells,
    is_blank,
    reject,
    too_many_rows,
)
from batch_calls.ingest.workbook_limits import MAX_SHEET_CELLS, password_protected

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
        password_protected()
    except python_calamine.WorksheetNotFound:
        reject(FileReason.EMPTY_FILE, "The workbook has no sheet.")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine panics are BaseException
        reject(
            FileReason.UNREADABLE_FILE,
            f"The workbook could not be read ({_calamine_error(exc)}); {SAVE_AGAIN}, or save "
            "it as CSV.",
        )
    if height * width > MAX_SHEET_CELLS:  # the guards should have caught this already
        reject(
            FileReason.TOO_MANY_COLUMNS,
            f"The first sheet uses {height:,} rows × {width:,} columns; at most "
            f"{MAX_SHEET_CELLS:,} cells can be read. Delete unused rows and columns.",
        )
    header_search = guarded_rows(_header_row(source))
    found = next(header_search, None)
    if found is None:
        reject(
            FileReason.EMPTY_FILE,
            "The first sheet of the workbook is empty; put the contact list on the first sheet.",
        )
    row_number, cells = found
    header = header_cells(cells)
    return Table(header, row_number, guarded_rows(_sheet_rows(source, row_number, len(header))))


def _header_row(source: Iterator[list[CellValue]]) -> Iterator[Row]:
    row_number = 0
    while (values := _next_sheet_row(source, row_number + 1)) is not None:
        row_number += 1
        cells = [_cell_text(value) for value in values]
        if not is_blank(cells):
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
        if is_blank(cells):
            continue
        contacts += 1
        if contacts > MAX_CONTACT_ROWS:
            too_many_rows()
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
        return float_text(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    return "" if value is None else str(value)
