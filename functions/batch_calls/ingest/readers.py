"""Turn an uploaded contact-list file into a `Table`: a header and lazily read rows, as text.

Formats are recognised by their content; the file name is only a hint (it decides between
JSON and CSV for text starting with `[` or `{`). Supported: CSV (any common delimiter and
encoding), XLSX and XLS (first sheet only, read with python-calamine) and JSON in the seed
"contacts" shape. Anything else is rejected with a `FileRejected` whose message says what
to do; no other exception escapes `read_table` or the row iterator.

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

import csv
import datetime
import io
import itertools
import json
import math
import re
import struct
import sys
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Final, NoReturn
from xml.parsers import expat

import python_calamine

from batch_calls.ingest.reasons import FileReason
from batch_calls.ingest.table import (
    MAX_COLUMNS,
    MAX_CONTACT_ROWS,
    MAX_FILE_BYTES,
    FileRejected,
    Table,
)

Row = tuple[int, list[str]]

_MB: Final = 1024 * 1024
_SUPPORTED: Final = "Upload the contact list as a CSV, XLSX, XLS or JSON file."
_SAVE_AGAIN: Final = "open it in your spreadsheet program and save it again"

# A sheet is read whole by calamine: at most this many cells in its used range.
MAX_SHEET_CELLS: Final = 2_000_000
# Total size of all the members of an XLSX once inflated.
MAX_EXPANDED_BYTES: Final = 300 * _MB
# Estimated memory calamine may use for one workbook (see `_Estimate`).
MAX_WORKBOOK_MEMORY: Final = 240 * _MB

_MAX_XML_PART_BYTES: Final = 4 * _MB  # xl/workbook.xml and its relationships
_MAX_ZIP_MEMBERS: Final = 10_000
_MAX_XLS_SHEETS: Final = 1_000
_MAX_JSON_CONTAINERS: Final = 1_000_000
_INFLATE_CHUNK: Final = 1 << 20
_INFLATE_INPUT: Final = 1 << 16

# Bytes calamine and python-calamine spend, measured on calamine 0.37 (rounded up).
_DENSE_CELL_COST: Final = 32  # one cell of a materialised range
_SPARSE_CELL_COST: Final = 64  # one value cell while a sheet is parsed (Vec growth included)
_FORMULA_CELL_COST: Final = 96  # xls: a formula's (blanked) text and its cell
_STRING_COST: Final = 64  # one shared string, besides its text
_MERGE_COST: Final = 32
_WORKBOOK_XML_COST: Final = 10  # per byte of workbook.xml (sheet list, defined names)


def read_table(data: bytes, filename: str | None = None) -> Table:
    """Read a contact list; the rows are read lazily, while the caller iterates them.

    Raises `FileRejected` for a file that cannot be used; iterating `rows` may raise it too
    (too many rows, or a file that turns out to be damaged further down).
    """
    if len(data) > MAX_FILE_BYTES:
        _reject(
            FileReason.FILE_TOO_LARGE,
            f"The file is {len(data) / _MB:.1f} MB; the limit is {MAX_FILE_BYTES // _MB} MB. "
            "Split the contact list into smaller files.",
        )
    if not data:
        _reject(FileReason.EMPTY_FILE, "The file is empty.")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _read_spreadsheet(_guard_xlsx(data))
    if data.startswith(_CFB_MAGIC):
        return _read_spreadsheet(_guard_xls(data))
    looks_like = _binary_format(data)
    if looks_like is not None:
        _unsupported(looks_like)
    text = _decode_text(data)
    if not text.strip(" \t\r\n\x0b\x0c\ufeff"):
        _reject(FileReason.EMPTY_FILE, "The file is empty (it holds only blank space).")
    start = text.lstrip(" \t\r\n\x0b\x0c\ufeff")
    looks_like = _text_format(start)
    if looks_like is not None:
        _unsupported(looks_like)
    named_json = filename is not None and filename.lower().endswith(".json")
    if start[:1] in ("[", "{") and (named_json or filename is None):
        try:
            contacts = _parse_json(text, data)
        except _NotJson as exc:
            if named_json:
                _reject(FileReason.UNREADABLE_FILE, exc.message)
            # No name to go by: text that is not JSON may still be a CSV.
        else:
            return table_from_contacts(contacts)
    return _read_csv(text)


def table_from_contacts(contacts: object) -> Table:
    """A table from the seed's JSON contacts: a list of objects, or {"contacts": [...]}.

    `phoneNumber` (or `phone_number`) becomes the first column, `phone_number`; every
    other key follows in first-seen order, and the keys of `metadata` become columns of
    their own. Contact i is spreadsheet row i + 2.
    """
    if isinstance(contacts, dict):
        if "contacts" not in contacts:
            _reject(
                FileReason.UNREADABLE_FILE,
                'The JSON must be a list of contacts or an object with a "contacts" list.',
            )
        contacts = contacts["contacts"]
    if not isinstance(contacts, list):
        _reject(
            FileReason.UNREADABLE_FILE,
            f'The JSON "contacts" must be a list of contact objects, not {_json_type(contacts)}.',
        )
    if not contacts:
        _reject(FileReason.EMPTY_FILE, "The JSON holds no contacts.")
    if len(contacts) > MAX_CONTACT_ROWS:
        _too_many_rows(len(contacts))
    columns: dict[str, None] = {"phone_number": None}
    top_level: dict[str, int] = {}
    from_metadata: dict[str, int] = {}
    flat: list[dict[str, object]] = []
    for number, contact in enumerate(contacts, start=1):
        if not isinstance(contact, dict):
            _reject(
                FileReason.UNREADABLE_FILE,
                f"Contact {number} of the JSON is {_json_type(contact)}, not an object "
                "with a phoneNumber.",
            )
        values: dict[str, object] = {}
        for key, value in contact.items():
            if key == "metadata" and (value is None or isinstance(value, dict)):
                continue
            column = "phone_number" if key == "phoneNumber" else key
            if column in values:
                _reject(
                    FileReason.DUPLICATE_COLUMN,
                    f'Contact {number} has both "phoneNumber" and "phone_number"; keep one.',
                )
            values[column] = value
            top_level.setdefault(column, number)
            top_level.setdefault(key, number)
            columns[column] = None
        metadata = contact.get("metadata")
        if isinstance(metadata, dict):
            for key, value in metadata.items():
                from_metadata.setdefault(key, number)
                if key in values:
                    _metadata_collision(key, number, number)
                values[key] = value
                columns[key] = None
        flat.append(values)
        if len(columns) > MAX_COLUMNS:
            _too_many_columns(len(columns))
    for key, number in from_metadata.items():
        if key in top_level:
            _metadata_collision(key, number, top_level[key])
    header = list(columns)
    return Table([_clean_header_cell(name) for name in header], 1, _json_rows(flat, header))


# --- errors ---------------------------------------------------------------------------


def _reject(reason: FileReason, message: str) -> NoReturn:
    raise FileRejected(reason, message)


_RESAVE: Final = "Open it in your spreadsheet program and save it as XLSX or CSV. "


def _unsupported(looks_like: str) -> NoReturn:
    """Reject a file of another kind; `looks_like` may end with advice after a period."""
    kind, _, advice = looks_like.partition(". ")
    _reject(
        FileReason.UNSUPPORTED_FILE_TYPE,
        f"This file looks like {kind}, not a contact list. {advice}{_SUPPORTED}",
    )


def _too_many_rows(rows: int | None = None) -> NoReturn:
    held = f"more than {MAX_CONTACT_ROWS:,}" if rows is None else f"{rows:,}"
    _reject(
        FileReason.TOO_MANY_ROWS,
        f"The file holds {held} contacts; at most {MAX_CONTACT_ROWS:,} can be uploaded at "
        "once. Split the list into several files.",
    )


def _too_many_columns(columns: int) -> NoReturn:
    _reject(
        FileReason.TOO_MANY_COLUMNS,
        f"The file has {columns:,} columns; at most {MAX_COLUMNS:,} can be read. Delete the "
        "columns you do not need and upload again.",
    )


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


def _metadata_collision(key: str, meta_contact: int, field_contact: int) -> NoReturn:
    _reject(
        FileReason.DUPLICATE_COLUMN,
        f'The metadata key "{key}" (contact {meta_contact}) has the same name as a contact '
        f"field (contact {field_contact}); rename one of them.",
    )


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


# --- what a file looks like ------------------------------------------------------------

_CFB_MAGIC: Final = bytes.fromhex("D0CF11E0A1B11AE1")

_MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xfd7zXZ\x00", "an XZ archive"),
    (b"\x28\xb5\x2f\xfd", "a Zstandard archive"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x7fELF", "a program"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PK\x07\x08", "a ZIP archive"),
)


def _binary_format(data: bytes) -> str | None:
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if re.match(rb"BZh[1-9]1AY&SY", data):
        return "a bzip2 archive"
    if data[:4] == b"RIFF" and data[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return "an image, audio or video file"
    if data[4:8] == b"ftyp":
        return "a video or audio file"
    return None


def _text_format(start: str) -> str | None:
    head = start[:64].lower()
    if head.startswith(("<!doctype html", "<html", "<table", "<head", "<body", "<meta")):
        return "a web page (HTML, as some programs export under an .xls name). " + _RESAVE
    if head.startswith(("<?xml", "<!--", "<workbook", "<ss:workbook")):
        return "an XML document (such as an Excel 2003 XML spreadsheet). " + _RESAVE
    if head.startswith("{\\rtf"):
        return "an RTF document"
    return None


# --- text and CSV ----------------------------------------------------------------------


def _decode_text(data: bytes) -> str:
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        codec = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        try:
            text = data[2:].decode(codec)
        except UnicodeDecodeError:
            _reject(
                FileReason.UNREADABLE_FILE,
                "The file starts like UTF-16 text but is not valid UTF-16; save it as "
                '"CSV UTF-8" and upload again.',
            )
        if "\x00" in text:
            _looks_binary()
        return text
    if b"\x00" in data:
        _reject(
            FileReason.UNREADABLE_FILE,
            "The file contains NUL bytes: it looks binary, or like UTF-16 text without a byte "
            'order mark. Save the contact list as "CSV UTF-8" and upload again.',
        )
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = body.decode("cp1252")
        except UnicodeDecodeError:
            _reject(
                FileReason.UNREADABLE_FILE,
                "The file is not readable text (it is neither UTF-8 nor Windows-1252). Save "
                'the contact list as "CSV UTF-8" and upload again.',
            )
    sample = text[: 1 << 16]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\n\r\x0b\x0c")
    if controls > max(8, len(sample) // 100):
        _looks_binary()
    return text


def _looks_binary() -> NoReturn:
    _reject(
        FileReason.UNREADABLE_FILE,
        "The file does not look like text: it looks binary, or like UTF-16 text without a "
        f'byte order mark. Save the contact list as "CSV UTF-8". {_SUPPORTED}',
    )


_DELIMITERS: Final = (",", ";", "\t", "|")


def _detect_delimiter(text: str) -> str:
    """The candidate seen most often, outside quotes, on the first line with content."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    in_quotes = False
    content = False
    for ch in text[: 1 << 16]:
        if ch == '"':
            in_quotes = not in_quotes
            content = True
        elif in_quotes:
            continue
        elif ch in "\r\n":
            if content:
                break
            counts = dict.fromkeys(_DELIMITERS, 0)
        elif ch in counts:
            counts[ch] += 1
        elif not ch.isspace() and ch != "\ufeff":
            content = True
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(text: str) -> Table:
    delimiter = _detect_delimiter(text)
    records = enumerate(_csv_records(text, delimiter), start=1)
    try:
        for row_number, cells in records:
            if not _is_blank(cells):
                header = _header(cells)
                return Table(header, row_number, _guarded(_csv_rows(records, len(header))))
    except csv.Error as exc:
        _reject(FileReason.UNREADABLE_FILE, f"The CSV could not be read ({exc}). {_SUPPORTED}")
    _reject(FileReason.EMPTY_FILE, "The file has no rows with any content.")


def _csv_records(text: str, delimiter: str) -> Iterator[list[str]]:
    """The CSV's records, as the csv module reads them.

    Without a quote character the csv module only splits lines (at CR, LF or CRLF) and
    then cells at the delimiter, so such text (most exports) is split with str.split,
    in bulk and several times faster. (An empty line then reads as one empty cell, not
    none: a blank row either way.)
    """
    if '"' not in text:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if not lines[-1]:
            lines.pop()  # the line break ending the last record
        return map(str.split, lines, itertools.repeat(delimiter))
    if csv.field_size_limit() < MAX_FILE_BYTES + 1:
        csv.field_size_limit(MAX_FILE_BYTES + 1)
    return csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quotechar='"',
        doublequote=True,
        skipinitialspace=False,
        strict=False,
    )


def _csv_rows(records: Iterator[tuple[int, list[str]]], width: int) -> Iterator[Row]:
    contacts = 0
    for row_number, cells in records:
        if not "".join(cells).strip():  # _is_blank, inlined: this runs for every row
            continue
        contacts += 1
        if contacts > MAX_CONTACT_ROWS:
            _too_many_rows()
        if len(cells) < width:
            cells.extend([""] * (width - len(cells)))
        yield row_number, cells


def _is_blank(cells: list[str]) -> bool:
    # str.strip removes exactly the characters for which str.isspace holds
    return not "".join(cells).strip()


def _clean_header_cell(cell: str) -> str:
    return cell.strip().lstrip("\ufeff").strip()


def _header(cells: list[str]) -> list[str]:
    """Header cells trimmed of spaces and a BOM; trailing empty cells dropped."""
    header = [_clean_header_cell(cell) for cell in cells]
    while header and not header[-1]:
        header.pop()
    if len(header) > MAX_COLUMNS:
        _too_many_columns(len(header))
    return header


def _guarded(rows: Iterator[Row]) -> Iterator[Row]:
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
            f"damaged: {_SAVE_AGAIN}, or save it as CSV.",
        ) from exc


# --- JSON ------------------------------------------------------------------------------


class _NotJson(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _parse_json(text: str, data: bytes) -> object:
    if data.count(b"{") + data.count(b"[") > _MAX_JSON_CONTAINERS:
        _reject(
            FileReason.FILE_TOO_LARGE,
            f"The JSON holds more than {_MAX_JSON_CONTAINERS:,} objects and lists; split it "
            "into smaller files.",
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _NotJson(
            f"The file is not valid JSON: {exc.msg} at line {exc.lineno}, column "
            f"{exc.colno}. Fix it, or upload the contacts as CSV."
        ) from exc
    except RecursionError as exc:
        raise _NotJson("The JSON is nested too deeply to be a list of contacts.") from exc
    except (ValueError, MemoryError) as exc:
        raise _NotJson(f"The JSON could not be read ({type(exc).__name__}).") from exc


def _json_rows(contacts: list[dict[str, object]], header: list[str]) -> Iterator[Row]:
    for index, values in enumerate(contacts):
        yield index + 2, [_json_text(values.get(name)) for name in header]


def _json_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _float_text(value: float) -> str:
    """A number as a person reads it: no ".0", no exponent, no invented digits."""
    if not math.isfinite(value):
        return repr(value)
    if value == 0:
        return "0"
    text = repr(value)
    if "e" in text:
        text = format(Decimal(text), "f")
    return text.removesuffix(".0")


# --- spreadsheets ----------------------------------------------------------------------

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


def _read_spreadsheet(payload: bytes) -> Table:
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


# --- XLSX guard ------------------------------------------------------------------------


class _NeedExactScan(Exception):
    """The fast scan met XML it does not model; scan the part with a real parser."""


class _NeedTokenScan(Exception):
    """Some cells have no `r` reference; scan the part again counting tags."""


_MAX_SHEET_TAGS: Final = MAX_SHEET_CELLS + 2 * 1_048_576  # cells, and rows' start and end


def _too_many_tags() -> NoReturn:
    _reject(
        FileReason.FILE_TOO_LARGE,
        "The first sheet has too many cells and rows to be a contact list; save it with "
        "fewer rows and columns (or as CSV) and upload again.",
    )


# Element names may carry any namespace prefix; calamine only looks at the local name.
_PFX: Final = rb"(?:[^\s<>/:=\"']+:)?"
_PREFIXED_C: Final = re.compile(rb":c[\s/>]")
_PREFIXED_SI: Final = re.compile(rb":si[\s/>]")
# The common shape: unprefixed, `r` first. `[^>/]` keeps self-closing (empty) cells out.
_PLAIN_VALUE_C: Final = re.compile(rb"<c r=\"([A-Z]{1,3})([0-9]{1,7})\"[^>/]*>")
_PLAIN_ANY_C: Final = re.compile(rb"<c[\s/>]")
_PLAIN_EMPTY_C: Final = re.compile(rb"<c\s[^>]*/>")
# Any shape.
_VALUE_C: Final = re.compile(rb"<" + _PFX + rb"c(?:\s[^>]*)?(?<!/)>")
_VALUE_C_REF: Final = re.compile(
    rb"<" + _PFX + rb"c\s[^>]*?(?<=\s)r=\"([A-Z]{1,3})([0-9]{1,7})\"[^>]*(?<!/)>"
)
_QUOTED_TAG: Final = re.compile(rb"<" + _PFX + rb"(?:c|row)\s[^>]*'")
_GT_IN_VALUE: Final = re.compile(rb"=\s*\"[^\"<]*>")
_PREFIXED_ROW: Final = re.compile(rb":row[\s/>]")
_PLAIN_ROW_OR_C: Final = re.compile(rb"<(/?row|c)(?=[\s/>])([^>]*)>")
_ROW_OR_C: Final = re.compile(rb"<(/?" + _PFX + rb"row|" + _PFX + rb"c)(?=[\s/>])([^>]*)>")
_R_ATTRIBUTE: Final = re.compile(rb"\sr\s*=\s*\"([^\"]*)\"")
_SHARED_INDEX: Final = re.compile(rb"\st=\"s\"[^>]*(?<!/)>\s*<" + _PFX + rb"v>\s*([0-9]{1,10})\s*<")
_TEXT_RUN: Final = re.compile(rb">([^<]+)")
_SI_START: Final = re.compile(rb"<" + _PFX + rb"si(?=[\s/>])")
_XML_ENCODING: Final = re.compile(rb"^\s*<\?xml[^>]*\sencoding=[\"']([^\"']*)[\"']")


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


class _Blocks:
    """Splits a stream of XML into blocks that end before a tag boundary."""

    def __init__(self) -> None:
        self._carry = b""
        self.multiplier = 1  # text bytes may grow this much when decoded to UTF-8
        self._first = True

    def feed(self, chunk: bytes) -> bytes:
        if self._first:
            self._first = False
            self._check_start(chunk)
        buffer = self._carry + chunk if self._carry else chunk
        cut = buffer.rfind(b"<")
        if cut < 0 or buffer.find(b">", cut) >= 0:
            cut = len(buffer)
        self._carry = buffer[cut:]
        if len(self._carry) > _MB:
            raise _NeedExactScan
        return buffer[:cut]

    def rest(self) -> bytes:
        rest, self._carry = self._carry, b""
        return rest

    def _check_start(self, chunk: bytes) -> None:
        if chunk.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in chunk[:64]:
            raise _NeedExactScan
        declared = _XML_ENCODING.match(chunk[:200])
        if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
            self.multiplier = 3


class _SharedStringsScan:
    """Upper bounds of the UTF-8 length of each shared string, by index.

    A string is bounded by the bytes from its `<si` to the next one, markup included.
    """

    def __init__(self) -> None:
        self.lengths: array[int] = array("Q")
        self.text = 0
        self._blocks = _Blocks()
        self._current = -1

    def feed(self, chunk: bytes) -> None:
        self._block(self._blocks.feed(chunk))

    def finish(self) -> None:
        self._block(self._blocks.rest())
        if self._current >= 0:
            self._close(self._current)
            self._current = -1

    def _block(self, block: bytes) -> None:
        if b"<!" in block or b"\x00" in block:
            raise _NeedExactScan
        pieces = block.split(b"<si>")
        if len(pieces) - 1 != block.count(b"<si") or _PREFIXED_SI.search(block):
            pieces = _SI_START.split(block)
        if self._current >= 0:
            self._current += len(pieces[0])
        if len(pieces) > 1:
            if self._current >= 0:
                self._close(self._current)
            lengths = [len(piece) + 4 for piece in pieces[1:-1]]
            if self._blocks.multiplier != 1:
                lengths = [length * self._blocks.multiplier for length in lengths]
            self.lengths.extend(lengths)
            self.text += sum(lengths)
            self._current = len(pieces[-1]) + 4

    def _close(self, length: int) -> None:
        length *= self._blocks.multiplier
        self.lengths.append(length)
        self.text += length


class _SheetScan:
    """The used range, cells, text and merged cells of a worksheet's XML, scanned fast.

    Cells are placed by their `r` reference, or (`tokens`) as calamine places them, by
    counting `<row>` and `<c>` tags. Markup these scans do not model (comments, CDATA,
    single-quoted attributes, `>` inside attribute values) raises `_NeedExactScan`; cells
    without a reference raise `_NeedTokenScan` unless `tokens` is set.
    """

    def __init__(self, strings: array[int], tokens: bool) -> None:
        self.extent = _Extent()
        self._strings = strings
        self._longest = max(strings, default=0)
        self._blocks = _Blocks()
        self._tokens = tokens
        self._row = 0
        self._col = 0
        self._tags = 0
        self._run = 0  # length of the text run still open at the end of the last block

    def feed(self, chunk: bytes) -> None:
        self._block(self._blocks.feed(chunk))

    def finish(self) -> None:
        self._block(self._blocks.rest())

    def _block(self, block: bytes) -> None:
        if b"<!" in block or b"\x00" in block:
            raise _NeedExactScan
        if b"'" in block and _QUOTED_TAG.search(block):
            raise _NeedExactScan
        if self._tokens:
            self._place_by_tokens(block)
        else:
            self._place_by_reference(block)
        extent = self.extent
        shared = block.count(b'"s"')  # every t="s", whatever the spacing, and then some
        if shared:
            indexes = list(map(int, _SHARED_INDEX.findall(block)))
            if indexes and max(indexes) >= len(self._strings):
                indexes = [i for i in indexes if i < len(self._strings)]
            extent.text += sum(map(self._strings.__getitem__, indexes))
            extent.text += max(0, shared - len(indexes)) * self._longest
        extent.merges += block.count(b"mergeCell")
        self._measure_text(block)

    def _place_by_reference(self, block: bytes) -> None:
        refs: list[tuple[bytes, bytes]] | None = None
        if not _PREFIXED_C.search(block):
            refs = _PLAIN_VALUE_C.findall(block)
            if len(refs) != block.count(b"<c"):  # `<col`, `<cfRule`... or empty cells
                empty = len(_PLAIN_EMPTY_C.findall(block))
                if len(refs) + empty != len(_PLAIN_ANY_C.findall(block)):
                    refs = None
        if refs is None:
            refs = _VALUE_C_REF.findall(block)
            if len(refs) != len(_VALUE_C.findall(block)):
                raise _NeedTokenScan
        if refs:
            rows = list(map(int, map(itemgetter(1), refs)))  # 1-based
            cols = [_column_index(letters) for letters in set(map(itemgetter(0), refs))]
            self.extent.add_rows(rows, cols, first_row=1)

    def _place_by_tokens(self, block: bytes) -> None:
        if _GT_IN_VALUE.search(block):
            raise _NeedExactScan
        prefixed = _PREFIXED_C.search(block) or _PREFIXED_ROW.search(block)
        tokens = (_ROW_OR_C if prefixed else _PLAIN_ROW_OR_C).findall(block)
        self._tags += len(tokens)
        if self._tags > _MAX_SHEET_TAGS:
            _too_many_tags()
        rows: list[int] = []
        cols: list[int] = []
        row, col = self._row, self._col
        for name, attributes in tokens:
            if name[-1] == 99:  # a cell, `c`
                if b"r" in attributes and (reference := _R_ATTRIBUTE.search(attributes)):
                    cell_row, col = _cell_reference(reference.group(1).decode("latin-1"), row)
                else:
                    cell_row = row
                if attributes[-1:] != b"/":
                    rows.append(cell_row)
                    cols.append(col)
                col += 1
            elif name[0] == 47:  # `/row`
                row, col = row + 1, 0
            else:
                if b"r" in attributes and (reference := _R_ATTRIBUTE.search(attributes)):
                    digits = bytes(c for c in reference.group(1) if 48 <= c <= 57)
                    row = int(digits) - 1 if digits else row
                if attributes[-1:] == b"/":
                    row, col = row + 1, 0
        self._row, self._col = row, col
        self.extent.add_rows(rows, cols)

    def _measure_text(self, block: bytes) -> None:
        extent = self.extent
        times = self._blocks.multiplier
        first = block.find(b"<")
        if first < 0:
            first = len(block)
        if first:  # text continuing the run open at the end of the last block
            self._run += first
            extent.text += first * times
        extent.longest = max(extent.longest, self._run * times)
        runs = _TEXT_RUN.findall(block, first)
        if runs:
            lengths = list(map(len, runs))
            extent.text += sum(lengths) * times
            extent.longest = max(extent.longest, max(lengths) * times)
        last = block.rfind(b">")
        if first < len(block):
            self._run = len(block) - last - 1 if last > block.rfind(b"<") else 0


def _numbers_up_to(limit: int) -> bytes:
    """A regex matching the decimal numbers 1 to `limit`, written without leading zeros."""
    digits = str(limit)
    branches = [rb"[1-9][0-9]{0,%d}" % (len(digits) - 2)] if len(digits) > 1 else []
    for at, digit in enumerate(digits):
        lowest = 1 if at == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - at - 1
            branches.append(
                b"%s[%d-%d][0-9]{%d}" % (digits[:at].encode(), lowest, int(digit) - 1, rest)
            )
    branches.append(digits.encode())
    return b"(?:" + b"|".join(branches) + b")"


# A contact list's sheet uses at most its header row and MAX_CONTACT_ROWS rows.
_QUICK_LAST_ROW: Final = MAX_CONTACT_ROWS + 1
_QUICK_ROWS: Final = _numbers_up_to(_QUICK_LAST_ROW)
_QUICK_LONGEST_RUN: Final = 1 << 16
_LONG_TEXT_RUN: Final = re.compile(rb">[^<]{%d}" % _QUICK_LONGEST_RUN)
_ANY_UNPREFIXED_ROW_OR_C: Final = re.compile(rb"<(?:row|c)[\s/>]")


class _QuickScanUnsure(Exception):
    """The sheet is not of the shape `_QuickSheetScan` vouches for; scan it cell by cell."""


class _QuickSheetScan:
    """Upper bounds of what `_SheetScan` measures, without any work per cell, for a sheet
    of the usual shape: unprefixed cells, each with its reference as first attribute,
    all within the columns of the first block's cells and the first 100,001 rows.

    Each block is only searched for a cell outside those bounds (or of another shape),
    which is not found in such a sheet; then the used range is taken as all those rows
    and columns, the cells as the `<c r=` tags, the text as the blocks' bytes and the
    longest text run as under 128 KB (a piece of 64 KB is searched for). Anything else
    raises `_QuickScanUnsure`, and so does a range this rough that would be rejected.
    """

    def __init__(self, strings: array[int]) -> None:
        self.extent = _Extent()
        self._longest_string = max(strings, default=0)
        self._blocks = _Blocks()
        self._outside: re.Pattern[bytes] | None = None

    def feed(self, chunk: bytes) -> None:
        self._block(self._blocks.feed(chunk))

    def finish(self) -> None:
        self._block(self._blocks.rest())
        extent = self.extent
        if extent.cells:
            extent.top, extent.bottom = 0, _QUICK_LAST_ROW - 1
        if not _first_sheet_fits(extent):
            raise _QuickScanUnsure

    def _block(self, block: bytes) -> None:
        if b"<!" in block or b"\x00" in block or (b"'" in block and _QUOTED_TAG.search(block)):
            raise _QuickScanUnsure
        if _PREFIXED_C.search(block) or _PREFIXED_ROW.search(block):
            raise _QuickScanUnsure
        if self._outside is None and _ANY_UNPREFIXED_ROW_OR_C.search(block):
            self._learn_columns(block)
        if self._outside is not None and self._outside.search(block):
            raise _QuickScanUnsure
        first_tag = block.find(b"<")
        if first_tag < 0:
            first_tag = len(block)
        if first_tag >= _QUICK_LONGEST_RUN or _LONG_TEXT_RUN.search(block):
            raise _QuickScanUnsure
        extent = self.extent
        extent.cells += block.count(b'<c r="')
        extent.merges += block.count(b"mergeCell")
        extent.text += len(block) * self._blocks.multiplier
        extent.text += block.count(b'"s"') * self._longest_string
        # A run may continue from the end of the block before: two pieces, each shorter.
        extent.longest = 2 * _QUICK_LONGEST_RUN * self._blocks.multiplier

    def _learn_columns(self, block: bytes) -> None:
        letters = set(map(itemgetter(0), _PLAIN_VALUE_C.findall(block)))
        if not letters:
            raise _QuickScanUnsure
        columns = sorted(map(_column_index, letters))
        if (columns[-1] - columns[0] + 1) * _QUICK_LAST_ROW > MAX_SHEET_CELLS:
            raise _QuickScanUnsure  # such a range would not fit: measure it exactly
        self.extent.left, self.extent.right = columns[0], columns[-1]
        names = b"|".join(
            _column_name(column).encode() for column in range(columns[0], columns[-1] + 1)
        )
        self._outside = re.compile(
            rb'<c(?=[\s/>])(?! r="(?:' + names + rb")" + _QUICK_ROWS + rb'")'
        )


class _ExactScan:
    """The same measures as the fast scans, with expat, following calamine's rules."""

    def __init__(self, strings: array[int] | None) -> None:
        self.extent = _Extent()
        self.string_lengths: array[int] = array("Q")
        self._strings = strings
        self._longest = max(strings, default=0) if strings is not None else 0
        self._row = 0
        self._col = 0
        self._cell: tuple[int, int] | None = None
        self._cell_shared = False
        self._cell_has_value = False
        self._value_text = ""
        self._in_v = False
        self._in_si = False
        self._elements = 0
        self._run = 0
        self._parser = expat.ParserCreate()
        self._parser.buffer_text = True
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._text
        self._parser.StartDoctypeDeclHandler = self._doctype
        self._parser.EntityDeclHandler = self._doctype

    def feed(self, chunk: bytes) -> None:
        self._parse(chunk, final=False)

    def finish(self) -> None:
        self._parse(b"", final=True)
        self._end_run()

    def _parse(self, chunk: bytes, final: bool) -> None:
        try:
            self._parser.Parse(chunk, final)
        except expat.ExpatError:
            _damaged_xlsx(" (its XML is malformed)")

    def _doctype(self, *_: object) -> None:
        _damaged_xlsx(" (its XML declares a document type)")

    def _end_run(self) -> None:
        self.extent.longest = max(self.extent.longest, self._run)
        self._run = 0

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        self._end_run()
        self._elements += 1
        if self._elements > _MAX_SHEET_TAGS:
            _too_many_tags()
        local = name.partition(":")[2] or name
        if self._cell is not None:
            self._cell_has_value = True
            self._in_v = local == "v"
            return
        if local == "c":
            reference = attributes.get("r")
            if reference is None:
                self._cell = (self._row, self._col)
            else:  # like calamine: a reference moves the column count, not the row count
                self._cell = _cell_reference(reference, self._row)
                self._col = self._cell[1]
            self._cell_shared = attributes.get("t") == "s"
            self._cell_has_value = False
            self._value_text = ""
        elif local == "row":
            reference = attributes.get("r")
            if reference is not None:
                digits = "".join(ch for ch in reference if ch.isdigit())
                self._row = int(digits) - 1 if digits else self._row
        elif local == "si":
            self.string_lengths.append(0)
            self._in_si = True
        elif local == "mergeCell":
            self.extent.merges += 1

    def _end(self, name: str) -> None:
        self._end_run()
        local = name.partition(":")[2] or name
        if self._cell is not None and local != "c":
            self._in_v = False  # the end of an element inside a cell: calamine skips it
        elif local == "c" and self._cell is not None:
            if self._cell_has_value:
                self.extent.add(*self._cell)
                if self._cell_shared and self._strings is not None:
                    digits = self._value_text.strip()
                    if digits.isdigit() and int(digits) < len(self._strings):
                        self.extent.text += self._strings[int(digits)]
                    else:
                        self.extent.text += self._longest
            self._cell = None
            self._col += 1
        elif local == "row":
            self._row += 1
            self._col = 0
        elif local == "si":
            self._in_si = False

    def _text(self, data: str) -> None:
        size = len(data.encode("utf-8", "surrogatepass"))
        self.extent.text += size
        self._run += size
        if self._in_si and self.string_lengths:
            self.string_lengths[-1] += size
        if self._in_v and self._cell_shared and len(self._value_text) < 32:
            self._value_text += data


def _cell_reference(reference: str, row: int) -> tuple[int, int]:
    letters = "".join(ch for ch in reference if ch.isalpha())
    digits = "".join(ch for ch in reference if ch.isdigit())
    col = _column_index(letters.encode()) if letters else 0
    return (int(digits) - 1 if digits else row), max(col, 0)


class _Budget:
    """Bytes inflated so far from an XLSX, against `MAX_EXPANDED_BYTES`."""

    def __init__(self) -> None:
        self.used = 0

    def add(self, size: int) -> None:
        self.used += size
        _check_expanded(self.used)

    @property
    def left(self) -> int:
        return MAX_EXPANDED_BYTES - self.used


def _guard_xlsx(data: bytes) -> bytes:
    """Check an XLSX (or another zip) before calamine opens it; return what to open."""
    archive = _open_zip(data)
    members = {info.filename.replace("\\", "/").lower(): info for info in archive.infolist()}
    if len(members) != len(archive.infolist()):
        _damaged_xlsx(" (it holds the same part twice)")
    if "xl/workbook.xml" not in members:
        _unsupported(_zip_kind(members))
    if "content.xml" in members or "xl/workbook.bin" in members:
        # calamine would try these formats too if reading as XLSX failed
        _damaged_xlsx(" (it mixes spreadsheet formats)")
    budget = _Budget()
    parts: dict[str, bytes] = {}
    for name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        if name in members:
            chunks = _inflate(data, members[name], _MAX_XML_PART_BYTES, _workbook_part_too_large)
            parts[name] = b"".join(chunks)
            budget.add(len(parts[name]))
    estimate = _Estimate(len(parts.get("xl/workbook.xml", b"")) * _WORKBOOK_XML_COST)
    strings_parts = ["xl/sharedstrings.xml"] if "xl/sharedstrings.xml" in members else []
    strings_parts += _relationship_targets(parts, members, "sharedStrings")
    strings_parts = list(dict.fromkeys(strings_parts))
    lengths: array[int] = array("Q")
    for name in strings_parts:
        found, text = _scan_strings(data, members[name], budget)
        if lengths:  # two candidate tables: bound each index by both
            merged = array("Q", map(max, zip(lengths, found, strict=False)))
            longer = lengths if len(lengths) > len(found) else found
            merged.extend(longer[len(merged) :])
            lengths = merged
        else:
            lengths = found
        estimate.add_strings(len(found), text, max(found, default=0))
    sheet_parts = _first_sheet_parts(parts, members)
    memory_left = MAX_WORKBOOK_MEMORY - estimate.total
    costliest = _Extent()
    for name in sheet_parts:
        extent = _scan_sheet(data, members[name], lengths, budget, memory_left)
        _check_first_sheet(extent)
        if _sheet_cost(extent) > _sheet_cost(costliest):
            costliest = extent
    estimate.add_sheet(costliest)
    done = set(parts) | set(strings_parts) | set(sheet_parts)
    for name, info in members.items():
        if name not in done:
            for chunk in _inflate(data, info, budget.left):
                budget.add(len(chunk))
    _check_memory(estimate.total, whole_workbook=False)
    return data


def _sheet_cost(extent: _Extent) -> int:
    probe = _Estimate()
    probe.add_sheet(extent)
    return probe.total


def _check_expanded(total: int) -> None:
    if total > MAX_EXPANDED_BYTES:
        _expanded_too_far()


def _expanded_too_far() -> NoReturn:
    _reject(
        FileReason.FILE_TOO_LARGE,
        f"The file expands to more than {MAX_EXPANDED_BYTES // _MB} MB when opened; save it "
        "with fewer rows and columns (or as CSV) and upload again.",
    )


def _workbook_part_too_large() -> NoReturn:
    _reject(
        FileReason.FILE_TOO_LARGE,
        f"The workbook's list of sheets and names is larger than {_MAX_XML_PART_BYTES // _MB} "
        "MB; save the contact list alone in a new workbook (or as CSV) and upload again.",
    )


def _open_zip(data: bytes) -> zipfile.ZipFile:
    if data.count(b"PK\x05\x06") != 1:
        _damaged_xlsx()
    if data.count(b"PK\x01\x02") > 5 * _MAX_ZIP_MEMBERS:
        _damaged_xlsx(" (it holds too many parts)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception:
        _damaged_xlsx()
    if len(infos) > _MAX_ZIP_MEMBERS:
        _damaged_xlsx(" (it holds too many parts)")
    if infos and min(info.header_offset for info in infos) != 0:
        _damaged_xlsx()
    return archive


def _zip_kind(members: dict[str, zipfile.ZipInfo]) -> str:
    if "xl/workbook.bin" in members:
        return "an Excel binary workbook (XLSB). " + _RESAVE
    if "word/document.xml" in members:
        return "a Word document (DOCX)"
    if "ppt/presentation.xml" in members:
        return "a PowerPoint presentation (PPTX)"
    if "content.xml" in members:
        return "an OpenDocument file (such as ODS). " + _RESAVE
    return "a ZIP archive"


def _inflate(
    data: bytes, info: zipfile.ZipInfo, limit: int, too_large: Callable[[], NoReturn] | None = None
) -> Iterator[bytes]:
    """The member's content in chunks, inflated from its raw data whatever its sizes say.

    Past `limit` bytes, calls `too_large` (by default, rejects the file as too large).
    """
    if too_large is None:
        too_large = _expanded_too_far
    offset = info.header_offset
    if data[offset : offset + 4] != b"PK\x03\x04" or offset + 30 > len(data):
        _damaged_xlsx()
    name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
    start = offset + 30 + name_length + extra_length
    raw = memoryview(data)[start : start + info.compress_size]
    if info.flag_bits & 0x1:
        _password_protected()
    produced = 0
    if info.compress_type == zipfile.ZIP_STORED:
        for at in range(0, len(raw), _INFLATE_CHUNK):
            chunk = bytes(raw[at : at + _INFLATE_CHUNK])
            produced += len(chunk)
            if produced > limit:
                too_large()
            yield chunk
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        _damaged_xlsx(" (it uses an unusual compression)")
    inflater = zlib.decompressobj(-15)
    position = 0
    pending = b""
    while not inflater.eof:
        if not pending:
            if position >= len(raw):
                _damaged_xlsx()
            pending = bytes(raw[position : position + _INFLATE_INPUT])
            position += len(pending)
        try:
            chunk = inflater.decompress(pending, _INFLATE_CHUNK)
        except zlib.error:
            _damaged_xlsx()
        pending = inflater.unconsumed_tail
        if chunk:
            produced += len(chunk)
            if produced > limit:
                too_large()
            yield chunk


def _scan_strings(data: bytes, info: zipfile.ZipInfo, budget: _Budget) -> tuple[array[int], int]:
    """Bounds of the length of each shared string, and of their total."""
    used = budget.used
    scan = _SharedStringsScan()
    try:
        for chunk in _inflate(data, info, budget.left):
            budget.add(len(chunk))
            scan.feed(chunk)
        scan.finish()
        return scan.lengths, scan.text
    except _NeedExactScan:
        budget.used = used
    exact = _ExactScan(None)
    for chunk in _inflate(data, info, budget.left):
        budget.add(len(chunk))
        exact.feed(chunk)
    exact.finish()
    return exact.string_lengths, sum(exact.string_lengths)


def _scan_sheet(
    data: bytes, info: zipfile.ZipInfo, strings: array[int], budget: _Budget, memory_left: int
) -> _Extent:
    """The first sheet's measures: bounds from the quick scan when they are within the
    limits and `memory_left`, else exact ones from the fast (or the XML parser's) scan."""
    used = budget.used
    quick = _QuickSheetScan(strings)
    try:
        for chunk in _inflate(data, info, budget.left):
            budget.add(len(chunk))
            quick.feed(chunk)
        quick.finish()
        if _sheet_cost(quick.extent) <= memory_left:
            return quick.extent
    except _QuickScanUnsure:
        pass
    budget.used = used
    for tokens in (False, True):
        scan = _SheetScan(strings, tokens)
        try:
            for chunk in _inflate(data, info, budget.left):
                budget.add(len(chunk))
                scan.feed(chunk)
                _check_first_sheet(scan.extent)
            scan.finish()
            return scan.extent
        except _NeedTokenScan:
            budget.used = used
        except _NeedExactScan:
            budget.used = used
            break
    exact = _ExactScan(strings)
    for chunk in _inflate(data, info, budget.left):
        budget.add(len(chunk))
        exact.feed(chunk)
        _check_first_sheet(exact.extent)
    exact.finish()
    return exact.extent


_SHEET_TAG: Final = re.compile(rb"<" + _PFX + rb"sheet\s([^>]*)>")
_SHEET_RID: Final = re.compile(rb"(?:^|\s)(?:r|relationships):id=\"([^\"]*)\"")
_RELATIONSHIP: Final = re.compile(rb"<" + _PFX + rb"Relationship\s([^>]*)>")
_ATTRIBUTE: Final = re.compile(rb"([^\s=]+)\s*=\s*\"([^\"]*)\"")
_SAFE_TARGET: Final = re.compile(r"[A-Za-z0-9_./-]+")


def _relationships(parts: dict[str, bytes]) -> list[dict[bytes, bytes]]:
    found = []
    for match in _RELATIONSHIP.finditer(parts.get("xl/_rels/workbook.xml.rels", b"")):
        found.append(dict(_ATTRIBUTE.findall(match.group(1))))
    return found


def _member_for_target(target: bytes, members: dict[str, zipfile.ZipInfo]) -> str | None:
    try:
        path = target.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not _SAFE_TARGET.fullmatch(path) or ".." in path or "//" in path or "/./" in path:
        return None
    if path.startswith("/xl/"):
        path = path[1:]
    elif not path.startswith("xl/"):
        path = "xl/" + path.removeprefix("./")
    path = path.lower()
    return path if path in members else None


def _relationship_targets(
    parts: dict[str, bytes], members: dict[str, zipfile.ZipInfo], kind: str
) -> list[str]:
    found = []
    for attributes in _relationships(parts):
        if attributes.get(b"Type", b"").endswith(b"/" + kind.encode()):
            member = _member_for_target(attributes.get(b"Target", b""), members)
            if member is not None:
                found.append(member)
    return found


def _first_sheet_parts(parts: dict[str, bytes], members: dict[str, zipfile.ZipInfo]) -> list[str]:
    """The part calamine reads as the first sheet, or every XML part if unsure."""
    workbook = parts.get("xl/workbook.xml", b"")
    first = _SHEET_TAG.search(workbook)
    relationship = _SHEET_RID.search(first.group(1)) if first else None
    if relationship is not None:
        targets = [
            attributes.get(b"Target", b"")
            for attributes in _relationships(parts)
            if attributes.get(b"Id") == relationship.group(1)
        ]
        if targets:
            member = _member_for_target(targets[-1], members)
            if member is not None:
                return [member]
    ignore = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedstrings.xml"}
    return [name for name in members if name.endswith(".xml") and name not in ignore]


# --- XLS guard -------------------------------------------------------------------------

_FREESECT: Final = 0xFFFFFFFF
_ENDOFCHAIN: Final = 0xFFFFFFFE


@dataclass
class _Stream:
    data: bytes
    offsets: list[int]  # file offset of each `unit` bytes of the stream
    unit: int

    def file_offset(self, position: int) -> int:
        return self.offsets[position // self.unit] + position % self.unit


def _u32_table(raw: bytes) -> array[int]:
    table = array("I")
    table.frombytes(raw[: len(raw) // 4 * 4])
    if sys.byteorder == "big":
        table.byteswap()
    return table


class _Cfb:
    """A compound file (the container of .xls files), checked as calamine will read it."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 512:
            _damaged_xls()
        shift, mini_shift = struct.unpack_from("<HH", data, 30)
        if shift not in (9, 12) or mini_shift != 6:
            _damaged_xls()
        self.data = data
        self.sector = sector = 1 << shift
        self.sectors = max(0, (len(data) - sector) // sector)
        (dir_sectors, fat_sectors, dir_start) = struct.unpack_from("<III", data, 40)
        (mini_fat_start, mini_fat_sectors, difat_start, difat_sectors) = struct.unpack_from(
            "<IIII", data, 60
        )
        if max(dir_sectors, fat_sectors, mini_fat_sectors, difat_sectors) > self.sectors:
            _damaged_xls()
        difat = list(struct.unpack_from("<109I", data, 76))
        sector_id, hops = difat_start, 0
        while sector_id not in (_FREESECT, _ENDOFCHAIN):
            hops += 1
            if sector_id >= self.sectors or hops > self.sectors:
                _damaged_xls()
            entries = _u32_table(self._sector(sector_id))
            difat.extend(entries[:-1])
            sector_id = entries[-1]
        fat_ids = [sid for sid in difat if sid != _FREESECT]
        if len(fat_ids) > self.sectors or any(sid >= self.sectors for sid in fat_ids):
            _damaged_xls()
        self.fat = _u32_table(b"".join(self._sector(sid) for sid in fat_ids))
        directory = self._read(dir_start, self.fat, self.sector, self.sectors, None).data
        self.entries: list[tuple[str, int, int]] = []
        for at in range(0, len(directory) - 127, 128):
            name = directory[at : at + 64].decode("utf-16-le", "ignore").split("\x00")[0]
            start = struct.unpack_from("<I", directory, at + 116)[0]
            size = struct.unpack_from("<I" if sector == 512 else "<Q", directory, at + 120)[0]
            self.entries.append((name, start, size))
        if not self.entries or directory[66] != 5:  # the first entry is the root storage
            _damaged_xls()
        _, root_start, root_size = self.entries[0]
        self.mini_stream = self._read(root_start, self.fat, self.sector, self.sectors, root_size)
        mini_fat = self._read(mini_fat_start, self.fat, self.sector, self.sectors, None).data
        self.mini_fat = _u32_table(mini_fat)

    def _sector(self, sector_id: int) -> bytes:
        start = (sector_id + 1) * self.sector
        return self.data[start : start + self.sector]

    def _chain(self, start: int, table: array[int], count: int) -> list[int]:
        chain: list[int] = []
        sector_id = start
        while sector_id != _ENDOFCHAIN:
            if sector_id >= count or sector_id >= len(table) or len(chain) >= count:
                _damaged_xls()
            chain.append(sector_id)
            sector_id = table[sector_id]
        return chain

    def _read(
        self, start: int, table: array[int], unit: int, count: int, size: int | None
    ) -> _Stream:
        chain = self._chain(start, table, count)
        if size is not None and size > len(chain) * unit:
            _damaged_xls()
        if unit == self.sector:
            offsets = [(sid + 1) * unit for sid in chain]
            data = b"".join(self.data[o : o + unit] for o in offsets)
        else:
            offsets = [self.mini_stream.file_offset(sid * unit) for sid in chain]
            data = b"".join(self.data[o : o + unit] for o in offsets)
        return _Stream(data if size is None else data[:size], offsets, unit)

    def stream(self, name: str) -> _Stream | None:
        for entry_name, start, size in self.entries:
            if entry_name == name:
                if size < 4096:
                    count = len(self.mini_stream.data) // 64
                    return self._read(start, self.mini_fat, 64, count, size)
                return self._read(start, self.fat, self.sector, self.sectors, size)
        return None


def _guard_xls(data: bytes) -> bytes:
    """Check an .xls file; return a copy for calamine with hazardous records blanked."""
    try:
        return _checked_xls(data)
    except FileRejected:
        raise
    except (struct.error, IndexError, ValueError, OverflowError):
        _damaged_xls()


def _checked_xls(data: bytes) -> bytes:
    cfb = _Cfb(data)
    names = [name.lower() for name, _, _ in cfb.entries]
    if "encryptedpackage" in names:
        _password_protected()
    if names.count("workbook") > 1 or ("workbook" not in names and names.count("book") > 1):
        _damaged_xls(" (it holds two workbooks)")
    found = cfb.stream("Workbook") or cfb.stream("Book")
    if found is None:
        if "worddocument" in names:
            _unsupported("a Word document (DOC)")
        if "powerpoint document" in names:
            _unsupported("a PowerPoint presentation (PPT)")
        _unsupported("an Office file that is not an Excel workbook")
    stream = found
    patched = bytearray(data)

    def patch(position: int, content: bytes) -> None:
        for at, byte in enumerate(content, start=position):
            patched[stream.file_offset(at)] = byte

    estimate = _scan_biff(stream.data, patch)
    _check_memory(estimate, whole_workbook=True)
    return bytes(patched)


def _records(stream: bytes, start: int) -> Iterator[tuple[int, int, int]]:
    """(type, data offset, data length) of each record from `start`; CONTINUEs skipped."""
    position = start
    end = len(stream)
    while position < end:
        if position + 4 > end:
            _damaged_xls()
        kind, length = struct.unpack_from("<HH", stream, position)
        if position + 4 + length > end:
            _damaged_xls()
        if kind != 0x003C:
            yield kind, position + 4, length
        position += 4 + length


def _continued(stream: bytes, position: int, length: int) -> list[bytes]:
    """A record's data and that of the CONTINUE records after it."""
    pieces = [stream[position : position + length]]
    position += length
    while position + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, position)
        if kind != 0x003C or position + 4 + size > len(stream):
            break
        pieces.append(stream[position + 4 : position + 4 + size])
        position += 4 + size
    return pieces


def _sst_lengths(pieces: list[bytes]) -> array[int]:
    """Upper bounds of the UTF-8 length of each string of a BIFF8 SST record.

    Reads as many strings as are declared and present (calamine stops at the end too).
    """
    if len(pieces[0]) < 8:
        _damaged_xls()
    declared = struct.unpack_from("<i", pieces[0], 4)[0]
    lengths: array[int] = array("Q")
    piece, data, at = 0, pieces[0], 8

    def next_piece() -> bytes | None:
        nonlocal piece
        piece += 1
        return pieces[piece] if piece < len(pieces) else None

    for _ in range(max(declared, 0)):
        if at >= len(data):
            following = next_piece()
            if following is None:
                break
            data, at = following, 0
        if len(data) - at < 3:
            _damaged_xls(" (its string table is truncated)")
        chars, flags = struct.unpack_from("<HB", data, at)
        at += 3
        extra = 0
        if flags & 0x8:
            extra += 4 * struct.unpack_from("<H", data, at)[0]
            at += 2
        if flags & 0x4:
            extra += struct.unpack_from("<i", data, at)[0]
            at += 4
        wide = flags & 0x1
        remaining = chars
        while remaining:
            taken = min((len(data) - at) >> wide, remaining)
            at += taken << wide
            remaining -= taken
            if remaining:
                following = next_piece()
                if not following:
                    _damaged_xls(" (its string table is truncated)")
                data, wide, at = following, following[0] & 0x1, 1
        while extra > 0:
            taken = min(extra, len(data) - at)
            at += taken
            extra -= taken
            if extra:
                following = next_piece()
                if following is None:
                    _damaged_xls(" (its string table is truncated)")
                data, at = following, 0
        lengths.append(chars * 3)
    return lengths


def _scan_biff(stream: bytes, patch: Callable[[int, bytes], None]) -> int:
    """Scan every sheet of a BIFF workbook stream; return calamine's memory estimate."""
    sheets: list[int] = []
    strings = array("Q")
    names = 0
    for kind, at, length in _records(stream, 0):
        if kind == 0x000A:  # EOF of the workbook globals
            break
        if kind == 0x002F and length >= 2 and struct.unpack_from("<H", stream, at)[0]:
            _password_protected()
        elif kind == 0x0085 and length >= 4:  # BoundSheet8
            sheets.append(struct.unpack_from("<I", stream, at)[0])
            if len(sheets) > _MAX_XLS_SHEETS:
                _damaged_xls(" (it has too many sheets)")
        elif kind == 0x00FC:  # SST
            strings = _sst_lengths(_continued(stream, at, length))
        elif kind == 0x0018:  # Lbl (defined name)
            names += length
    estimate = _Estimate(names * _WORKBOOK_XML_COST)
    estimate.add_strings(len(strings), sum(strings))
    scanned = 0
    for index, start in enumerate(sheets):
        if start > len(stream):
            _damaged_xls()
        values, formulas, end = _scan_biff_sheet(stream, start, strings, patch)
        scanned += end - start
        if scanned > len(stream):  # sheets overlap: calamine would read them over and over
            _damaged_xls(" (its sheets overlap)")
        if index == 0:
            _check_first_sheet(values)
        # calamine copies the first sheet's range again when it is asked for it
        estimate.add_sheet(values, copies=2 if index == 0 else 1)
        estimate.total += formulas.cells * _FORMULA_CELL_COST
        estimate.total += formulas.dense * (_DENSE_CELL_COST * 3 // 4)
    return estimate.total


# A formula's token stream replaced by the shortest one: the integer 0 (cce=3, PtgInt).
_FORMULA_ZERO: Final = struct.pack("<HBH", 3, 0x1E, 0)
_CELL_RECORDS: Final = frozenset({0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006, 0x0207})


def _scan_biff_sheet(
    stream: bytes, start: int, strings: array[int], patch: Callable[[int, bytes], None]
) -> tuple[_Extent, _Extent, int]:
    """The value cells and formula cells of the sheet at `start`, and where it ends."""
    values = _Extent()
    formulas = _Extent()
    formula_at = (0, 0)
    end = len(stream)
    for kind, at, length in _records(stream, start):
        if kind == 0x000A:  # EOF
            end = at + length
            break
        if kind == 0x0200:  # DIMENSIONS: calamine reserves rows x columns cells from it
            patch(at, bytes(length))
        elif kind == 0x00BD and length >= 6:  # MulRk
            row, first = struct.unpack_from("<HH", stream, at)
            last = struct.unpack_from("<H", stream, at + length - 2)[0]
            if last >= first and length == 6 + 6 * (last - first + 1):
                values.add(row, first)
                values.add(row, last)
                values.cells += last - first - 1
        elif kind == 0x00E5 and length >= 2:  # MergeCells
            values.merges += struct.unpack_from("<H", stream, at)[0]
        elif kind in _CELL_RECORDS and length >= 4:
            row, col = struct.unpack_from("<HH", stream, at)
            if kind == 0x0207:  # String: the text result of the formula before it
                row, col = formula_at
            values.add(row, col)
            if kind == 0x0006:  # Formula: keep its cached value, not its tokens
                formula_at = (row, col)
                formulas.add(row, col)
                if length >= 25 and struct.unpack_from("<H", stream, at + 20)[0] >= 3:
                    patch(at + 20, _FORMULA_ZERO)
                elif length >= 22:
                    patch(at + 20, bytes(2))
            elif kind == 0x0204 and length >= 8:  # Label
                values.text += 3 * struct.unpack_from("<H", stream, at + 6)[0]
            elif kind == 0x0207 and length >= 2:
                values.text += 3 * struct.unpack_from("<H", stream, at)[0]
            elif kind == 0x00FD and length >= 10:  # LabelSst
                index = struct.unpack_from("<I", stream, at + 6)[0]
                values.text += strings[index] if index < len(strings) else 0
    return values, formulas, end
