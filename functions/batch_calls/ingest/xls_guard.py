"""The XLS guard: a BIFF8 workbook in a compound file, checked before calamine opens it.

See spreadsheets.py for why, and what is checked.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

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
        sector_id, hops = difat_start, 0
        while sector_id not in (_FREESECT, _ENDOFCHAIN):
            hops += 1
            if sector_id >= self.sectors or hops > self.sectors:
                damaged_xls()
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
    patched = bytearray(data)

    def patch(position: int, content: bytes) -> None:
        for at, byte in enumerate(content, start=position):
            patched[stream.file_offset(at)] = byte

    estimate = _scan_biff(stream.data, patch)
    check_memory(estimate, whole_workbook=True)
    return bytes(patched)


def _records(stream: bytes, start: int) -> Iterator[tuple[int, int, int]]:
    """(type, data offset, data length) of each record from `start`; CONTINUEs skipped."""
    position = start
    end = len(stream)
    while position < end:
        if position + 4 > end:
            damaged_xls()
        kind, length = struct.unpack_from("<HH", stream, position)
        if position + 4 + length > end:
            damaged_xls()
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
        damaged_xls()
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
            damaged_xls(" (its string table is truncated)")
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
                    damaged_xls(" (its string table is truncated)")
                data, wide, at = following, following[0] & 0x1, 1
        while extra > 0:
            taken = min(extra, len(data) - at)
            at += taken
            extra -= taken
            if extra:
                following = next_piece()
                if following is None:
                    damaged_xls(" (its string table is truncated)")
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
        values, formulas, end = _scan_biff_sheet(stream, start, strings, patch)
        scanned += end - start
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
_CELL_RECORDS: Final = frozenset({0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006, 0x0207})


def _scan_biff_sheet(
    stream: bytes, start: int, strings: array[int], patch: Callable[[int, bytes], None]
) -> tuple[Extent, Extent, int]:
    """The value cells and formula cells of the sheet at `start`, and where it ends."""
    values = Extent()
    formulas = Extent()
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
