"""The XLSX guard: an XLSX (a zip of XML parts) checked before calamine opens it.

See spreadsheets.py for why, and what is checked.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from operator import itemgetter
from typing import Final, NoReturn, Protocol
from xml.parsers import expat

from batch_calls.ingest.readers import (
    _MB,
    _RESAVE,
    _reject,
    _unsupported,
)
from batch_calls.ingest.reasons import FileReason
from batch_calls.ingest.spreadsheets import (
    _WORKBOOK_XML_COST,
    MAX_EXPANDED_BYTES,
    MAX_SHEET_CELLS,
    MAX_WORKBOOK_MEMORY,
    _check_first_sheet,
    _check_memory,
    _column_index,
    _column_name,
    _damaged_xlsx,
    _Estimate,
    _Extent,
    _first_sheet_fits,
    _password_protected,
)
from batch_calls.ingest.table import MAX_CONTACT_ROWS

_MAX_XML_PART_BYTES: Final = 4 * _MB  # xl/workbook.xml and its relationships
_MAX_ZIP_MEMBERS: Final = 10_000
_INFLATE_CHUNK: Final = 1 << 20
_INFLATE_INPUT: Final = 1 << 16


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
    longest text run as two blocks (each block holds a tag). Anything else raises
    `_QuickScanUnsure`, and so does a range this rough that would be rejected.
    """

    def __init__(self, strings: array[int]) -> None:
        self.extent = _Extent()
        self._longest_string = max(strings, default=0)
        self._blocks = _Blocks()
        self._outside: re.Pattern[bytes] | None = None
        self._longest_block = 0

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
        if _PREFIXED_C.search(block):  # cells `_outside` would not see
            raise _QuickScanUnsure
        if self._outside is None and _ANY_UNPREFIXED_ROW_OR_C.search(block):
            self._learn_columns(block)
        if self._outside is not None and self._outside.search(block):
            raise _QuickScanUnsure
        if block and b"<" not in block:
            raise _QuickScanUnsure  # a text run through a whole block: measure it exactly
        extent = self.extent
        extent.cells += block.count(b'<c r="')
        extent.merges += block.count(b"mergeCell")
        extent.text += len(block) * self._blocks.multiplier
        if self._longest_string:
            extent.text += block.count(b'"s"') * self._longest_string
        # A text run lies within a block, or continues from the end of the block before.
        self._longest_block = max(self._longest_block, len(block))
        extent.longest = 2 * self._longest_block * self._blocks.multiplier

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


def guard_xlsx(data: bytes) -> bytes:
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


class _Scan(Protocol):
    def feed(self, chunk: bytes) -> None: ...

    def finish(self) -> None: ...


def _feed_member(
    scan: _Scan,
    data: bytes,
    info: zipfile.ZipInfo,
    budget: _Budget,
    sheet: _Extent | None = None,
) -> None:
    """Inflate the member into `scan` within the budget, then finish the scan. `sheet`:
    the scan's measures of a first sheet, checked against the limits as they grow."""
    for chunk in _inflate(data, info, budget.left):
        budget.add(len(chunk))
        scan.feed(chunk)
        if sheet is not None:
            _check_first_sheet(sheet)
    scan.finish()


def _scan_strings(data: bytes, info: zipfile.ZipInfo, budget: _Budget) -> tuple[array[int], int]:
    """Bounds of the length of each shared string, and of their total."""
    used = budget.used
    scan = _SharedStringsScan()
    try:
        _feed_member(scan, data, info, budget)
        return scan.lengths, scan.text
    except _NeedExactScan:
        budget.used = used
    exact = _ExactScan(None)
    _feed_member(exact, data, info, budget)
    return exact.string_lengths, sum(exact.string_lengths)


def _scan_sheet(
    data: bytes, info: zipfile.ZipInfo, strings: array[int], budget: _Budget, memory_left: int
) -> _Extent:
    """The first sheet's measures: bounds from the quick scan when they are within the
    limits and `memory_left`, else exact ones from the fast (or the XML parser's) scan."""
    used = budget.used
    quick = _QuickSheetScan(strings)
    try:
        _feed_member(quick, data, info, budget)
        if _sheet_cost(quick.extent) <= memory_left:
            return quick.extent
    except (_QuickScanUnsure, _NeedExactScan):  # the latter: a tag of over a megabyte
        pass
    budget.used = used
    for tokens in (False, True):
        scan = _SheetScan(strings, tokens)
        try:
            _feed_member(scan, data, info, budget, sheet=scan.extent)
            return scan.extent
        except _NeedTokenScan:
            budget.used = used
        except _NeedExactScan:
            budget.used = used
            break
    exact = _ExactScan(strings)
    _feed_member(exact, data, info, budget, sheet=exact.extent)
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
