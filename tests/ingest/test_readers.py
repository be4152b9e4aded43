"""File readers: format sniffing, CSV dialects and encodings, spreadsheets, JSON contacts,
and hostile files (bombs, dense ranges, damage) rejected with a message, never a crash."""

import csv
import datetime
import io
import itertools
import json
import random
import struct
import subprocess
import sys
import zipfile
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from xml.parsers import expat

import openpyxl
import pytest
import xlwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_calls.ingest import readers, xlsx_guard
from batch_calls.ingest.readers import read_table, table_from_contacts
from batch_calls.ingest.reasons import FileReason
from batch_calls.ingest.table import (
    MAX_COLUMNS,
    MAX_CONTACT_ROWS,
    MAX_FILE_BYTES,
    FileRejected,
    Table,
    float_text,
)
from batch_calls.ingest.workbook_limits import (
    MAX_EXPANDED_BYTES,
    MAX_SHEET_CELLS,
    Extent,
    column_index,
)

OFFICE = Path(__file__).parent.parent / "fixtures" / "office"
SUPPORTED = ("CSV", "XLSX", "XLS", "JSON")

Rows = list[tuple[int, list[str]]]


def read(data: bytes, filename: str | None = None) -> tuple[Table, Rows]:
    table = read_table(data, filename)
    return table, list(table.rows)


def rejected(data: bytes, filename: str | None = None) -> FileRejected:
    """The rejection, whether read_table raises it or iterating the rows does."""
    with pytest.raises(FileRejected) as caught:
        read(data, filename)
    assert caught.value.message
    return caught.value


def xlsx(
    *sheets: list[list[object]], build: Callable[[openpyxl.Workbook], None] | None = None
) -> bytes:
    workbook = openpyxl.Workbook()
    for index, rows in enumerate(sheets):
        sheet = workbook.active if index == 0 else workbook.create_sheet(f"Sheet{index + 1}")
        assert sheet is not None
        for row in rows:
            sheet.append(row)
    if build is not None:
        build(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xls(rows: list[list[object]], cells: dict[tuple[int, int], object] | None = None) -> bytes:
    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Leads")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    for (r, c), value in (cells or {}).items():
        sheet.write(r, c, value)
    workbook.add_sheet("Notes").write(0, 0, "ignore me")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- CSV ---------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_every_delimiter_is_detected(delimiter: str) -> None:
    text = delimiter.join(["phone_number", "name", "note"]) + "\n"
    text += delimiter.join(["+14155552671", "Jordan", '"a, b; c | d\te"']) + "\n"
    table, rows = read(text.encode())
    assert table.header == ["phone_number", "name", "note"]
    assert table.header_row == 1
    assert rows == [(2, ["+14155552671", "Jordan", "a, b; c | d\te"])]


def test_delimiter_counts_only_outside_quotes() -> None:
    table, rows = read(b'"a;b;c",phone\n"1;2;3",+1415\n')
    assert table.header == ["a;b;c", "phone"]
    assert rows == [(2, ["1;2;3", "+1415"])]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_utf8_with_and_without_bom(bom: bytes) -> None:
    table, rows = read(bom + "phone_number,name\n+1415,Zoë\n".encode())
    assert table.header == ["phone_number", "name"]
    assert rows == [(2, ["+1415", "Zoë"])]


@pytest.mark.parametrize(("bom", "codec"), [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
def test_utf16_with_bom(bom: bytes, codec: str) -> None:
    table, rows = read(bom + "phone_number\tname\r\n+1415\tÁlex 🙂\r\n".encode(codec))
    assert table.header == ["phone_number", "name"]
    assert rows == [(2, ["+1415", "Álex 🙂"])]


def test_windows_1252_fallback() -> None:
    table, rows = read("phone_number;name\n+1415;Álex Müller – “quoted”\n".encode("cp1252"))
    assert table.header == ["phone_number", "name"]
    assert rows == [(2, ["+1415", "Álex Müller – “quoted”"])]


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_line_endings(newline: str) -> None:
    text = newline.join(["phone_number,name", "1,a", "2,b"]) + newline
    table, rows = read(text.encode())
    assert table.header == ["phone_number", "name"]
    assert rows == [(2, ["1", "a"]), (3, ["2", "b"])]


@settings(max_examples=500, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(list("ab ,;\t|\r\n\x0b\x0c\x1c\x1e\u2028\u2029\x85\ufeff")),
        max_size=40,
    ),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_text_without_quotes_is_split_as_the_csv_module_splits_it(
    text: str, delimiter: str
) -> None:
    expected = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
    records = [cells if cells != [""] else [] for cells in readers._csv_records(text, delimiter)]
    assert records == expected


def test_quoted_fields_keep_newlines_delimiters_and_quotes_and_count_as_one_row() -> None:
    text = 'phone_number,note\r\n1,"line one\r\nline two, still ""quoted"""\r\n2,after\r\n'
    _, rows = read(text.encode())
    assert rows == [(2, ["1", 'line one\r\nline two, still "quoted"']), (3, ["2", "after"])]


def test_ragged_rows_are_padded_or_kept_whole() -> None:
    _, rows = read(b"phone_number,name,city\n1\n2,b,c,extra,more\n")
    assert rows == [(2, ["1", "", ""]), (3, ["2", "b", "c", "extra", "more"])]


def test_blank_rows_are_skipped_but_counted() -> None:
    text = "\n  \nphone_number,name\n1,a\n\n , \n,,\n2,b\n"
    table, rows = read(text.encode())
    assert table.header_row == 3
    assert rows == [(4, ["1", "a"]), (8, ["2", "b"])]


def test_header_is_trimmed_of_spaces_and_bom() -> None:
    table, _ = read("\ufeff\ufeff phone_number , \ufeffname\t,,\n1,a\n".encode())
    assert table.header == ["phone_number", "name"]


def test_header_only_has_no_rows() -> None:
    table, rows = read(b"phone_number,name\r\n")
    assert table.header == ["phone_number", "name"]
    assert rows == []


@pytest.mark.parametrize(
    "data", [b"", b"   \r\n\t\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n", b"\xff\xfe \x00\n\x00"]
)
def test_empty_and_blank_files(data: bytes) -> None:
    assert rejected(data).reason == FileReason.EMPTY_FILE


def test_file_of_only_delimiters_is_empty() -> None:
    assert rejected(b",,,\n , \n,\n").reason == FileReason.EMPTY_FILE


def test_one_megabyte_cell_is_read_intact() -> None:
    big = "x" * 1_000_000
    _, rows = read(f'phone_number,notes\n1,"{big}"\n2,{big}\n'.encode())
    assert rows == [(2, ["1", big]), (3, ["2", big])]


def test_too_many_columns() -> None:
    header = ",".join(f"c{i}" for i in range(10_000))
    error = rejected(f"{header}\n1\n".encode())
    assert error.reason == FileReason.TOO_MANY_COLUMNS
    assert str(MAX_COLUMNS) in error.message.replace(",", "")


def test_trailing_empty_header_cells_do_not_count_as_columns() -> None:
    table, rows = read(b"phone_number,name" + b"," * 5000 + b"\n1,a\n")
    assert table.header == ["phone_number", "name"]
    assert rows == [(2, ["1", "a"])]


def test_nul_bytes_are_rejected_with_advice() -> None:
    error = rejected("phone_number\n+1415\n".encode("utf-16-le"))  # UTF-16 without a BOM
    assert error.reason == FileReason.UNREADABLE_FILE
    assert "CSV UTF-8" in error.message
    assert "binary" in error.message


def test_row_limit() -> None:
    ok = b"phone_number\n" + b"1\n" * MAX_CONTACT_ROWS
    table = read_table(ok)
    assert sum(1 for _ in table.rows) == MAX_CONTACT_ROWS
    with pytest.raises(FileRejected) as caught:  # from read_table or while reading rows
        list(read_table(ok + b"\n\n2\n").rows)
    assert caught.value.reason == FileReason.TOO_MANY_ROWS


def test_rows_are_read_lazily() -> None:
    table = read_table(b"phone_number\n1\n2\n")
    assert isinstance(table.rows, Iterator)
    assert next(table.rows) == (2, ["1"])


# --- the office suite's own files -------------------------------------------------------

LEADS_HEADER = ["phone_number", "customer_name", "appointment", "balance", "account_id", "total"]


@pytest.mark.parametrize("name", ["leads.xlsx", "leads.xls"])
def test_office_workbooks(name: str) -> None:
    table, rows = read((OFFICE / name).read_bytes(), name)
    assert table.header == LEADS_HEADER
    assert table.header_row == 1
    assert rows == [
        (2, ["+1 415 555 2671", "Jordan Lee", "2026-12-03T14:00:00", "1234.5", "acct_001", "2469"]),
        (3, ["4155552672", "Morgan Kim", "2026-12-04T10:00:00", "99", "acct_002", "198"]),
        (4, ["(650) 555-0199", "Álex Rivera", "2026-12-05", "0", "acct_003", "0"]),
    ]  # the "Notes" sheet is not read


def test_office_semicolon_csv() -> None:
    table, rows = read((OFFICE / "leads_semicolon.csv").read_bytes(), "leads_semicolon.csv")
    assert table.header == LEADS_HEADER
    assert rows == [
        (2, ["+1 415 555 2671", "Jordan Lee", "2026-12-03 14:00:00", "1234.5", "acct_001", "2469"]),
        (3, ["4155552672", "Morgan Kim", "2026-12-04 10:00:00", "99", "acct_002", "198"]),
        (4, ["(650) 555-0199", "Álex Rivera", "2026-12-05", "0", "acct_003", "0"]),
    ]


# --- generated spreadsheets -------------------------------------------------------------


def test_xlsx_cells_read_as_a_person_sees_them() -> None:
    def durations(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        assert sheet is not None
        sheet["G2"].number_format = "[h]:mm:ss"

    data = xlsx(
        [
            ["phone", "big", "float", "flag", "when", "day", "time", "text"],
            [
                14155552671,
                919876543210.0,
                1234.5,
                True,
                datetime.datetime(2026, 12, 3, 14, 0),
                datetime.date(2026, 12, 5),
                datetime.timedelta(hours=30),
                "  keep spaces ",
            ],
            [4155550101.0, 1e16, 0.1, False, None, None, None, "x"],
        ],
        build=durations,
    )
    _, rows = read(data)
    assert rows[0] == (
        2,
        [
            "14155552671",
            "919876543210",
            "1234.5",
            "TRUE",
            "2026-12-03T14:00:00",
            "2026-12-05",
            "1 day, 6:00:00",
            "  keep spaces ",
        ],
    )
    assert rows[1] == (3, ["4155550101", "10000000000000000", "0.1", "FALSE", "", "", "", "x"])


def test_xls_numbers_and_text() -> None:
    data = xls(
        [["phone_number", "name", "score"], [14155552671.0, "Álex", 80], [919876543210.0, "B", 1.5]]
    )
    table, rows = read(data, "contacts.xls")
    assert table.header == ["phone_number", "name", "score"]
    assert rows == [(2, ["14155552671", "Álex", "80"]), (3, ["919876543210", "B", "1.5"])]


def test_sheet_starting_below_and_right_keeps_spreadsheet_row_numbers() -> None:
    def place(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        assert sheet is not None
        sheet["C3"], sheet["D3"] = " phone_number ", "name"
        sheet["C4"], sheet["D4"] = "+1415", "a"
        sheet["C6"] = "+1650"
        sheet["D7"] = "   "

    table, rows = read(xlsx(build=place))
    assert table.header_row == 3
    assert table.header == ["phone_number", "name"]
    assert rows == [(4, ["+1415", "a"]), (6, ["+1650", ""])]


def test_second_sheet_is_ignored() -> None:
    data = xlsx([["phone_number"], ["+1415"]], [["other"], ["x"], ["y"]])
    table, rows = read(data)
    assert table.header == ["phone_number"]
    assert rows == [(2, ["+1415"])]


def test_extra_cells_beyond_the_header_are_kept() -> None:
    _, rows = read(xlsx([["phone_number", "name"], ["1", None, None, "stray"], ["2"]]))
    assert rows == [(2, ["1", "", "", "stray"]), (3, ["2", ""])]


def test_empty_workbook() -> None:
    assert rejected(xlsx([])).reason == FileReason.EMPTY_FILE


def test_duration_out_of_range_names_the_row() -> None:
    def fmt(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        assert sheet is not None
        sheet["A3"].number_format = "[h]:mm:ss"

    error = rejected(xlsx([["phone_number"], [1], [14155552671], [2]], build=fmt))
    assert error.reason == FileReason.UNREADABLE_FILE
    assert "Row 3" in error.message


@pytest.mark.parametrize("name", ["contacts.csv", "contacts.json", None])
def test_content_decides_over_the_extension_for_workbooks(name: str | None) -> None:
    table, rows = read(xlsx([["phone_number"], ["+1415"]]), name)
    assert (table.header, rows) == (["phone_number"], [(2, ["+1415"])])
    table, rows = read(xls([["phone_number"], ["+1415"]]), name)
    assert (table.header, rows) == (["phone_number"], [(2, ["+1415"])])


@pytest.mark.parametrize("name", ["contacts.xlsx", "contacts.xls", "contacts.pdf"])
def test_text_named_as_a_workbook_is_read_as_csv(name: str) -> None:
    table, rows = read(b"phone_number;name\n+1415;a\n", name)
    assert (table.header, rows) == (["phone_number", "name"], [(2, ["+1415", "a"])])


# --- files that are not contact lists ---------------------------------------------------


def assert_unsupported(error: FileRejected, looks_like: str) -> None:
    assert error.reason == FileReason.UNSUPPORTED_FILE_TYPE
    assert looks_like in error.message
    assert all(kind in error.message for kind in SUPPORTED)


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"GIF89a\x01\x00", "GIF"),
        (b"\x1f\x8b\x08\x00" + bytes(20), "gzip"),
        (b"<!DOCTYPE html><html><table><tr><td>1</td></tr></table>", "HTML"),
    ],
)
def test_known_formats_are_named(data: bytes, looks_like: str) -> None:
    assert_unsupported(rejected(data, "contacts.csv"), looks_like)


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_zips_that_are_not_workbooks() -> None:
    assert_unsupported(rejected(zipped({"a.txt": b"phone\n1\n"})), "ZIP archive")
    docx = zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    assert_unsupported(rejected(docx, "contacts.xlsx"), "Word")
    ods = zipped(
        {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}
    )
    assert_unsupported(rejected(ods), "OpenDocument")


def test_binary_garbage() -> None:
    garbage = random.Random(0).randbytes(4096)
    assert rejected(garbage).reason in (
        FileReason.UNREADABLE_FILE,
        FileReason.UNSUPPORTED_FILE_TYPE,
    )
    no_nul = bytes(b or 1 for b in garbage)
    assert rejected(no_nul).reason in (FileReason.UNREADABLE_FILE, FileReason.UNSUPPORTED_FILE_TYPE)


def test_file_over_the_size_limit() -> None:
    error = rejected(b"phone_number\n" + b"1" * MAX_FILE_BYTES)
    assert error.reason == FileReason.FILE_TOO_LARGE


# --- damaged and hostile workbooks ------------------------------------------------------


def test_truncated_xlsx() -> None:
    data = (OFFICE / "leads.xlsx").read_bytes()
    error = rejected(data[: len(data) // 2], "leads.xlsx")
    assert error.reason == FileReason.UNREADABLE_FILE
    assert "save it again" in error.message


@pytest.mark.parametrize("cut", ["half", "header", "body"])
def test_corrupt_xls(cut: str) -> None:
    data = bytearray((OFFICE / "leads.xls").read_bytes())
    if cut == "half":
        data = data[: len(data) // 2]
    elif cut == "header":
        data[8:512] = random.Random(1).randbytes(504)
    else:
        data[512:] = random.Random(2).randbytes(len(data) - 512)
    assert rejected(bytes(data), "leads.xls").reason == FileReason.UNREADABLE_FILE


def test_password_protected_office_file() -> None:
    # An encrypted XLSX is a compound file holding an EncryptedPackage stream.
    assert "password" in rejected(cfb_with_stream("EncryptedPackage")).message


def cfb_with_stream(name: str) -> bytes:
    """A minimal compound file (version 3) with one small stream called `name`."""
    sector = 512
    header = bytearray(sector)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 44, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0, 0)
    header[76:512] = b"\xff" * 436
    struct.pack_into("<I", header, 76, 0)  # sector 0 holds the FAT
    fat = [0xFFFFFFFD, 0xFFFFFFFE] + [0xFFFFFFFF] * (sector // 4 - 2)
    directory = bytearray(sector)
    entries = [("Root Entry", 5), (name, 2)]
    for index, (entry, kind) in enumerate(entries):
        encoded = (entry + "\x00").encode("utf-16-le")
        at = index * 128
        directory[at : at + len(encoded)] = encoded
        struct.pack_into("<HB", directory, at + 64, len(encoded), kind)
        struct.pack_into("<III", directory, at + 68, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        struct.pack_into("<II", directory, at + 116, 0xFFFFFFFE, 0)  # empty
    return bytes(header) + struct.pack(f"<{len(fat)}I", *fat) + bytes(directory)


def test_office_file_that_is_not_a_workbook() -> None:
    assert_unsupported(rejected(cfb_with_stream("WordDocument")), "Word")


MAIN_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
PACKAGE_NS = b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def relationship(target: bytes, kind: bytes, rid: bytes = b"rId1") -> bytes:
    return b'<Relationship Id="%s" Type="%s/%s" Target="%s"/>' % (rid, REL, kind, target)


def sheet_xml_parts(sheet: Iterator[bytes]) -> Iterator[tuple[str, Iterator[bytes]]]:
    """The parts of a minimal XLSX whose only sheet is streamed from `sheet`."""
    types = b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    types += b'<Default Extension="xml" ContentType="application/xml"/></Types>'
    yield "[Content_Types].xml", iter([types])
    rels = relationship(b"xl/workbook.xml", b"officeDocument")
    yield "_rels/.rels", iter([b"<Relationships " + PACKAGE_NS + b">" + rels + b"</Relationships>"])
    workbook = b"<workbook " + MAIN_NS + b' xmlns:r="' + REL + b'"><sheets>'
    workbook += b'<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
    yield "xl/workbook.xml", iter([workbook])
    rels = relationship(b"worksheets/sheet1.xml", b"worksheet")
    rels += relationship(b"sharedStrings.xml", b"sharedStrings", b"rId2")
    yield (
        "xl/_rels/workbook.xml.rels",
        iter([b"<Relationships " + PACKAGE_NS + b">" + rels + b"</Relationships>"]),
    )
    yield "xl/worksheets/sheet1.xml", sheet


def handmade_xlsx(sheet: Iterator[bytes], level: int = 6) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, content in sheet_xml_parts(sheet):
            with archive.open(name, "w") as member:
                for piece in content:
                    member.write(piece)
    return out.getvalue()


def sheet(body: Iterator[bytes]) -> Iterator[bytes]:
    yield b"<worksheet " + MAIN_NS + b"><sheetData>"
    yield from body
    yield b"</sheetData></worksheet>"


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """A small XLSX whose sheet expands past the limit (blank space between the rows)."""
    filler = b" " * (1 << 20)
    blocks = MAX_EXPANDED_BYTES // len(filler) + 2
    body = iter([b'<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row>'])
    return handmade_xlsx(sheet(itertools.chain(body, itertools.repeat(filler, blocks))), level=1)


def test_zip_bomb(zip_bomb: bytes) -> None:
    assert len(zip_bomb) < 2 * 1024 * 1024
    error = rejected(zip_bomb, "contacts.xlsx")
    assert error.reason == FileReason.FILE_TOO_LARGE
    assert f"{MAX_EXPANDED_BYTES // 1024 // 1024} MB" in error.message


def test_zip_bomb_with_lying_sizes(zip_bomb: bytes) -> None:
    """Declared sizes are not trusted: claim the sheet inflates to 1000 bytes."""
    data = bytearray(zip_bomb)
    name = b"xl/worksheets/sheet1.xml"
    central = data.index(name, data.index(b"PK\x01\x02")) - 46
    assert data[central : central + 4] == b"PK\x01\x02"
    struct.pack_into("<I", data, central + 24, 1000)
    local = struct.unpack_from("<I", data, central + 42)[0]
    struct.pack_into("<I", data, local + 22, 1000)
    assert zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(name.decode()).file_size == 1000
    assert rejected(bytes(data)).reason == FileReason.FILE_TOO_LARGE


def test_dense_range_xlsx_is_rejected_before_calamine_allocates_it() -> None:
    def far(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        assert sheet is not None
        sheet["A1"] = "phone_number"
        sheet["XFD1048576"] = "far away"

    assert rejected(xlsx(build=far)).reason == FileReason.TOO_MANY_COLUMNS

    def deep(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        assert sheet is not None
        sheet.append(["phone_number", "name", "city"])
        sheet["C1048576"] = "far below"

    error = rejected(xlsx(build=deep))
    assert error.reason == FileReason.TOO_MANY_ROWS
    assert "1,048,576" in error.message


def test_dense_range_xls_is_rejected() -> None:
    error = rejected(xls([["phone_number"]], {(65535, 255): "far"}))
    assert error.reason in (FileReason.TOO_MANY_ROWS, FileReason.TOO_MANY_COLUMNS)


def test_cells_without_references_are_placed_like_calamine_places_them() -> None:
    # No `r` attributes: cells are placed by counting; one long row is many columns.
    wide = sheet(iter([b"<row>", b"<c><v>1</v></c>" * (MAX_COLUMNS + 1), b"</row>"]))
    assert rejected(handmade_xlsx(wide)).reason == FileReason.TOO_MANY_COLUMNS
    tall = sheet(
        iter(
            [
                b'<row r="1"><c><v>1</v></c><c><v>2</v></c><c><v>3</v></c></row>',
                b'<row r="1048576"><c><v>1</v></c></row>',
            ]
        )
    )
    assert rejected(handmade_xlsx(tall)).reason == FileReason.TOO_MANY_ROWS
    ok = sheet(
        iter(
            [
                b'<row><c t="inlineStr"><is><t>phone</t></is></c></row>',
                b"<row/><row><c><v>14155552671</v></c></row>",
            ]
        )
    )
    table, rows = read(handmade_xlsx(ok))
    assert (table.header, rows) == (["phone"], [(3, ["14155552671"])])


def test_comments_and_cdata_are_read_exactly() -> None:
    xml = sheet(
        iter(
            [
                b'<!-- <c r="XFD1"><v>1</v></c> --><row r="1"><c r="A1" t="inlineStr">'
                b"<is><t><![CDATA[phone <number>]]></t></is></c></row>"
            ]
        )
    )
    table, rows = read(handmade_xlsx(xml))
    assert (table.header, rows) == (["phone <number>"], [])


def test_shared_string_amplification() -> None:
    """One long shared string referenced by every cell would be copied into each."""
    long_text = b"x" * 30_000
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sheet_xml_parts(iter([])):
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(name, b"".join(content))
        archive.writestr(
            "xl/sharedStrings.xml",
            b"<sst " + MAIN_NS + b"><si><t>" + long_text + b"</t></si></sst>",
        )
        cells = b"".join(
            b'<row r="%d"><c r="A%d" t="s"><v>0</v></c></row>' % (r, r) for r in range(1, 20_001)
        )
        archive.writestr("xl/worksheets/sheet1.xml", b"".join(sheet(iter([cells]))))
    assert rejected(out.getvalue()).reason == FileReason.FILE_TOO_LARGE


def test_xls_shared_string_amplification() -> None:
    long_text = "y" * 30_000
    data = xls([], {(r, c): long_text for r in range(2_000) for c in range(10)})
    assert rejected(data).reason == FileReason.FILE_TOO_LARGE


def test_xls_sheets_pointing_at_the_same_records() -> None:
    """Every sheet declared at the first sheet's records: calamine would read it again."""
    book = xlwt.Workbook()
    for index in range(4):
        sheet_ = book.add_sheet(f"S{index}")
        for row in range(500 if index == 0 else 1):
            sheet_.write(row, 0, f"+1415555{row:04d}")
    out = io.BytesIO()
    book.save(out)
    data = bytearray(out.getvalue())
    at, bound_sheets = 512, []  # xlwt writes the Workbook stream from the first sector
    while (kind := struct.unpack_from("<H", data, at)[0]) != 0x000A:
        if kind == 0x0085:
            bound_sheets.append(at + 4)
        at += 4 + struct.unpack_from("<H", data, at + 2)[0]
    first = struct.unpack_from("<I", data, bound_sheets[0])[0]
    for position in bound_sheets:
        struct.pack_into("<I", data, position, first)
    assert rejected(bytes(data)).reason == FileReason.UNREADABLE_FILE


def lying_dimensions_xls() -> bytes:
    """An .xls whose DIMENSIONS records claim 4 billion rows x 65,536 columns.

    calamine reserves room for that many cells before reading any: the process aborts.
    """
    data = bytearray(xls([["phone_number"], ["+14155552671"]]))
    record = b"\x00\x02\x0e\x00"  # DIMENSIONS, 14 bytes of data
    at = data.find(record)
    assert at > 0
    while at > 0:
        struct.pack_into("<IIHHH", data, at + 4, 0, 0xFFFFFFF0, 0, 0xFFFF, 0)
        at = data.find(record, at + 1)
    return bytes(data)


def test_hostile_files_stay_small_in_memory(tmp_path: Path, zip_bomb: bytes) -> None:
    """Read each hostile file in a fresh process: none may crash it or make it grow."""

    def far(workbook: openpyxl.Workbook) -> None:
        sheet_ = workbook.active
        assert sheet_ is not None
        sheet_["A1"] = "phone_number"
        sheet_["XFD1048576"] = "far away"

    files = {
        "bomb.xlsx": (zip_bomb, FileReason.FILE_TOO_LARGE),
        "dense.xlsx": (xlsx(build=far), FileReason.TOO_MANY_COLUMNS),
        "dense.xls": (xls([["phone_number"]], {(65535, 255): "far"}), FileReason.TOO_MANY_COLUMNS),
        "dimensions.xls": (lying_dimensions_xls(), "read"),
    }
    for name, (data, _) in files.items():
        (tmp_path / name).write_bytes(data)
    script = (
        "import sys\n"
        "from batch_calls.ingest.readers import read_table\n"
        "from batch_calls.ingest.table import FileRejected\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        rows = list(read_table(open(path, 'rb').read()).rows)\n"
        "        print('read' if rows == [(2, ['+14155552671'])] else rows)\n"
        "    except FileRejected as error:\n"
        "        print(error.reason)\n"
        # VmHWM, not ru_maxrss: Linux carries the parent's ru_maxrss over fork and exec.
        "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "print(int(peak.split()[1]) // 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *(str(tmp_path / name) for name in files)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    *outcomes, peak_mb = done.stdout.split()
    assert outcomes == [str(outcome) for _, outcome in files.values()]
    assert int(peak_mb) < 150


def test_namespace_prefixed_xlsx() -> None:
    ns = b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    body = (
        b'<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>phone_number</x:t></x:is></x:c>'
        b'</x:row><x:row r="2"><x:c r="A2"><x:v>14155552671</x:v></x:c></x:row>'
    )
    document = b"<x:worksheet " + ns + b"><x:sheetData>" + body + b"</x:sheetData></x:worksheet>"
    table, rows = read(handmade_xlsx(iter([document])))
    assert (table.header, rows) == (["phone_number"], [(2, ["14155552671"])])
    far = document.replace(b'r="A2"', b'r="XFD2"')
    assert rejected(handmade_xlsx(iter([far]))).reason == FileReason.TOO_MANY_COLUMNS


# --- JSON contacts ----------------------------------------------------------------------

CONTACTS = [
    {
        "id": "contact_1",
        "phoneNumber": "+15551234567",
        "name": "Jane",
        "company": None,
        "metadata": {"lead_score": 80, "vip": True, "tags": ["a", "b"], "ratio": 2.0},
    },
    {
        "id": "contact_2",
        "phone_number": 15557654321,
        "metadata": {"lead_score": 7.5, "extra": {"k": 1}},
    },
    {"id": "contact_3", "phoneNumber": "+15550000000", "metadata": None, "note": "ünïcode"},
]

CONTACTS_HEADER = [
    "phone_number",
    "id",
    "name",
    "company",
    "lead_score",
    "vip",
    "tags",
    "ratio",
    "extra",
    "note",
]


@pytest.mark.parametrize("shape", ["list", "object"])
def test_json_contacts(shape: str) -> None:
    payload = CONTACTS if shape == "list" else {"contacts": CONTACTS}
    table, rows = read(json.dumps(payload).encode(), "contacts.json")
    assert table.header == CONTACTS_HEADER
    assert table.header_row == 1
    assert rows == [
        (2, ["+15551234567", "contact_1", "Jane", "", "80", "true", '["a","b"]', "2", "", ""]),
        (3, ["15557654321", "contact_2", "", "", "7.5", "", "", "", '{"k":1}', ""]),
        (4, ["+15550000000", "contact_3", "", "", "", "", "", "", "", "ünïcode"]),
    ]


def test_json_without_a_name_is_recognised_and_bad_json_falls_back_to_csv() -> None:
    table, _ = read(json.dumps(CONTACTS).encode())
    assert table.header == CONTACTS_HEADER
    table, rows = read(b"[id],phone_number\n1,+1415\n")
    assert (table.header, rows) == (["[id]", "phone_number"], [(2, ["1", "+1415"])])


def test_json_named_as_csv_is_read_as_csv() -> None:
    table, _ = read(b'[{"phoneNumber": "+1415"}]', "contacts.csv")
    assert table.header == ['[{"phoneNumber": "+1415"}]']


def test_invalid_json_named_json() -> None:
    error = rejected(b'[{"phoneNumber": "+1415",}]', "contacts.json")
    assert error.reason == FileReason.UNREADABLE_FILE
    assert "line 1" in error.message


def test_metadata_key_colliding_with_a_field() -> None:
    contacts = [
        {"phoneNumber": "+1", "company": "A"},
        {"phoneNumber": "+2", "metadata": {"company": "B"}},
    ]
    error = rejected(json.dumps(contacts).encode(), "c.json")
    assert error.reason == FileReason.DUPLICATE_COLUMN
    assert '"company"' in error.message
    with pytest.raises(FileRejected) as caught:
        table_from_contacts([{"phoneNumber": "+1", "metadata": {"phone_number": "+2"}}])
    assert caught.value.reason == FileReason.DUPLICATE_COLUMN


@pytest.mark.parametrize(
    ("contacts", "reason"),
    [
        ([], FileReason.EMPTY_FILE),
        ({"contacts": []}, FileReason.EMPTY_FILE),
        (42, FileReason.UNREADABLE_FILE),
        ("contacts", FileReason.UNREADABLE_FILE),
        ({"people": []}, FileReason.UNREADABLE_FILE),
        ({"contacts": {"a": 1}}, FileReason.UNREADABLE_FILE),
        ([{"phoneNumber": "+1"}, "+2"], FileReason.UNREADABLE_FILE),
        ([{"phoneNumber": "+1", "phone_number": "+1"}], FileReason.DUPLICATE_COLUMN),
    ],
)
def test_json_wrong_shapes(contacts: object, reason: FileReason) -> None:
    with pytest.raises(FileRejected) as caught:
        table_from_contacts(contacts)
    assert caught.value.reason == reason


def test_json_too_many_contacts() -> None:
    with pytest.raises(FileRejected) as caught:
        table_from_contacts([{"phoneNumber": "+1"}] * (MAX_CONTACT_ROWS + 1))
    assert caught.value.reason == FileReason.TOO_MANY_ROWS


@given(st.integers(-(2**53) + 1, 2**53 - 1))
def test_whole_numbers_read_as_written(number: int) -> None:
    assert float_text(float(number)) == str(number)


@pytest.mark.parametrize(
    ("value", "text"),
    [(2.0**53, "9007199254740992"), (1e22, "10000000000000000000000"), (0.5, "0.5"),
     (1.2345678901234567e20, "123456789012345670000"), (-0.0, "0"), (1e-7, "0.0000001")],
)  # fmt: skip
def test_other_numbers_without_exponent_or_invented_digits(value: float, text: str) -> None:
    assert float_text(value) == text


def test_json_nested_too_deeply() -> None:
    error = rejected(b"[" * 100_000 + b"]" * 100_000, "c.json")
    assert error.reason == FileReason.UNREADABLE_FILE


# --- nothing escapes ------------------------------------------------------------------


def mutate(data: bytes, seed: int, flips: int) -> bytes:
    rng = random.Random(seed)
    mutated = bytearray(data)
    for _ in range(flips):
        mutated[rng.randrange(len(mutated))] = rng.randrange(256)
    return bytes(mutated)


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(
    source=st.sampled_from(["leads.xlsx", "leads.xls", "leads_semicolon.csv"]),
    seed=st.integers(0, 2**32),
    flips=st.integers(1, 40),
)
def test_damaged_files_are_rejected_or_read_never_crash(source: str, seed: int, flips: int) -> None:
    data = mutate((OFFICE / source).read_bytes(), seed, flips)
    try:
        read(data, source)
    except FileRejected as error:
        assert error.message


@FUZZ
@given(data=st.binary(max_size=2048), name=st.sampled_from([None, "a.csv", "a.json", "a.xlsx"]))
def test_arbitrary_bytes_never_crash(data: bytes, name: str | None) -> None:
    try:
        read(data, name)
    except FileRejected as error:
        assert error.message


def test_sheet_cells_cap_is_consistent() -> None:
    assert MAX_SHEET_CELLS >= (MAX_CONTACT_ROWS + 1) * 6  # a 100k x 6 contact list fits


# --- the guard's fast sheet scan agrees with an XML parser -----------------------------


@st.composite
def sheet_documents(draw: st.DrawFn) -> bytes:
    """Worksheet XML in the shapes writers produce, with or without references, and in
    some they do not: comments, CDATA sections, single quotes, `>` in values."""
    prefix = draw(st.sampled_from(["", "x:"]))
    referenced = draw(st.booleans())
    quote = draw(st.sampled_from(['"', "'"]))
    body = []
    row_number = 0
    for _ in range(draw(st.integers(0, 6))):
        row_number += draw(st.integers(1, 3))
        if draw(st.integers(0, 5)) == 0:
            body.append('<!-- <c r="XFD1"><v>1</v></c> -->')
        row_attr = f" r={quote}{row_number}{quote}" if draw(st.booleans()) else ""
        if draw(st.booleans()) and not referenced:
            body.append(f"<{prefix}row{row_attr}/>")
            continue
        cells = []
        col = 0
        for _ in range(draw(st.integers(0, 5))):
            col += draw(st.integers(1, 4))
            name = ""
            index = col
            while index:
                index, rest = divmod(index - 1, 26)
                name = chr(65 + rest) + name
            ref = (
                f" r={quote}{name}{row_number}{quote}" if referenced or draw(st.booleans()) else ""
            )
            style = draw(st.sampled_from(["", ' s="1"', ' x="a>b"']))
            attrs = ref + style if draw(st.booleans()) else style + ref
            if draw(st.booleans()):
                cells.append(f"<{prefix}c{attrs}/>")
            else:
                text = draw(
                    st.sampled_from(["1", "2.5", "a &amp; b", "x" * 40, "<![CDATA[<c r='A9'>]]>"])
                )
                cells.append(
                    f'<{prefix}c{attrs} t="inlineStr"><{prefix}is><{prefix}t>{text}'
                    f"</{prefix}t></{prefix}is></{prefix}c>"
                )
        body.append(f"<{prefix}row{row_attr}>{''.join(cells)}</{prefix}row>")
    declaration = 'xmlns:x="urn:x" ' if prefix else ""
    return (
        f'<?xml version="1.0"?>\n<{prefix}worksheet {declaration}xmlns="urn:main">'
        + f"<{prefix}sheetData>"
        + "\n".join(body)
        + f"</{prefix}sheetData></{prefix}worksheet>"
    ).encode()


class ExpatSheet:
    """The reference: where calamine places a sheet's value cells, read with expat."""

    def __init__(self) -> None:
        self.extent = Extent()
        self.row, self.col = 0, 0
        self.cell: tuple[int, int] | None = None
        self.has_value = False
        self.text = 0
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.characters

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.partition(":")[2] or name
        if self.cell is not None:
            self.has_value = True
        elif local == "c":
            reference = attributes.get("r")
            if reference is None:
                self.cell = (self.row, self.col)
            else:  # a reference moves the column count, not the row count
                letters = "".join(ch for ch in reference if ch.isalpha()).encode()
                digits = "".join(ch for ch in reference if ch.isdigit())
                self.col = max(column_index(letters), 0) if letters else 0
                self.cell = (int(digits) - 1 if digits else self.row, self.col)
            self.has_value = False
        elif local == "row" and (digits := "".join(filter(str.isdigit, attributes.get("r", "")))):
            self.row = int(digits) - 1

    def end(self, name: str) -> None:
        local = name.partition(":")[2] or name
        if local == "c" and self.cell is not None:
            if self.has_value:
                self.extent.add(*self.cell)
            self.cell = None
            self.col += 1
        elif local == "row" and self.cell is None:
            self.row, self.col = self.row + 1, 0

    def characters(self, data: str) -> None:
        self.text += len(data.encode())


@settings(max_examples=300, deadline=None)
@given(document=sheet_documents(), chunk=st.integers(1, 64))
def test_sheet_scan_matches_an_xml_parser(document: bytes, chunk: int) -> None:
    """The one-pass scan, fed in chunks of any size, places cells as calamine does."""
    scan = xlsx_guard._SheetScan(array("Q"))
    for at in range(0, len(document), chunk):
        scan.feed(document[at : at + chunk])
    scan.finish()
    exact = ExpatSheet()
    exact.parser.Parse(document, True)
    fast, reference = scan.extent, exact.extent
    where = (fast.cells, fast.top, fast.bottom, fast.left, fast.right)
    assert where == (
        reference.cells,
        reference.top,
        reference.bottom,
        reference.left,
        reference.right,
    )
    assert fast.text >= exact.text
    assert fast.longest >= 0


def test_a_tag_of_megabytes_is_read() -> None:
    """The fast scans give up on it (they cut blocks at tags); the XML parser reads it."""
    head = b'<row r="1"><c r="A1" t="inlineStr"><is><t>phone_number</t></is></c></row>'
    big = b'<row r="2"><c r="A2" t="inlineStr" x="' + b"y" * (3 << 20) + b'"><is><t>+1415'
    table, rows = read(handmade_xlsx(sheet(iter([head, big + b"5552671</t></is></c></row>"]))))
    assert (table.header, rows) == (["phone_number"], [(2, ["+14155552671"])])


def test_a_stray_cell_far_down_a_big_sheet_is_found() -> None:
    """The quick scan learns the columns from the sheet's start; a cell outside them or
    below the last possible contact row, megabytes later, still gets the sheet rejected."""
    rows = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>+1415555%04d</t></is></c>'
        b'<c r="B%d"><v>%d</v></c><c r="C%d"><v>7</v></c></row>' % (r, r, r % 10_000, r, r, r)
        for r in range(1, 40_001)
    )
    for stray, reason in [
        (b'<row r="40001"><c r="XFD40001"><v>1</v></c></row>', FileReason.TOO_MANY_COLUMNS),
        (b'<row r="1048576"><c r="C1048576"><v>1</v></c></row>', FileReason.TOO_MANY_ROWS),
    ]:
        assert rejected(handmade_xlsx(sheet(iter([rows, stray])))).reason == reason
    table = read_table(handmade_xlsx(sheet(iter([rows]))))
    assert sum(1 for _ in table.rows) == 39_999
