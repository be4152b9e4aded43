"""The XLS guard: a BIFF8 workbook in a compound file, checked before calamine opens it.

See spreadsheets.py for why, and what is checked.
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass
from typing import Final, NoReturn

from batch_calls.ingest.table import FileRejected, unsupported
from batch_calls.ingest.workbook_limits import (
    DENSE_CELL_COST,
    FORMULA_CELL_COST,
    WORKBOOK_XML_COST,
    Estimate,
    Extent,
    check_first_sheet,
    check_memory,
    damaged_xls,
    password_protected,
)

_MAX_XLS_SHEETS: Final = 1_000

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
            damaged_xls()
        shift, mini_shift = struct.unpack_from("<HH", data, 30)
        if shift not in (9, 12) or mini_shift != 6:
            damaged_xls()
        self.data = data
        self.sector = sector = 1 << shift
        self.sectors = max(0, (len(data) - sector) // sector)
        (dir_sectors, fat_sectors, dir_start) = struct.unpack_from("<III", data, 40)
        (mini_fat_start, mini_fat_sectors, difat_start, difat_sectors) = struct.unpack_from(
            "<IIII", data, 60
        )
        if max(dir_sectors, fat_sectors, mini_fat_sectors, difat_sectors) > self.sectors:
            damaged_xls()
        difat = list(struct.unpack_from("<109I", data, 76))
        sector_id, visited = difat_start, set()
        while sector_id not in (_FREESECT, _ENDOFCHAIN):
            # a loop, which calamine would follow for ever
            if sector_id >= self.sectors or sector_id in visited:
                damaged_xls()
            visited.add(sector_id)
            entries = _u32_table(self._sector(sector_id))
            difat.extend(entries[:-1])
            sector_id = entries[-1]
        fat_ids = [sid for sid in difat if sid != _FREESECT]
        if len(fat_ids) > self.sectors or any(sid >= self.sectors for sid in fat_ids):
            damaged_xls()
        self.fat = _u32_table(b"".join(self._sector(sid) for sid in fat_ids))
        directory = self._read(dir_start, self.fat, self.sector, self.sectors, None).data
        self.entries: list[tuple[str, int, int]] = []
        for at in range(0, len(directory) - 127, 128):
            name = directory[at : at + 64].decode("utf-16-le", "ignore").split("\x00")[0]
            start = struct.unpack_from("<I", directory, at + 116)[0]
            size = struct.unpack_from("<I" if sector == 512 else "<Q", directory, at + 120)[0]
            self.entries.append((name, start, size))
        if not self.entries or directory[66] != 5:  # the first entry is the root storage
            damaged_xls()
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
                damaged_xls()
            chain.append(sector_id)
            sector_id = table[sector_id]
        return chain

    def _read(
        self, start: int, table: array[int], unit: int, count: int, size: int | None
    ) -> _Stream:
        chain = self._chain(start, table, count)
        if size is not None and size > len(chain) * unit:
            damaged_xls()
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


def guard_xls(data: bytes) -> bytes:
    """Check an .xls file; return a copy for calamine with hazardous records blanked."""
    try:
        return _checked_xls(data)
    except FileRejected:
        raise
    except (struct.error, IndexError, ValueError, OverflowError):
        damaged_xls()


def _checked_xls(data: bytes) -> bytes:
    cfb = _Cfb(data)
    names = [name.lower() for name, _, _ in cfb.entries]
    if "encryptedpackage" in names:
        password_protected()
    if names.count("workbook") > 1 or ("workbook" not in names and names.count("book") > 1):
        damaged_xls(" (it holds two workbooks)")
    found = cfb.stream("Workbook") or cfb.stream("Book")
    if found is None:
        if "worddocument" in names:
            unsupported("a Word document (DOC)")
        if "powerpoint document" in names:
            unsupported("a PowerPoint presentation (PPT)")
        unsupported("an Office file that is not an Excel workbook")
    stream = found
    blanked = _Blanked(stream.data)
    estimate = _scan_biff(stream.data, blanked)
    check_memory(estimate, whole_workbook=True)
    if blanked.damaged:
        damaged_xls()
    if not blanked.changed:
        return data
    patched = bytearray(data)
    unit = stream.unit
    for index, offset in enumerate(stream.offsets):
        piece = blanked.data[index * unit : (index + 1) * unit]
        patched[offset : offset + len(piece)] = piece
    return bytes(patched)


class _Blanked:
    """The workbook stream with the records calamine must not see blanked."""

    def __init__(self, stream: bytes) -> None:
        self.data = bytearray(stream)
        self.changed = False
        self.damaged = False  # holds a record calamine cannot read

    def blank(self, position: int, content: bytes) -> None:
        self.data[position : position + len(content)] = content
        self.changed = True


# calamine attaches the CONTINUE records after a record to it, and takes them off the
# front of a list one by one when it reads them (quadratic in their number). A 10 MB
# file written by Excel continues a record at most about 1,300 times.
_MAX_CONTINUES: Final = 4_096
_RECORD_HEADER: Final = struct.Struct("<HH")
_CONTINUE: Final = 0x003C
_EOF: Final = 0x000A
_BOF: Final = 0x0809


def _too_many_continues() -> NoReturn:
    damaged_xls(" (a record in it is continued too many times)")


def _continued(stream: bytes, position: int, length: int) -> list[bytes]:
    """A record's data and that of the CONTINUE records after it."""
    pieces = [stream[position : position + length]]
    position += length
    while position + 4 <= len(stream):
        kind, size = _RECORD_HEADER.unpack_from(stream, position)
        if kind != _CONTINUE or position + 4 + size > len(stream):
            break
        pieces.append(stream[position + 4 : position + 4 + size])
        if len(pieces) > _MAX_CONTINUES:
            _too_many_continues()
        position += 4 + size
    return pieces


_STRING_HEADER: Final = struct.Struct("<HB")


def _sst_lengths(pieces: list[bytes]) -> array[int]:
    """Upper bounds of the UTF-8 length of each string of a BIFF8 SST record.

    Read as calamine reads them: every string that is there, whatever count the record
    declares; an empty CONTINUE record is an empty string.
    """
    if len(pieces[0]) < 8:
        damaged_xls()
    lengths: array[int] = array("Q")
    append = lengths.append
    string_header = _STRING_HEADER.unpack_from
    piece, data, at, size = 0, pieces[0], 8, len(pieces[0])

    def next_piece() -> bytes:
        nonlocal piece
        piece += 1
        if piece >= len(pieces):
            damaged_xls(" (its string table is truncated)")
        return pieces[piece]

    while True:
        if at >= size:
            if piece + 1 >= len(pieces):
                break
            data, at = next_piece(), 0
            size = len(data)
            if not size:
                append(0)
                continue
        if size - at < 3:
            damaged_xls(" (its string table is truncated)")
        chars, flags = string_header(data, at)
        at += 3
        end = at + (chars << (flags & 0x1))
        if not flags & 0xC and end <= size:  # most strings: plain, within one record
            at = end
            append(3 * chars)
            continue
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
            taken = min((size - at) >> wide, remaining)
            at += taken << wide
            remaining -= taken
            if remaining:
                data = next_piece()
                if not data:
                    damaged_xls(" (its string table is truncated)")
                size, wide, at = len(data), data[0] & 0x1, 1
        while extra > 0:
            taken = min(extra, size - at)
            at += taken
            extra -= taken
            if extra:
                data, at = next_piece(), 0
                size = len(data)
        append(3 * chars)
    return lengths


def _scan_biff(stream: bytes, blanked: _Blanked) -> int:
    """Scan every sheet of a BIFF workbook stream; return calamine's memory estimate."""
    sheets: list[int] = []
    strings = array("Q")
    names = 0
    position, end = 0, len(stream)
    continues = 0
    while position < end:
        if position + 4 > end:
            damaged_xls()
        kind, length = _RECORD_HEADER.unpack_from(stream, position)
        at = position + 4
        position = at + length
        if position > end:
            damaged_xls()
        if kind == _CONTINUE:
            continues += 1
            if continues > _MAX_CONTINUES:
                _too_many_continues()
            continue
        continues = 0
        if kind == _EOF:  # of the workbook globals
            break
        if kind == 0x002F and length >= 2 and struct.unpack_from("<H", stream, at)[0]:
            password_protected()
        elif kind == 0x0085 and length >= 4:  # BoundSheet8
            sheets.append(struct.unpack_from("<I", stream, at)[0])
            if len(sheets) > _MAX_XLS_SHEETS:
                damaged_xls(" (it has too many sheets)")
        elif kind == 0x00FC:  # SST
            strings = _sst_lengths(_continued(stream, at, length))
        elif kind == 0x0018:  # Lbl (defined name)
            names += length
    estimate = Estimate(names * WORKBOOK_XML_COST)
    estimate.add_strings(len(strings), sum(strings))
    scanned = 0
    for index, start in enumerate(sheets):
        if start > len(stream):
            damaged_xls()
        values, formulas, sheet_end = _scan_biff_sheet(stream, start, strings, blanked)
        scanned += sheet_end - start
        if scanned > len(stream):  # sheets overlap: calamine would read them over and over
            damaged_xls(" (its sheets overlap)")
        if index == 0:
            check_first_sheet(values)
        # calamine copies the first sheet's range again when it is asked for it
        estimate.add_sheet(values, copies=2 if index == 0 else 1)
        estimate.total += formulas.cells * FORMULA_CELL_COST
        estimate.total += formulas.dense * (DENSE_CELL_COST * 3 // 4)
    return estimate.total


# A formula's token stream replaced by the shortest one: the integer 0 (cce=3, PtgInt).
_FORMULA_ZERO: Final = struct.pack("<HBH", 3, 0x1E, 0)
_NUMBER, _LABEL, _RSTRING, _BOOLERR, _STRING = 0x0203, 0x0204, 0x00D6, 0x0205, 0x0207
_RK, _LABELSST, _MULRK, _MERGECELLS, _FORMULA, _DIMENSIONS = (
    0x027E,
    0x00FD,
    0x00BD,
    0x00E5,
    0x0006,
    0x0200,
)
# The records of a sheet calamine reads (xls.rs, `parse_workbook`), and substreams' ends.
_SHEET_RECORDS: Final = frozenset(
    {_BOF, _EOF, _DIMENSIONS, _NUMBER, _LABEL, _RSTRING, _BOOLERR, _STRING, _RK}
    | {_LABELSST, _MULRK, _MERGECELLS, _FORMULA}
)


def _scan_biff_sheet(
    stream: bytes, start: int, strings: array[int], blanked: _Blanked
) -> tuple[Extent, Extent, int]:
    """The value cells and formula cells of the sheet at `start`, and where it ends.

    Records are walked as calamine walks them: an embedded chart's substream (a BOF
    after the sheet's own, down to its EOF) is skipped, and the sheet goes on after it.
    Cells are gathered in arrays and measured at the end, in bulk.
    """
    values = Extent()
    formulas = Extent()
    rows, cols = array("q"), array("q")
    formula_rows, formula_cols = array("q"), array("q")
    add_row, add_col = rows.append, cols.append
    header = _RECORD_HEADER.unpack_from
    formula_at = (0, 0)
    text = merges = extra_cells = 0
    seen_bof = False
    depth = continues = 0
    position, end = start, len(stream)
    while position < end:
        if position + 4 > end:
            damaged_xls()
        kind, length = header(stream, position)
        at = position + 4
        position = at + length
        if position > end:
            damaged_xls()
        if kind == _CONTINUE:
            continues += 1
            if continues > _MAX_CONTINUES:
                _too_many_continues()
            continue
        continues = 0
        if kind not in _SHEET_RECORDS:
            continue
        if depth:
            depth += 1 if kind == _BOF else -1 if kind == _EOF else 0
        elif kind == _EOF:
            end = position
            break
        elif kind == _BOF:
            if seen_bof:
                depth = 1
            seen_bof = True
        elif kind == _DIMENSIONS:  # calamine reserves rows x columns cells from it
            if length in (10, 14):
                blanked.blank(at, bytes(length))
            else:  # calamine refuses the workbook: left as it is, for it to find
                blanked.damaged = True
        elif kind == _MULRK:
            if length < 6:
                continue
            row, first = header(stream, at)
            last = struct.unpack_from("<H", stream, at + length - 2)[0]
            if last >= first and length == 6 + 6 * (last - first + 1):
                add_row(row)
                add_col(first)
                add_row(row)
                add_col(last)
                extra_cells += last - first - 1
        elif kind == _MERGECELLS:
            if length >= 2:
                merges += struct.unpack_from("<H", stream, at)[0]
        elif length >= 4:
            row, col = header(stream, at)
            if kind == _STRING:  # the text result of the formula before it
                row, col = formula_at
            add_row(row)
            add_col(col)
            if kind == _FORMULA:  # keep its cached value, not its tokens
                formula_at = (row, col)
                formula_rows.append(row)
                formula_cols.append(col)
                if length >= 25 and struct.unpack_from("<H", stream, at + 20)[0] >= 3:
                    blanked.blank(at + 20, _FORMULA_ZERO)
                elif length >= 22:
                    blanked.blank(at + 20, bytes(2))
            elif kind in (_LABEL, _RSTRING) and length >= 8:
                text += 3 * struct.unpack_from("<H", stream, at + 6)[0]
            elif kind == _STRING and length >= 2:
                text += 3 * struct.unpack_from("<H", stream, at)[0]
            elif kind == _LABELSST and length >= 10:
                index = struct.unpack_from("<I", stream, at + 6)[0]
                text += strings[index] if index < len(strings) else 0
    values.add_rows(rows, cols)
    values.cells += extra_cells
    values.text = text
    values.merges = merges
    formulas.add_rows(formula_rows, formula_cols)
    return values, formulas, end
