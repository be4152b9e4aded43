"""A corpus of hostile .xls files, built in memory like hostile_workbooks.py's XLSX ones:
BIFF8 records written by hand into a compound file (CFB) written by hand, so that every
length, count, chain and offset can lie. Each file is at most 10 MB.
"""

from __future__ import annotations

import itertools
import math
import struct
from collections.abc import Callable, Iterable

from batch_calls.ingest.reasons import FileReason
from batch_calls.ingest.table import MAX_FILE_BYTES
from tests.ingest.hostile_workbooks import Hostile

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREE, END, FAT_SECTOR, DIFAT_SECTOR = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC
CFB_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")

# BIFF8 record types
BOF, EOF, BOUNDSHEET, SST, CONTINUE, DIMENSIONS = 0x0809, 0x000A, 0x0085, 0x00FC, 0x003C, 0x0200
NUMBER, LABEL, RSTRING, LABELSST, MULRK, FORMULA = 0x0203, 0x0204, 0x00D6, 0x00FD, 0x00BD, 0x0006
CODEPAGE = 0x0042
MAX_RECORD = 8224


# --- BIFF8 records ----------------------------------------------------------------------


def record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def text(value: str) -> bytes:
    """An XLUnicodeString: count, flags (compressed Latin-1), characters."""
    return struct.pack("<HB", len(value), 0) + value.encode("latin-1")


def label(row: int, col: int, value: str, kind: int = LABEL) -> bytes:
    return record(kind, struct.pack("<HHH", row, col, 0) + text(value))


def number(row: int, col: int, value: float) -> bytes:
    return record(NUMBER, struct.pack("<HHHd", row, col, 0, value))


def label_sst(row: int, col: int, index: int) -> bytes:
    return record(LABELSST, struct.pack("<HHHI", row, col, 0, index))


def sst(blocks: Iterable[bytes], declared: int) -> bytes:
    """An SST record and its CONTINUE records, at most 8,224 bytes each, as Excel writes
    them. Each block holds whole strings and is not split unless it is one string longer
    than a record: its characters then go on in the next record, after a flags byte."""
    pieces = [bytearray(struct.pack("<ii", declared, declared))]
    for block in blocks:
        if len(pieces[-1]) + len(block) > MAX_RECORD:
            pieces.append(bytearray())
        head, chars = block[:3], block[3:]
        pieces[-1] += head
        while True:
            room = MAX_RECORD - len(pieces[-1])
            pieces[-1] += chars[:room]
            chars = chars[room:]
            if not chars:
                break
            pieces.append(bytearray(b"\0"))
    first, *rest = pieces
    return record(SST, bytes(first)) + b"".join(record(CONTINUE, bytes(piece)) for piece in rest)


def sheet(body: Iterable[bytes]) -> bytes:
    return b"".join(itertools.chain([record(BOF, struct.pack("<HH", 0x0600, 0x0010))], body)) + (
        record(EOF)
    )


HEADER = label(0, 0, "phone_number")


def workbook_stream(
    sheets: list[bytes], globals_extra: bytes = b"", names: list[str] | None = None
) -> bytes:
    """The Workbook stream: globals (BOF, code page, a BoundSheet8 per sheet, extras,
    EOF), then the sheets, each at the offset its BoundSheet8 gives."""

    def bound(offset: int, name: str) -> bytes:
        name_bytes = name.encode("latin-1")
        return record(
            BOUNDSHEET, struct.pack("<IBBBB", offset, 0, 0, len(name_bytes), 0) + name_bytes
        )

    names = names or [f"S{n}" for n in range(len(sheets))]
    head = record(BOF, struct.pack("<HH", 0x0600, 0x0005)) + record(CODEPAGE, b"\xb0\x04")
    size = len(head) + sum(len(bound(0, name)) for name in names)
    size += len(globals_extra) + len(record(EOF))
    offsets = list(itertools.accumulate((len(s) for s in sheets[:-1]), initial=size))
    bounds = b"".join(bound(offset, name) for offset, name in zip(offsets, names, strict=True))
    return head + bounds + globals_extra + record(EOF) + b"".join(sheets)


# --- the compound file --------------------------------------------------------------------


def chain(first: int, count: int) -> list[int]:
    return [*range(first + 1, first + count), END] if count else []


def compound_file(
    streams: list[tuple[str, bytes]],
    edit: Callable[[bytearray, dict[str, int]], None] | None = None,
) -> bytes:
    """A version 3 compound file (512-byte sectors) holding `streams` under the root, the
    small ones in the mini stream. `edit` may then change the bytes, given the file
    offset of each structure ("fat", "directory", "minifat", a stream's name)."""
    mini = [(name, data) for name, data in streams if len(data) < MINI_CUTOFF]
    mini_stream = b"".join(data.ljust(-(-len(data) // 64) * 64, b"\0") for _, data in mini)
    mini_fat: list[int] = []
    mini_start: dict[str, int] = {}
    for name, data in mini:
        mini_start[name] = len(mini_fat)
        mini_fat += chain(len(mini_fat), -(-len(data) // MINI_SECTOR))
    big = [(name, data) for name, data in streams if len(data) >= MINI_CUTOFF]
    contents = [("<mini stream>", mini_stream), *big]
    contents.append(("<minifat>", struct.pack(f"<{len(mini_fat)}I", *mini_fat)))
    entries = 1 + len(streams)
    contents.append(("<directory>", bytes(entries * 128)))
    data_sectors = sum(-(-len(data) // SECTOR) for _, data in contents)
    fat_sectors = difat_sectors = 0
    while True:
        total = data_sectors + fat_sectors + difat_sectors
        needed_fat = math.ceil(total / 128)
        needed_difat = max(0, math.ceil((needed_fat - 109) / 127))
        if (needed_fat, needed_difat) == (fat_sectors, difat_sectors):
            break
        fat_sectors, difat_sectors = needed_fat, needed_difat
    fat: list[int] = []
    start: dict[str, int] = {}
    for name, data in contents:
        start[name] = len(fat)
        fat += chain(len(fat), -(-len(data) // SECTOR))
    fat_ids = list(range(len(fat), len(fat) + fat_sectors))
    fat += [FAT_SECTOR] * fat_sectors
    difat_ids = list(range(len(fat), len(fat) + difat_sectors))
    fat += [DIFAT_SECTOR] * difat_sectors
    fat += [FREE] * (fat_sectors * 128 - len(fat))

    directory = bytearray()
    for index, (name, data) in enumerate([("Root Entry", mini_stream), *streams]):
        entry = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le")
        entry[: len(encoded)] = encoded
        struct.pack_into("<HBB", entry, 64, len(encoded), 5 if index == 0 else 2, 1)
        right = index + 1 if 0 < index < len(streams) else FREE
        struct.pack_into("<III", entry, 68, FREE, right, 1 if index == 0 else FREE)
        if index == 0:
            first = start["<mini stream>"] if mini_stream else END
        elif len(data) < MINI_CUTOFF:
            first = mini_start[name] if data else END
        else:
            first = start[name]
        struct.pack_into("<II", entry, 116, first, len(data))
        directory += entry
    contents[-1] = ("<directory>", bytes(directory))

    header = bytearray(SECTOR)
    header[:8] = CFB_MAGIC
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    minifat_start = start["<minifat>"] if mini_fat else END
    struct.pack_into(
        "<IIIIIIII",
        header,
        44,
        fat_sectors,
        start["<directory>"],
        0,
        MINI_CUTOFF,
        minifat_start,
        -(-len(mini_fat) * 4 // SECTOR),
        difat_ids[0] if difat_ids else END,
        difat_sectors,
    )
    difat = fat_ids + [FREE] * (109 + difat_sectors * 127 - len(fat_ids))
    struct.pack_into("<109I", header, 76, *difat[:109])
    body = bytearray()
    for _, data in contents:
        body += data.ljust(-(-len(data) // SECTOR) * SECTOR, b"\0")
    body += struct.pack(f"<{len(fat)}I", *fat)
    for n, _ in enumerate(difat_ids):
        entries_ = difat[109 + n * 127 : 109 + (n + 1) * 127]
        following = difat_ids[n + 1] if n + 1 < len(difat_ids) else END
        body += struct.pack("<128I", *entries_, following)
    out = header + body
    if edit is not None:
        offsets = {name: (first + 1) * SECTOR for name, first in start.items()}
        offsets["<fat>"] = (fat_ids[0] + 1) * SECTOR
        edit(out, offsets)
    assert len(out) <= MAX_FILE_BYTES, (len(out), MAX_FILE_BYTES)
    return bytes(out)


def xls_file(sheets: list[bytes], globals_extra: bytes = b"") -> bytes:
    return compound_file([("Workbook", workbook_stream(sheets, globals_extra))])


def contacts(rows: int = 1) -> list[bytes]:
    return [HEADER, *(label(r, 0, f"+1415555{r:04d}") for r in range(1, rows + 1))]


# --- the corpus ---------------------------------------------------------------------------


def huge_string_table() -> bytes:
    """3.2 million empty strings in the shared-string table: 3 bytes each."""
    blocks = [struct.pack("<HB", 0, 0) * 2_741] * 1_168
    return xls_file([sheet([HEADER])], sst(blocks, 2_741 * 1_168))


def string_table_count_lies() -> bytes:
    """A table declaring no string, holding one of 65,535 characters, which 20,000 cells
    share: calamine reads the strings that are there, whatever the count says, and
    copies the text into each cell."""
    strings = [struct.pack("<HB", 65_535, 0) + b"z" * 65_535]
    cells = (label_sst(1 + n // 10, n % 10, 0) for n in range(20_000))
    return xls_file([sheet(itertools.chain([HEADER], cells))], sst(strings, 0))


def continue_flood() -> bytes:
    """Two and a half million empty CONTINUE records after the string table: calamine
    takes them off the front of a list one by one (quadratic), each an empty string."""
    return xls_file([sheet([HEADER])], sst([], 0) + record(CONTINUE) * 2_500_000)


def continue_flood_in_sheet() -> bytes:
    """The same flood after a cell of the first sheet."""
    return xls_file([sheet([HEADER, record(CONTINUE) * 2_500_000])])


def rich_text_far_cell() -> bytes:
    """A rich-text label (RSTRING) at the last row and column: calamine's range spans it."""
    return xls_file([sheet([HEADER, label(65_535, 255, "far", RSTRING)])])


def cell_after_a_chart() -> bytes:
    """An embedded chart's substream (BOF ... EOF) in the first sheet, then a far cell:
    calamine reads on past the chart's EOF."""
    chart = [record(BOF, struct.pack("<HH", 0x0600, 0x0020)), number(3, 0, 1.0), record(EOF)]
    return xls_file([sheet([HEADER, *chart, number(65_535, 255, 1.0)])])


def many_tiny_records() -> bytes:
    """Two and a half million empty records of a type nobody reads."""
    return xls_file([sheet([HEADER, record(0x0000) * 2_500_000])])


def many_number_cells() -> bytes:
    """Half a million number cells, 10 to a row: a contact list's shape, every record one
    cell (no MULRK)."""
    cells = (number(1 + n // 10, n % 10, n) for n in range(540_000))
    return xls_file([sheet(itertools.chain([HEADER], cells))])


def long_dimensions() -> bytes:
    """1,200 DIMENSIONS records of the largest size (calamine reads 10 or 14 bytes)."""
    dimensions = record(DIMENSIONS, b"\xff" * MAX_RECORD)
    return xls_file([sheet([HEADER, dimensions * 1_200])])


def dimensions_everywhere() -> bytes:
    """Half a million lying DIMENSIONS records: each is blanked before calamine reads it
    (it reserves memory from them)."""
    dimensions = record(DIMENSIONS, struct.pack("<IIHHH", 0, 0xFFFFFFF0, 0, 0xFFFF, 0))
    return xls_file([sheet([HEADER, dimensions * 540_000])])


def many_formulas() -> bytes:
    """340,000 formula cells, each with the shortest formula."""
    formula = (
        record(
            FORMULA, struct.pack("<HHHdHIH", 1 + n // 6, n % 6, 0, 1.0, 0, 0, 3) + b"\x1e\x01\x00"
        )
        for n in range(340_000)
    )
    return xls_file([sheet(itertools.chain([HEADER], formula))])


def too_many_sheets() -> bytes:
    return xls_file([sheet([HEADER])] * 1_001)


def thousand_sheets() -> bytes:
    return xls_file([sheet(contacts(2))] * 1_000)


def far_rows_in_other_sheets() -> bytes:
    """Second and later sheets with rows of 256 MULRK cells at the top and the bottom of
    the grid: calamine reads every sheet, and materialises each one's whole range."""

    def full_row(row: int) -> bytes:
        cells = struct.pack("<HI", 0, 0x02) * 256  # ixfe, RK 0
        return record(MULRK, struct.pack("<HH", row, 0) + cells + struct.pack("<H", 255))

    other = sheet([full_row(0), full_row(65_535)])
    return xls_file([sheet(contacts(2)), *[other] * 3])


def record_past_the_end() -> bytes:
    return xls_file([sheet([HEADER, struct.pack("<HH", NUMBER, 0xFFFF)])])


def sheet_past_the_end() -> bytes:
    stream = bytearray(workbook_stream([sheet([HEADER])]))
    at = stream.find(struct.pack("<H", BOUNDSHEET))
    struct.pack_into("<I", stream, at + 4, 0x7FFFFFFF)
    return compound_file([("Workbook", bytes(stream))])


def big_workbook(edit: Callable[[bytearray, dict[str, int]], None]) -> bytes:
    """A workbook stream of 8 MB (so the FAT needs DIFAT sectors), then `edit`."""
    padding = record(0x0000, bytes(MAX_RECORD)) * 1_000
    return compound_file([("Workbook", workbook_stream([sheet([HEADER, padding])]))], edit)


def fat_loop() -> bytes:
    """The workbook stream's chain of sectors ends by going back to its start."""

    def loop(data: bytearray, at: dict[str, int]) -> None:
        first = at["Workbook"] // SECTOR - 1
        fat = at["<fat>"]
        position = first
        while (following := struct.unpack_from("<I", data, fat + 4 * position)[0]) != END:
            position = following
        struct.pack_into("<I", data, fat + 4 * position, first)

    return compound_file([("Workbook", workbook_stream([sheet(contacts(400))]))], loop)


def difat_loop() -> bytes:
    """The DIFAT's chain of sectors points back at itself (calamine would loop on it)."""

    def loop(data: bytearray, _: dict[str, int]) -> None:
        first = struct.unpack_from("<I", data, 68)[0]
        struct.pack_into("<I", data, (first + 1) * SECTOR + 127 * 4, first)

    return big_workbook(loop)


def directory_loop() -> bytes:
    """The directory's chain of sectors points back at itself (calamine would read it
    for ever)."""

    def loop(data: bytearray, at: dict[str, int]) -> None:
        first = at["<directory>"] // SECTOR - 1
        struct.pack_into("<I", data, at["<fat>"] + 4 * first, first)

    return big_workbook(loop)


def huge_directory() -> bytes:
    """60,000 empty streams listed before the workbook: a directory of 7.7 MB."""
    streams = [(f"s{n}", b"") for n in range(60_000)]
    return compound_file([*streams, ("Workbook", workbook_stream([sheet(contacts(2))]))])


def mini_fat_loop() -> bytes:
    """A small workbook stream (in the mini stream) whose mini-sector chain loops."""

    def loop(data: bytearray, at: dict[str, int]) -> None:
        struct.pack_into("<I", data, at["<minifat>"] + 4 * 3, 0)

    return compound_file([("Workbook", workbook_stream([sheet(contacts(20))]))], loop)


XLS_CORPUS: tuple[Hostile, ...] = (
    Hostile("xls_huge_string_table", huge_string_table, None),
    Hostile("xls_string_table_count_lies", string_table_count_lies, FileReason.FILE_TOO_LARGE),
    Hostile("xls_continue_flood", continue_flood, FileReason.UNREADABLE_FILE),
    Hostile("xls_continue_flood_in_sheet", continue_flood_in_sheet, FileReason.UNREADABLE_FILE),
    Hostile("xls_rich_text_far_cell", rich_text_far_cell, FileReason.TOO_MANY_COLUMNS),
    Hostile("xls_cell_after_a_chart", cell_after_a_chart, FileReason.TOO_MANY_COLUMNS),
    Hostile("xls_many_tiny_records", many_tiny_records, None),
    Hostile("xls_many_number_cells", many_number_cells, None),
    Hostile("xls_long_dimensions", long_dimensions, FileReason.UNREADABLE_FILE),
    Hostile("xls_dimensions_everywhere", dimensions_everywhere, None),
    Hostile("xls_many_formulas", many_formulas, None),
    Hostile("xls_too_many_sheets", too_many_sheets, FileReason.UNREADABLE_FILE),
    Hostile("xls_thousand_sheets", thousand_sheets, None),
    Hostile("xls_far_rows_in_other_sheets", far_rows_in_other_sheets, FileReason.FILE_TOO_LARGE),
    Hostile("xls_record_past_the_end", record_past_the_end, FileReason.UNREADABLE_FILE),
    Hostile("xls_sheet_past_the_end", sheet_past_the_end, FileReason.UNREADABLE_FILE),
    Hostile("xls_fat_loop", fat_loop, FileReason.UNREADABLE_FILE),
    Hostile("xls_difat_loop", difat_loop, FileReason.UNREADABLE_FILE),
    Hostile("xls_directory_loop", directory_loop, FileReason.UNREADABLE_FILE),
    Hostile("xls_huge_directory", huge_directory, None),
    Hostile("xls_mini_fat_loop", mini_fat_loop, FileReason.UNREADABLE_FILE),
)
