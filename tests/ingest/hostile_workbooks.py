"""A corpus of hostile workbooks, built in memory: each at most 10 MB, each shaped to make
a guard do as much work as it can (or to slip a cell past it), with the reason it must be
refused (or None: it may be read). Shared by the guard's tests and bench/hostile_files.py.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from batch_calls.ingest.reasons import FileReason
from batch_calls.ingest.table import MAX_FILE_BYTES

MAIN_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
PACKAGE_NS = b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEADER_ROW = b'<row r="1"><c r="A1" t="inlineStr"><is><t>phone_number</t></is></c></row>'


class Hostile(NamedTuple):
    name: str
    build: Callable[[], bytes]
    reason: FileReason | None  # None: passes the guard (reading its rows may refuse it)


def relationship(target: bytes, kind: bytes, rid: bytes = b"rId1") -> bytes:
    return b'<Relationship Id="%s" Type="%s/%s" Target="%s"/>' % (rid, REL, kind, target)


def workbook_xml(sheets: int = 1) -> bytes:
    listed = b"".join(
        b'<sheet name="S%d" sheetId="%d" r:id="rId%d"/>' % (n, n, n + 2)
        for n in range(1, sheets + 1)
    )
    return (
        b"<workbook "
        + MAIN_NS
        + b' xmlns:r="'
        + REL
        + b'"><sheets>'
        + listed
        + b"</sheets></workbook>"
    )


def xlsx_parts(
    sheet: Iterable[bytes],
    strings: Iterable[bytes] | None = None,
    sheets: int = 1,
    workbook: bytes | None = None,
) -> Iterator[tuple[str, Iterable[bytes]]]:
    """The parts of a minimal XLSX whose first sheet (and shared strings) are streamed."""
    types = b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    types += b'<Default Extension="xml" ContentType="application/xml"/></Types>'
    yield "[Content_Types].xml", [types]
    rels = relationship(b"xl/workbook.xml", b"officeDocument")
    yield "_rels/.rels", [b"<Relationships " + PACKAGE_NS + b">" + rels + b"</Relationships>"]
    yield "xl/workbook.xml", [workbook if workbook is not None else workbook_xml(sheets)]
    rels = relationship(b"sharedStrings.xml", b"sharedStrings", b"rId2")
    rels += b"".join(
        relationship(b"worksheets/sheet%d.xml" % n, b"worksheet", b"rId%d" % (n + 2))
        for n in range(1, sheets + 1)
    )
    yield (
        "xl/_rels/workbook.xml.rels",
        [b"<Relationships " + PACKAGE_NS + b">" + rels + b"</Relationships>"],
    )
    if strings is not None:
        yield (
            "xl/sharedStrings.xml",
            itertools.chain([b"<sst " + MAIN_NS + b">"], strings, [b"</sst>"]),
        )
    yield "xl/worksheets/sheet1.xml", sheet
    for n in range(2, sheets + 1):
        yield f"xl/worksheets/sheet{n}.xml", list(worksheet([HEADER_ROW]))


def worksheet(body: Iterable[bytes], before_data: bytes = b"") -> Iterator[bytes]:
    yield b'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet ' + MAIN_NS + b">"
    yield before_data + b"<sheetData>"
    yield from body
    yield b"</sheetData></worksheet>"


def zipped(parts: Iterable[tuple[str, Iterable[bytes]]], level: int = 9) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, content in parts:
            with archive.open(name, "w") as member:
                for piece in content:
                    member.write(piece)
    data = out.getvalue()
    assert len(data) <= MAX_FILE_BYTES, (len(data), MAX_FILE_BYTES)
    return data


def chunks(pieces: Iterable[bytes], size: int = 1 << 16) -> Iterator[bytes]:
    """Pieces joined into writes of about `size` bytes (zipfile is slow with tiny ones)."""
    batch: list[bytes] = []
    length = 0
    for piece in pieces:
        batch.append(piece)
        length += len(piece)
        if length >= size:
            yield b"".join(batch)
            batch, length = [], 0
    yield b"".join(batch)


def tiny_rows(count: int, first: int = 2, cycle: int = 100_000) -> Iterator[bytes]:
    """Rows of one referenced number cell, their numbers cycling within a contact list's
    (so cells come again at the same places)."""
    for n in range(count):
        row = first + n % cycle
        yield b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (row, row, n % 997)


def issue_tail_file(rows: int) -> bytes:
    """The issue's file: a million tiny rows, then a cell without `r` and an XML comment."""
    tail = [b"<row><c><v>1</v></c></row><!-- the end -->"]
    body = chunks(itertools.chain([HEADER_ROW], tiny_rows(rows), tail))
    return zipped(xlsx_parts(worksheet(body)))


def dense_rows() -> bytes:
    """Past the last contact row: tiny referenced rows down to row 1,048,576."""
    rows = (b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r) for r in range(2, 1_048_577))
    return zipped(xlsx_parts(worksheet(chunks(itertools.chain([HEADER_ROW], rows)))))


def rows_without_references() -> bytes:
    """Two million cells with no `r`, placed only by counting tags."""
    cells = itertools.repeat(b"<row><c><v>1</v></c><c><v>2</v></c></row>", 1_000_000)
    return zipped(xlsx_parts(worksheet(chunks(itertools.chain([HEADER_ROW], cells)))))


def empty_cells() -> bytes:
    """Tens of millions of empty cells `<c/>`: no value, but each a tag to count."""
    row = b"<row>" + b"<c/>" * 1000 + b"</row>"
    return zipped(
        xlsx_parts(worksheet(chunks(itertools.chain([HEADER_ROW], itertools.repeat(row, 70_000)))))
    )


def comments_everywhere() -> bytes:
    """A comment between every row, and one hiding a far cell; the sheet itself is small."""
    rows = (
        b'<!-- <c r="XFD%d"><v>1</v></c> --><row r="%d"><c r="A%d"><v>%d</v></c></row>'
        % (r, r, r, r)
        for r in range(2, 90_002)
    )
    return zipped(xlsx_parts(worksheet(chunks(itertools.chain([HEADER_ROW], rows)))))


def many_comments() -> bytes:
    """Nothing but empty comments, hundreds of megabytes of them once inflated."""
    return zipped(
        xlsx_parts(
            worksheet(
                chunks(itertools.chain([HEADER_ROW], itertools.repeat(b"<!---->" * 1000, 40_000)))
            )
        )
    )


def huge_shared_strings() -> bytes:
    """Millions of tiny shared strings, each referenced once."""
    strings = chunks(b"<si><t>%d</t></si>" % n for n in range(3_000_000))
    rows = (
        b'<row r="%d"><c r="A%d" t="s"><v>%d</v></c></row>' % (r, r, r) for r in range(1, 100_002)
    )
    return zipped(xlsx_parts(worksheet(chunks(rows)), strings=strings))


def empty_shared_strings() -> bytes:
    """Tens of millions of `<si/>`: each a string calamine keeps, at no cost in the file."""
    strings = itertools.repeat(b"<si/>" * 10_000, 5_000)
    return zipped(xlsx_parts(worksheet([HEADER_ROW]), strings=strings))


def lying_dimension() -> bytes:
    """A `<dimension>` claiming the whole grid, over a two-row sheet."""
    body = [
        HEADER_ROW,
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>+14155552671</t></is></c></row>',
    ]
    return zipped(xlsx_parts(worksheet(body, before_data=b'<dimension ref="A1:XFD1048576"/>')))


def deep_nesting() -> bytes:
    """A cell holding a million nested elements."""
    depth = 1_000_000
    cell = b'<row r="2"><c r="A2" t="inlineStr"><is>' + b"<t>" * depth + b"x" + b"</t>" * depth
    body = chunks(itertools.chain([HEADER_ROW, cell, b"</is></c></row>"]))
    return zipped(xlsx_parts(worksheet(body)))


def many_sheets() -> bytes:
    """Thousands of sheets listed (and stored): only the first one is read."""
    body = [HEADER_ROW, b'<row r="2"><c r="A2"><v>14155552671</v></c></row>']
    return zipped(xlsx_parts(worksheet(body), sheets=5_000))


def billion_laughs() -> bytes:
    """Entities expanding exponentially, declared in the sheet's DTD."""
    entities = b'<!ENTITY a0 "ha">' + b"".join(
        b'<!ENTITY a%d "&a%d;&a%d;&a%d;&a%d;&a%d;&a%d;&a%d;&a%d;&a%d;&a%d;">'
        % ((n,) + (n - 1,) * 10)
        for n in range(1, 10)
    )
    document = [
        b'<?xml version="1.0"?><!DOCTYPE worksheet [' + entities + b"]><worksheet " + MAIN_NS,
        b'><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&a9;</t></is></c></row>',
        b"</sheetData></worksheet>",
    ]
    return zipped(xlsx_parts(document))


def long_text_node() -> bytes:
    """One text node of two hundred megabytes."""
    text = itertools.repeat(b"x" * (1 << 20), 200)
    body = itertools.chain(
        [HEADER_ROW, b'<row r="2"><c r="A2" t="inlineStr"><is><t>'], text, [b"</t></is></c></row>"]
    )
    return zipped(xlsx_parts(worksheet(body)))


def huge_tag() -> bytes:
    """One start tag with a hundred megabytes of attribute."""
    attribute = itertools.repeat(b"y" * (1 << 20), 100)
    body = itertools.chain(
        [HEADER_ROW, b'<row r="2"><c r="A2" x="'], attribute, [b'"><v>1</v></c></row>']
    )
    return zipped(xlsx_parts(worksheet(body)))


def prefixed_dense_rows() -> bytes:
    """Namespace-prefixed cells past the last contact row."""
    ns = b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rows = (
        b'<x:row r="%d"><x:c r="A%d"><x:v>1</x:v></x:c></x:row>' % (r, r)
        for r in range(1, 1_048_577)
    )
    document = itertools.chain(
        [b"<x:worksheet " + ns + b"><x:sheetData>"], chunks(rows), [b"</x:sheetData></x:worksheet>"]
    )
    return zipped(xlsx_parts(document))


def cdata_cells() -> bytes:
    """Text in CDATA sections holding markup-like text, in many cells."""
    rows = (
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>'
        b'<![CDATA[<c r="XFD1"><v>1</v></c>]]></t></is></c></row>' % (r, r)
        for r in range(2, 100_002)
    )
    return zipped(xlsx_parts(worksheet(chunks(itertools.chain([HEADER_ROW], rows)))))


def referenced_rows_of_unreferenced_cells() -> bytes:
    """Rows that carry their number, cells that do not: placed tag by tag."""
    rows = (b'<row r="%d"><c><v>1</v></c><c><v>2</v></c></row>' % r for r in range(2, 1_000_002))
    return zipped(xlsx_parts(worksheet(chunks(itertools.chain([HEADER_ROW], rows)))))


def unclosed_tags() -> bytes:
    """Tag starts that never end, and runs of `<`: work for a careless pattern."""
    body = itertools.chain(
        [HEADER_ROW], itertools.repeat(b'<c r="A2" x="' * 4096 + b"<" * 65536, 1000)
    )
    return zipped(xlsx_parts(worksheet(body)))


CORPUS: tuple[Hostile, ...] = (
    Hostile("issue_tail_1_3m_rows", lambda: issue_tail_file(1_300_000), FileReason.UNREADABLE_FILE),
    Hostile("dense_rows", dense_rows, None),
    Hostile("rows_without_references", rows_without_references, FileReason.TOO_MANY_ROWS),
    Hostile("empty_cells", empty_cells, FileReason.FILE_TOO_LARGE),
    Hostile("comments_everywhere", comments_everywhere, None),
    Hostile("many_comments", many_comments, FileReason.UNREADABLE_FILE),
    Hostile("huge_shared_strings", huge_shared_strings, FileReason.FILE_TOO_LARGE),
    Hostile("empty_shared_strings", empty_shared_strings, FileReason.FILE_TOO_LARGE),
    Hostile("lying_dimension", lying_dimension, None),
    Hostile("deep_nesting", deep_nesting, None),
    Hostile("many_sheets", many_sheets, None),
    Hostile("billion_laughs", billion_laughs, FileReason.UNREADABLE_FILE),
    Hostile("long_text_node", long_text_node, FileReason.FILE_TOO_LARGE),
    Hostile("huge_tag", huge_tag, FileReason.FILE_TOO_LARGE),
    Hostile("prefixed_dense_rows", prefixed_dense_rows, None),
    Hostile("cdata_cells", cdata_cells, None),
    Hostile(
        "referenced_rows_of_unreferenced_cells",
        referenced_rows_of_unreferenced_cells,
        FileReason.TOO_MANY_ROWS,
    ),
    Hostile("unclosed_tags", unclosed_tags, FileReason.FILE_TOO_LARGE),
)
