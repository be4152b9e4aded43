"""Turn an uploaded contact-list file into a `Table`: a header and its rows, as text.

Formats are recognised by their content; the file name is only a hint (it decides between
JSON and CSV for text starting with `[` or `{`). Supported: CSV (any common delimiter and
encoding), XLSX and XLS (first sheet only, read with python-calamine) and JSON in the seed
"contacts" shape. Anything else is rejected with a `FileRejected` whose message says what
to do; no other exception escapes `read_table` or the row iterator. Spreadsheets are
read by spreadsheets.py after the checks of xlsx_guard.py and xls_guard.py, imported only
when a workbook arrives (python-calamine and the guards' patterns cost a CSV's start-up
time for nothing).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterator
from typing import Final, NoReturn

from batch_calls.ingest.reasons import FileReason
from batch_calls.ingest.table import (
    MAX_COLUMNS,
    MAX_CONTACT_ROWS,
    MAX_FILE_BYTES,
    MB,
    RESAVE,
    SUPPORTED,
    FileRejected,
    Row,
    Table,
    clean_header_cell,
    cyclic_gc_paused,
    float_text,
    header_cells,
    is_blank,
    reject,
    too_many_columns,
    too_many_rows,
    unsupported,
)

_MAX_JSON_CONTAINERS: Final = 1_000_000
# A text's first character that is not blank space (found where it is, where str.strip
# would copy the whole text), and how much from there on tells the text's format.
_NOT_BLANK: Final = re.compile("[^ \t\r\n\x0b\x0c\ufeff]")
_HEAD_CHARS: Final = 64


def read_table(data: bytes, filename: str | None = None) -> Table:
    """Read a contact list. A CSV is split whole, in bulk; a workbook's rows are read
    lazily, while the caller iterates them.

    Raises `FileRejected` for a file that cannot be used; iterating `rows` may raise it too
    (too many rows, or a file that turns out to be damaged further down).
    """
    if len(data) > MAX_FILE_BYTES:
        reject(
            FileReason.FILE_TOO_LARGE,
            f"The file is {len(data) / MB:.1f} MB; the limit is {MAX_FILE_BYTES // MB} MB. "
            "Split the contact list into smaller files.",
        )
    if not data:
        reject(FileReason.EMPTY_FILE, "The file is empty.")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06", _CFB_MAGIC)):
        return _read_workbook(data)
    looks_like = _binary_format(data)
    if looks_like is not None:
        unsupported(looks_like)
    text = _decode_text(data)
    content = _NOT_BLANK.search(text)
    if content is None:
        reject(FileReason.EMPTY_FILE, "The file is empty (it holds only blank space).")
    start = text[content.start() : content.start() + _HEAD_CHARS]
    looks_like = _text_format(start)
    if looks_like is not None:
        unsupported(looks_like)
    named_json = filename is not None and filename.lower().endswith(".json")
    if start[:1] in ("[", "{") and (named_json or filename is None):
        try:
            contacts = _parse_json(text, data)
        except _NotJson as exc:
            if named_json:
                reject(FileReason.UNREADABLE_FILE, exc.message)
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
            reject(
                FileReason.UNREADABLE_FILE,
                'The JSON must be a list of contacts or an object with a "contacts" list.',
            )
        contacts = contacts["contacts"]
    if not isinstance(contacts, list):
        reject(
            FileReason.UNREADABLE_FILE,
            f'The JSON "contacts" must be a list of contact objects, not {_json_type(contacts)}.',
        )
    if not contacts:
        reject(FileReason.EMPTY_FILE, "The JSON holds no contacts.")
    if len(contacts) > MAX_CONTACT_ROWS:
        too_many_rows(len(contacts))
    columns: dict[str, None] = {"phone_number": None}
    top_level: dict[str, int] = {}
    from_metadata: dict[str, int] = {}
    flat: list[dict[str, object]] = []
    for number, contact in enumerate(contacts):
        if not isinstance(contact, dict):
            reject(
                FileReason.UNREADABLE_FILE,
                f"contacts[{number}] is {_json_type(contact)}, not an object with a phoneNumber.",
            )
        values: dict[str, object] = {}
        for key, value in contact.items():
            if key == "metadata" and (value is None or isinstance(value, dict)):
                continue
            column = "phone_number" if key == "phoneNumber" else key
            if column in values:
                reject(
                    FileReason.DUPLICATE_COLUMN,
                    f'contacts[{number}] has both "phoneNumber" and "phone_number"; keep one.',
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
            too_many_columns(len(columns))
    for key, number in from_metadata.items():
        if key in top_level:
            _metadata_collision(key, number, top_level[key])
    header = list(columns)
    return Table([clean_header_cell(name) for name in header], 1, _json_rows(flat, header))


# --- errors ---------------------------------------------------------------------------


def _metadata_collision(key: str, meta_contact: int, field_contact: int) -> NoReturn:
    reject(
        FileReason.DUPLICATE_COLUMN,
        f'The metadata key "{key}" (contacts[{meta_contact}]) has the same name as a contact '
        f"field (contacts[{field_contact}]); rename one of them.",
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
    head = start[:_HEAD_CHARS].lower()
    if head.startswith(("<!doctype html", "<html", "<table", "<head", "<body", "<meta")):
        return "a web page (HTML, as some programs export under an .xls name). " + RESAVE
    if head.startswith(("<?xml", "<!--", "<workbook", "<ss:workbook")):
        return "an XML document (such as an Excel 2003 XML spreadsheet). " + RESAVE
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
            reject(
                FileReason.UNREADABLE_FILE,
                "The file starts like UTF-16 text but is not valid UTF-16; save it as "
                '"CSV UTF-8" and upload again.',
            )
        if "\x00" in text:
            _looks_binary()
        return text
    if b"\x00" in data:
        reject(
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
            reject(
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
    reject(
        FileReason.UNREADABLE_FILE,
        "The file does not look like text: it looks binary, or like UTF-16 text without a "
        f'byte order mark. Save the contact list as "CSV UTF-8". {SUPPORTED}',
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
    try:
        with cyclic_gc_paused():
            records = _csv_records(text, delimiter)
    except csv.Error as exc:
        reject(FileReason.UNREADABLE_FILE, f"The CSV could not be read ({exc}). {SUPPORTED}")
    except MemoryError as exc:
        raise FileRejected(
            FileReason.FILE_TOO_LARGE,
            "The file is too large to read (memory ran out); split it into smaller files.",
        ) from exc
    for index, cells in enumerate(records):
        if not is_blank(cells):
            header = header_cells(cells)
            rows, widest_row = _csv_rows(records, index + 1, len(header))
            return Table(header, index + 1, rows, widest_row)
    reject(FileReason.EMPTY_FILE, "The file has no rows with any content.")


# Where str.splitlines breaks a line but the csv module does not (it breaks at CR and LF).
_BREAKS_CSV_KEEPS: Final = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def _csv_records(text: str, delimiter: str) -> list[list[str]]:
    """The CSV's records, as the csv module reads them.

    Without a quote character the csv module only splits lines (at CR, LF or CRLF) and
    then cells at the delimiter, so such text (most exports) is split with str.split,
    in bulk and several times faster. (An empty line then reads as one empty cell, not
    none: a blank row either way.)
    """
    if '"' not in text:
        if any(char in text for char in _BREAKS_CSV_KEEPS):
            lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            if not lines[-1]:
                lines.pop()  # the line break ending the last record
        else:
            lines = text.splitlines()  # the same lines, in a third of the time
        return list(map(str.split, lines, itertools.repeat(delimiter)))
    if csv.field_size_limit() < MAX_FILE_BYTES + 1:
        csv.field_size_limit(MAX_FILE_BYTES + 1)
    return list(
        csv.reader(
            io.StringIO(text, newline=""),
            delimiter=delimiter,
            quotechar='"',
            doublequote=True,
            skipinitialspace=False,
            strict=False,
        )
    )


def _csv_rows(records: list[list[str]], header_row: int, width: int) -> tuple[Iterator[Row], int]:
    """The records below the header that are not blank, with their row numbers (short
    ones padded to the header's width), and the most characters a row holds.

    Selected in bulk, by iterators that run in C: this is every row of the file.
    """
    below = records[header_row:]
    if min(map(len, below), default=width) < width:
        for cells in below:
            if len(cells) < width:
                cells.extend([""] * (width - len(cells)))
    joined = list(map("".join, below))
    # A record is blank when its cells, joined, are white space only (is_blank).
    content = list(map(str.strip, joined))
    if len(below) > MAX_CONTACT_ROWS and len(content) - content.count("") > MAX_CONTACT_ROWS:
        too_many_rows()
    row_numbers = itertools.compress(itertools.count(header_row + 1), content)
    rows = zip(row_numbers, itertools.compress(below, content), strict=False)
    return rows, max(map(len, joined), default=0)


# --- JSON ------------------------------------------------------------------------------


class _NotJson(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _parse_json(text: str, data: bytes) -> object:
    if data.count(b"{") + data.count(b"[") > _MAX_JSON_CONTAINERS:
        reject(
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
        return float_text(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _read_workbook(data: bytes) -> Table:
    """An XLSX or XLS file, checked by its guard before calamine opens it."""
    # Imported here, not at the top: see the module's docstring.
    from batch_calls.ingest import spreadsheets  # noqa: PLC0415

    if data.startswith(_CFB_MAGIC):
        from batch_calls.ingest.xls_guard import guard_xls  # noqa: PLC0415

        return spreadsheets.read_spreadsheet(guard_xls(data))
    from batch_calls.ingest.xlsx_guard import guard_xlsx  # noqa: PLC0415

    return spreadsheets.read_spreadsheet(guard_xlsx(data))
