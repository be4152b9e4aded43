"""The XLSX guard: an XLSX (a zip of XML parts) checked before calamine opens it.

See spreadsheets.py for why, and what is checked. Each part is inflated and scanned once,
as a stream, in blocks of about a megabyte cut at tag boundaries; the work on a block is
done by regular expressions and bytes methods (in C), never per byte in Python. What
would make a scan do per-tag work in Python (cells placed by counting among cells that
carry a reference, odd quoting, comments and CDATA sections) is allowed a bounded amount,
and so is every kind of tag: whatever its structure, a part is decided within a bounded
time and memory, without a second pass.
"""

from __future__ import annotations

import codecs
import io
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from itertools import compress, repeat
from operator import add, itemgetter
from typing import Final, NoReturn, Protocol

from batch_calls.ingest.reasons import FileReason
from batch_calls.ingest.table import MB, RESAVE, reject, unsupported
from batch_calls.ingest.workbook_limits import (
    MAX_EXPANDED_BYTES,
    MAX_SHEET_CELLS,
    STRING_COST,
    WORKBOOK_XML_COST,
    Estimate,
    Extent,
    check_first_sheet,
    check_memory,
    column_index,
    damaged_xlsx,
    password_protected,
)

_MAX_XML_PART_BYTES: Final = 4 * MB  # xl/workbook.xml and its relationships
_MAX_ZIP_MEMBERS: Final = 10_000
_INFLATE_CHUNK: Final = 1 << 20
_INFLATE_INPUT: Final = 1 << 16

# Start tags of a first sheet: each value cell may hold three (`c`, `is`, `t`), and each
# row one. Counted in C on every block, so the per-tag work below is bounded too.
_MAX_SHEET_TAGS: Final = 3 * MAX_SHEET_CELLS + 1_048_576
# Tags read one by one in Python (cells placed by counting among referenced ones, odd
# quoting): about a second of work. Writers put a reference on every cell (or none).
_MAX_SLOW_TAGS: Final = 2_000_000
# Comments, CDATA sections and processing instructions in a part (Python work each).
_MAX_SPECIAL_MARKUP: Final = 200_000
_MAX_TAG_BYTES: Final = 16 * MB
# How far from a block's end its last row tag is looked for.
_TAIL_BYTES: Final = 4096


def _too_many_tags() -> NoReturn:
    reject(
        FileReason.FILE_TOO_LARGE,
        "The first sheet has too many cells and rows to be a contact list; save it with "
        "fewer rows and columns (or as CSV) and upload again.",
    )


def _written_unusually(what: str) -> NoReturn:
    reject(
        FileReason.UNREADABLE_FILE,
        f"The workbook's XML holds {what}, which spreadsheet programs do not write; open it "
        "in your spreadsheet program and save it again (as .xlsx), or save it as CSV.",
    )


# Element names may carry any namespace prefix; calamine only looks at the local name.
_PFX: Final = rb"(?:[^\s<>/:=\"']+:)?"
_PREFIXED_C: Final = re.compile(rb":c[\s/>]")
_PREFIXED_SI: Final = re.compile(rb":si[\s/>]")
# The common shape: unprefixed, `r` first. `[^>/]` keeps self-closing (empty) cells out.
_PLAIN_VALUE_C: Final = re.compile(rb"<c r=\"([A-Z]{1,3})([0-9]{1,7})\"[^<>/]*>")
_PLAIN_ANY_C: Final = re.compile(rb"<c[\s/>]")
_PLAIN_EMPTY_C: Final = re.compile(rb"<c\s[^<>]*/>")
# Any shape.
_VALUE_C: Final = re.compile(rb"<" + _PFX + rb"c(?:\s[^<>]*)?(?<!/)>")
_VALUE_C_REF: Final = re.compile(
    rb"<" + _PFX + rb"c\s[^<>]*?(?<=\s)r=\"([A-Z]{1,3})([0-9]{1,7})\"[^<>]*(?<!/)>"
)
_QUOTED_TAG: Final = re.compile(rb"<" + _PFX + rb"(?:c|row)\s[^<>]*'")
_GT_IN_VALUE: Final = re.compile(rb"=\s*\"[^\"<>]*>")
_CELL_WITH_R: Final = re.compile(rb"<c\s[^<>]*?(?<=\s)r\s*=")
_ROW_NUMBER: Final = re.compile(rb"<row\s[^<>]*?(?<=\s)r\s*=\s*\"([0-9]{1,7})\"")
_ROW_END: Final = re.compile(rb"</" + _PFX + rb"row\s*>|<" + _PFX + rb"row(?:\s[^<>]*)?/>")
_SELF_CLOSED_ROW: Final = re.compile(rb"<row(?:\s[^<>]*)?/>")
_ROW_WITH_R: Final = re.compile(rb"<" + _PFX + rb"row\s[^<>]*(?<=\s)r\s*=")
# A row or cell tag, its quoted values read whole (they may hold `>`).
_ROW_OR_C: Final = re.compile(
    rb"<(/?" + _PFX + rb"row|" + _PFX + rb"c)(?=[\s/>])((?:[^<>\"']|\"[^<\"]*\"|'[^<']*')*)>"
)
_R_ATTRIBUTE: Final = re.compile(rb"\sr\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_SHARED_INDEX: Final = re.compile(
    rb"\st=\"s\"[^<>]*(?<!/)>\s*<" + _PFX + rb"v>\s*([0-9]{1,10})\s*<"
)
_TEXT_RUN: Final = re.compile(rb">([^<]+)")
_PREFIXED_TAG: Final = re.compile(rb"</?([^\s<>/:=\"'!?]+:)")
_MAX_PREFIXES: Final = 4
_SI_START: Final = re.compile(rb"<" + _PFX + rb"si(?=[\s/>])")
_XML_ENCODING: Final = re.compile(rb"^\s*<\?xml[^>]*\sencoding=[\"']([^\"']*)[\"']")
_SPECIAL: Final = re.compile(rb"<[!?]")
_CLOSED_TAG: Final = re.compile(rb"<(?:[^<>\"']|\"[^<\"]*\"|'[^<']*')*>")
_SPECIAL_ENDS: Final = ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>"), (b"<?", b"?>"))
_TEXT_ONLY: Final = bytes.maketrans(b"<>", b"__")


class _PartScan:
    """Feeds an XML part, as it is inflated, to `_plain` in blocks of tags and text that
    end at a tag boundary. Comments and processing instructions are taken out, a CDATA
    section's text goes to `_text` (its content may look like markup), and a document
    type declaration (entities) gets the file rejected."""

    def __init__(self) -> None:
        self.multiplier = 1  # text bytes may grow this much when decoded to UTF-8
        self._pieces: list[bytes] = []  # an unfinished tag, or the start of special markup
        self._held = 0
        self._inside: bytes | None = None  # the end of the special markup we are inside
        self._cdata = False
        self._specials = 0
        self._decoder: codecs.IncrementalDecoder | None = None
        self._first = True

    def feed(self, chunk: bytes) -> None:
        if self._first:
            self._first = False
            self._check_start(chunk)
        if self._decoder is not None:
            chunk = self._decoder.decode(chunk).encode("utf-8", "surrogatepass")
        if self._pieces:
            self._pieces.append(chunk)
            self._held += len(chunk)
            if self._inside is None:  # a tag held whole until its end arrives
                if self._held > _MAX_TAG_BYTES:
                    reject(
                        FileReason.FILE_TOO_LARGE,
                        f"The workbook's XML holds a tag of more than {_MAX_TAG_BYTES // MB} "
                        "MB; save the contact list in a new workbook (or as CSV) and upload "
                        "again.",
                    )
                if chunk.find(b">") < 0:
                    return
            chunk = b"".join(self._pieces)
            self._pieces, self._held = [], 0
        self._split(chunk)

    def finish(self) -> None:
        rest = b"".join(self._pieces)
        self._pieces = []
        if rest and self._inside is None:
            self._plain(rest)

    def _plain(self, block: bytes) -> None:
        raise NotImplementedError

    def _split(self, buffer: bytes) -> None:
        parts: list[bytes] = []  # the buffer's plain markup, in one block for `_plain`
        # Cheap tests first: memchr finds a lone byte at memory speed, where the
        # patterns take a step at every `<` (some are guarded the same way below).
        may_hold_specials = b"!" in buffer or b"?" in buffer
        at = 0
        while at < len(buffer):
            if self._inside is not None:
                at = self._skip_special(buffer, at, parts)
                continue
            special = _SPECIAL.search(buffer, at) if may_hold_specials else None
            if special is not None:
                parts.append(buffer[at : special.start()])
                at = self._enter_special(buffer, special.start())
                continue
            end = len(buffer)
            cut = buffer.rfind(b"<", at)
            if cut >= 0 and not _CLOSED_TAG.match(buffer, cut):
                end = cut  # a tag that goes on in the next chunk
                self._hold(buffer[cut:])
            parts.append(buffer[at:end])
            break
        block = b"".join(parts)
        if block:
            self._plain(block)

    def _hold(self, rest: bytes) -> None:
        self._pieces, self._held = [rest], len(rest)

    def _enter_special(self, buffer: bytes, at: int) -> int:
        head = buffer[at : at + 9]
        for start, end in _SPECIAL_ENDS:
            if head.startswith(start):
                self._specials += 1
                if self._specials > _MAX_SPECIAL_MARKUP:
                    _written_unusually(
                        f"more than {_MAX_SPECIAL_MARKUP:,} comments and CDATA sections"
                    )
                self._inside, self._cdata = end, start == b"<![CDATA["
                return at + len(start)
        if len(head) < 9 and (b"<![CDATA[".startswith(head) or b"<!--".startswith(head)):
            self._hold(buffer[at:])  # too little to tell what it is yet
            return len(buffer)
        damaged_xlsx(" (its XML declares a document type)")

    def _skip_special(self, buffer: bytes, at: int, parts: list[bytes]) -> int:
        """Skip a comment or processing instruction; a CDATA section's content goes to
        `parts` as plain text (with `<` and `>` made harmless)."""
        assert self._inside is not None
        end = buffer.find(self._inside, at)
        if end < 0:  # goes on in the next chunk; hold what may be the start of its end
            end = max(at, len(buffer) - len(self._inside) + 1)
            if end < len(buffer):
                self._hold(buffer[end:])
            resume = len(buffer)
        else:
            resume = end + len(self._inside)
            self._inside = None
        if self._cdata:
            parts.append(buffer[at:end].translate(_TEXT_ONLY))
        return resume

    def _check_start(self, chunk: bytes) -> None:
        if chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
            self._decoder = codecs.getincrementaldecoder("utf-16")()
            return
        declared = _XML_ENCODING.match(chunk[:200])
        if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
            self.multiplier = 3

    def _check_block(self, block: bytes) -> None:
        if b"\x00" in block:
            damaged_xlsx(" (its XML is malformed)")


class _SharedStringsScan(_PartScan):
    """Upper bounds of the UTF-8 length of each shared string, by index.

    A string is bounded by the bytes from its `<si` to the next one, markup included.
    Rejects the workbook as soon as the strings alone would take too much memory.
    """

    def __init__(self) -> None:
        super().__init__()
        self.lengths: array[int] = array("Q")
        self.text = 0
        self._current = -1

    def finish(self) -> None:
        super().finish()
        if self._current >= 0:
            self._close(self._current)
            self._current = -1

    def _plain(self, block: bytes) -> None:
        self._check_block(block)
        pieces = block.split(b"<si>")
        if len(pieces) - 1 != block.count(b"<si") or _PREFIXED_SI.search(block):
            pieces = _SI_START.split(block)
        if self._current >= 0:
            self._current += len(pieces[0])
        if len(pieces) > 1:
            if self._current >= 0:
                self._close(self._current)
            lengths = [len(piece) + 4 for piece in pieces[1:-1]]
            if self.multiplier != 1:
                lengths = [length * self.multiplier for length in lengths]
            self.lengths.extend(lengths)
            self.text += sum(lengths)
            self._current = len(pieces[-1]) + 4
            check_memory(len(self.lengths) * STRING_COST + self.text, whole_workbook=False)

    def _close(self, length: int) -> None:
        length *= self.multiplier
        self.lengths.append(length)
        self.text += length


class _SheetScan(_PartScan):
    """The used range, cells, text and merged cells of a worksheet's XML, in one pass.

    Cells are placed as calamine places them: by their `r` reference, or by counting
    `<row>` and `<c>` tags. Each block is read the cheapest way its shape allows: cells
    that all carry a reference are placed from the references; a block without any `r`
    is placed by counting in bulk; anything else tag by tag, within `_MAX_SLOW_TAGS`.
    """

    def __init__(self, strings: array[int]) -> None:
        super().__init__()
        self.extent = Extent()
        self._strings = strings
        self._longest_string = max(strings, default=0)
        self._row = 0  # calamine's count of rows, and of cells in the current row
        self._col = 0
        self._tags = 0
        self._slow_tags = 0
        self._prefixes: set[bytes] = set()
        self._run = 0  # length of the text run still open at the end of the last block

    def _plain(self, block: bytes) -> None:
        self._check_block(block)
        if b"<" not in block:  # text going on from the block before
            self._run += len(block)
            self.extent.text += len(block) * self.multiplier
            self.extent.longest = max(self.extent.longest, self._run * self.multiplier)
            return
        self._tags += block.count(b"<") - block.count(b"</")
        if self._tags > _MAX_SHEET_TAGS:
            _too_many_tags()
        if b":" in block:
            block = self._without_prefixes(block)
        odd = (b"'" in block and _QUOTED_TAG.search(block)) or _GT_IN_VALUE.search(block)
        if odd or (b":" in block and (_PREFIXED_C.search(block) or b":row" in block)):
            self._place_by_tokens(block)
        elif b'<c r="' in block or _CELL_WITH_R.search(block):
            if not self._place_by_reference(block):
                self._place_by_tokens(block)
        elif not self._place_by_counting(block):
            self._place_by_tokens(block)
        self._measure_text(block)
        if self.extent.cells > self.extent.dense:
            damaged_xlsx(" (it holds several cells at the same place)")

    def _without_prefixes(self, block: bytes) -> bytes:
        """The block with the namespace prefixes of its tags taken out (calamine reads
        local names), for up to `_MAX_PREFIXES` prefixes; more are left in."""
        for prefix in self._prefixes:
            block = block.replace(b"<" + prefix, b"<").replace(b"</" + prefix, b"</")
        if b":" not in block or _PREFIXED_TAG.search(block) is None:
            return block
        found = set(_PREFIXED_TAG.findall(block)) - self._prefixes
        if len(self._prefixes) + len(found) > _MAX_PREFIXES:
            return block
        self._prefixes |= found
        for prefix in found:
            block = block.replace(b"<" + prefix, b"<").replace(b"</" + prefix, b"</")
        return block

    def _place_by_reference(self, block: bytes) -> bool:
        """Place the cells by their references, if each value cell has one."""
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
                return False
        if refs:
            rows = list(map(int, map(itemgetter(1), refs)))  # 1-based
            cols = [column_index(letters) for letters in set(map(itemgetter(0), refs))]
            self.extent.add_rows(rows, cols, first_row=1)
        self._follow_counts(block)
        return True

    def _follow_counts(self, block: bytes) -> None:
        """Bring calamine's row and cell counts past a block whose cells are placed: from
        the last row tag with a reference near its end, else from the rows ended before."""
        tail = block.find(b"<", max(0, len(block) - _TAIL_BYTES))
        tail = len(block) if tail < 0 else tail
        tokens = _ROW_OR_C.findall(block, tail)
        for at in range(len(tokens) - 1, -1, -1):
            name, attributes = tokens[at]
            if name[-1] == 119 and name[0] != 47 and _R_ATTRIBUTE.search(attributes):  # `row`
                self._row, self._col = self._walk(tokens[at:], self._row, 0)
                return
        if b"=" not in block or _ROW_WITH_R.search(block, 0, tail) is None:
            ends = len(_ROW_END.findall(block, 0, tail))
            row, col = (self._row + ends, 0) if ends else (self._row, self._col)
            self._row, self._col = self._walk(tokens, row, col)
            return
        self._row, self._col = self._walk(self._slow_tokens(block), self._row, self._col)

    def _place_by_counting(self, block: bytes) -> bool:
        """Place cells by counting, in bulk, in a block where no cell has an `r` and every
        cell holds a value: a row's cells are its first columns."""
        if _PREFIXED_C.search(block) or b":row" in block:
            return False
        opened, plain = block.count(b"<c>"), block.count(b"<c ")
        if block.count(b"<c") != opened + plain or _PLAIN_EMPTY_C.search(block):
            return False  # empty cells, or other tags starting with `c`
        self_closed = b"/>" in block and _SELF_CLOSED_ROW.search(block) is not None
        # Each piece but the last ends a row.
        pieces = _ROW_END.split(block) if self_closed else block.split(b"</row>")
        counts = list(map(bytes.count, pieces, repeat(b"<c>")))
        if plain:
            counts = list(map(add, counts, map(bytes.count, pieces, repeat(b"<c "))))
        rows = self._row_numbers(block, pieces, self_closed)
        if rows is None:
            return False
        ends = counts[:]  # the column count at each piece's end
        ends[0] += self._col
        if any(counts):
            used = list(compress(rows, counts))
            extent = self.extent
            extent.cells += sum(counts)
            extent.top, extent.bottom = min(extent.top, *used), max(extent.bottom, *used)
            extent.left = min(extent.left, 0 if len(used) > 1 or not counts[0] else self._col)
            extent.right = max(extent.right, max(compress(ends, counts)) - 1)
        self._row = rows[-1]
        self._col = ends[-1]
        return True

    def _row_numbers(
        self, block: bytes, pieces: list[bytes], self_closed: bool
    ) -> list[int] | None:
        """calamine's row count in each piece of a block cut at the ends of rows: one more
        than the piece before, or the number its row tag gives. None if rows are not
        all numbered plainly, one in each piece, or some are numbered and empty."""
        if b"=" not in block or (b" r=" not in block and _ROW_WITH_R.search(block) is None):
            return list(range(self._row, self._row + len(pieces)))
        if self_closed:
            return None
        starts = list(map(bytes.count, pieces, repeat(b"<row")))
        if max(starts) > 1 or (len(pieces) > 2 and min(starts[1:-1]) == 0):
            return None
        numbers = _ROW_NUMBER.findall(block)
        if len(numbers) != sum(starts):
            return None
        rows = [] if starts[0] else [self._row]
        rows.extend(map((-1).__add__, map(int, numbers)))
        if not starts[-1] and len(pieces) > 1:
            rows.append(rows[-1] + 1)
        return rows

    def _slow_tokens(self, block: bytes) -> list[tuple[bytes, bytes]]:
        tokens = _ROW_OR_C.findall(block)
        self._slow_tags += len(tokens)
        if self._slow_tags > _MAX_SLOW_TAGS:
            reject(
                FileReason.FILE_TOO_LARGE,
                f"The first sheet has more than {_MAX_SLOW_TAGS:,} rows and cells written "
                "without their cell references; save it again in your spreadsheet program "
                "(as .xlsx, or as CSV) with fewer rows and columns, and upload again.",
            )
        return tokens

    def _place_by_tokens(self, block: bytes) -> None:
        rows: list[int] = []
        cols: list[int] = []
        self._row, self._col = self._walk(
            self._slow_tokens(block), self._row, self._col, rows, cols
        )
        self.extent.add_rows(rows, cols)

    @staticmethod
    def _walk(
        tokens: list[tuple[bytes, bytes]],
        row: int,
        col: int,
        rows: list[int] | None = None,
        cols: list[int] | None = None,
    ) -> tuple[int, int]:
        """calamine's row and cell counts after `tokens`; each value cell's place goes to
        `rows` and `cols`, if given."""
        for name, attributes in tokens:
            if name[-1] == 99:  # a cell, `c`
                if b"r" in attributes and (reference := _R_ATTRIBUTE.search(attributes)):
                    cell_row, col = _cell_reference(reference, row)
                else:
                    cell_row = row
                if rows is not None and cols is not None and attributes[-1:] != b"/":
                    rows.append(cell_row)
                    cols.append(col)
                col += 1
            elif name[0] == 47:  # `/row`
                row, col = row + 1, 0
            else:
                if b"r" in attributes and (reference := _R_ATTRIBUTE.search(attributes)):
                    row = _row_number(reference, row)
                if attributes[-1:] == b"/":
                    row, col = row + 1, 0
        return row, col

    def _measure_text(self, block: bytes) -> None:
        extent = self.extent
        shared = block.count(b'"s"')  # every t="s", whatever the spacing, and then some
        if shared:
            indexes = list(map(int, _SHARED_INDEX.findall(block)))
            if indexes and max(indexes) >= len(self._strings):
                indexes = [i for i in indexes if i < len(self._strings)]
            extent.text += sum(map(self._strings.__getitem__, indexes))
            extent.text += max(0, shared - len(indexes)) * self._longest_string
        extent.merges += block.count(b"mergeCell")
        first = block.find(b"<")  # text going on from the block before
        runs = list(map(len, _TEXT_RUN.findall(block)))
        extent.text += (first + sum(runs)) * self.multiplier
        self._run += first
        longest = max(self._run, max(runs, default=0)) * self.multiplier
        extent.longest = max(extent.longest, longest)
        last = block.rfind(b">")
        self._run = len(block) - last - 1 if last > block.rfind(b"<") else 0


def _row_number(reference: re.Match[bytes], row: int) -> int:
    digits = bytes(c for c in (reference.group(1) or reference.group(2) or b"") if 48 <= c <= 57)
    return int(digits) - 1 if digits else row


def _cell_reference(reference: re.Match[bytes], row: int) -> tuple[int, int]:
    """Like calamine: a reference moves the column count, not the row count."""
    text = reference.group(1) or reference.group(2) or b""
    letters = bytes(c for c in text.upper() if 65 <= c <= 90)
    col = column_index(letters) if letters else 0
    return _row_number(reference, row), max(col, 0)


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
        damaged_xlsx(" (it holds the same part twice)")
    if "xl/workbook.xml" not in members:
        unsupported(_zip_kind(members))
    if "content.xml" in members or "xl/workbook.bin" in members:
        # calamine would try these formats too if reading as XLSX failed
        damaged_xlsx(" (it mixes spreadsheet formats)")
    budget = _Budget()
    parts: dict[str, bytes] = {}
    for name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        if name in members:
            chunks = _inflate(data, members[name], _MAX_XML_PART_BYTES, _workbook_part_too_large)
            parts[name] = b"".join(chunks)
            budget.add(len(parts[name]))
    estimate = Estimate(len(parts.get("xl/workbook.xml", b"")) * WORKBOOK_XML_COST)
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
    costliest = Extent()
    for name in sheet_parts:
        extent = _scan_sheet(data, members[name], lengths, budget)
        check_first_sheet(extent)
        if _sheet_cost(extent) > _sheet_cost(costliest):
            costliest = extent
    estimate.add_sheet(costliest)
    done = set(parts) | set(strings_parts) | set(sheet_parts)
    for name, info in members.items():
        if name not in done:
            for chunk in _inflate(data, info, budget.left):
                budget.add(len(chunk))
    check_memory(estimate.total, whole_workbook=False)
    return data


def _sheet_cost(extent: Extent) -> int:
    probe = Estimate()
    probe.add_sheet(extent)
    return probe.total


def _check_expanded(total: int) -> None:
    if total > MAX_EXPANDED_BYTES:
        _expanded_too_far()


def _expanded_too_far() -> NoReturn:
    reject(
        FileReason.FILE_TOO_LARGE,
        f"The file expands to more than {MAX_EXPANDED_BYTES // MB} MB when opened; save it "
        "with fewer rows and columns (or as CSV) and upload again.",
    )


def _workbook_part_too_large() -> NoReturn:
    reject(
        FileReason.FILE_TOO_LARGE,
        f"The workbook's list of sheets and names is larger than {_MAX_XML_PART_BYTES // MB} "
        "MB; save the contact list alone in a new workbook (or as CSV) and upload again.",
    )


def _open_zip(data: bytes) -> zipfile.ZipFile:
    if data.count(b"PK\x05\x06") != 1:
        damaged_xlsx()
    if data.count(b"PK\x01\x02") > 5 * _MAX_ZIP_MEMBERS:
        damaged_xlsx(" (it holds too many parts)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception:
        damaged_xlsx()
    if len(infos) > _MAX_ZIP_MEMBERS:
        damaged_xlsx(" (it holds too many parts)")
    if infos and min(info.header_offset for info in infos) != 0:
        damaged_xlsx()
    return archive


def _zip_kind(members: dict[str, zipfile.ZipInfo]) -> str:
    if "xl/workbook.bin" in members:
        return "an Excel binary workbook (XLSB). " + RESAVE
    if "word/document.xml" in members:
        return "a Word document (DOCX)"
    if "ppt/presentation.xml" in members:
        return "a PowerPoint presentation (PPTX)"
    if "content.xml" in members:
        return "an OpenDocument file (such as ODS). " + RESAVE
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
        damaged_xlsx()
    name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
    start = offset + 30 + name_length + extra_length
    raw = memoryview(data)[start : start + info.compress_size]
    if info.flag_bits & 0x1:
        password_protected()
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
        damaged_xlsx(" (it uses an unusual compression)")
    inflater = zlib.decompressobj(-15)
    position = 0
    pending = b""
    while not inflater.eof:
        if not pending:
            if position >= len(raw):
                damaged_xlsx()
            pending = bytes(raw[position : position + _INFLATE_INPUT])
            position += len(pending)
        try:
            chunk = inflater.decompress(pending, _INFLATE_CHUNK)
        except zlib.error:
            damaged_xlsx()
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
    sheet: Extent | None = None,
) -> None:
    """Inflate the member into `scan` within the budget, then finish the scan. `sheet`:
    the scan's measures of a first sheet, checked against the limits as they grow."""
    for chunk in _inflate(data, info, budget.left):
        budget.add(len(chunk))
        scan.feed(chunk)
        if sheet is not None:
            check_first_sheet(sheet)
    scan.finish()


def _scan_strings(data: bytes, info: zipfile.ZipInfo, budget: _Budget) -> tuple[array[int], int]:
    """Bounds of the length of each shared string, and of their total."""
    scan = _SharedStringsScan()
    _feed_member(scan, data, info, budget)
    return scan.lengths, scan.text


def _scan_sheet(data: bytes, info: zipfile.ZipInfo, strings: array[int], budget: _Budget) -> Extent:
    """The first sheet's measures, checked against the limits as they grow."""
    scan = _SheetScan(strings)
    _feed_member(scan, data, info, budget, sheet=scan.extent)
    return scan.extent


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
