"""The file-reading layer of imports: detection, streaming rows, bad input, vCard, error files."""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import re
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.core.exports import write_xlsx
from kehu.imports.errors import ImportFileError, NoticeCode, RowCode
from kehu.imports.parsing import (
    MAX_CELL_CHARS,
    PREVIEW_ROWS,
    SAMPLE_SIZE,
    VCARD_COLUMNS,
    RawRow,
    Sniffed,
    iter_rows,
    sniff,
    write_error_file,
)


def put(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read(path: Path, filename: str | None = None, **overrides: object) -> tuple[Sniffed, list[RawRow]]:
    sniffed = sniff(path, filename=filename or path.name, **overrides)  # type: ignore[arg-type]
    return sniffed, list(iter_rows(path, sniffed))


def values(rows: list[RawRow]) -> list[list[str]]:
    return [r.values for r in rows]


def code_of(path: Path, filename: str | None = None, **overrides: object) -> str:
    with pytest.raises(ImportFileError) as info:
        sniff(path, filename=filename or path.name, **overrides)  # type: ignore[arg-type]
    return info.value.code


# --- encodings -----------------------------------------------------------------------------------

CHINESE = "姓名,电话,公司\r\n张三,13800138000,北京科技有限公司\r\n李四,13900139000,上海贸易有限公司\r\n"
WESTERN = "Name,City,Price\r\nMüller,Köln,12 €\r\nDupont,café,3\r\n"


@pytest.mark.parametrize(
    ("data", "encoding", "guessed"),
    [
        (CHINESE.encode("utf-8"), "utf-8", False),
        (codecs.BOM_UTF8 + CHINESE.encode("utf-8"), "utf-8-sig", False),
        (CHINESE.encode("gbk"), "gb18030", True),
        (WESTERN.encode("cp1252"), "cp1252", True),
        (codecs.BOM_UTF16_LE + CHINESE.encode("utf-16-le"), "utf-16", False),
        (codecs.BOM_UTF16_BE + CHINESE.encode("utf-16-be"), "utf-16", False),
        (CHINESE.encode("utf-16-le"), "utf-16-le", True),
    ],
    ids=["utf8", "utf8-bom", "gbk", "cp1252", "utf16le-bom", "utf16be-bom", "utf16le-no-bom"],
)
def test_encodings_are_detected(tmp_path: Path, data: bytes, encoding: str, guessed: bool) -> None:
    sniffed, rows = read(put(tmp_path, "c.csv", data))
    text = CHINESE if "姓名".encode() in data or encoding != "cp1252" else WESTERN
    expected = list(csv.reader(io.StringIO(text)))
    assert (sniffed.encoding, sniffed.delimiter, sniffed.format) == (encoding, ",", "csv")
    assert sniffed.headers == expected[0]
    assert values(rows) == expected[1:]
    assert [r.line for r in rows] == [2, 3]
    assert (NoticeCode.ENCODING_GUESSED in sniffed.warning_codes) is guessed


def test_gb18030_only_characters(tmp_path: Path) -> None:
    # 𠮷 (U+20BB7) and 㐀 (U+3400) are not in GBK: only GB18030 encodes them.
    text = "名字,备注\n𠮷野家,㐀字\n张三,€ 欧元\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    sniffed, rows = read(put(tmp_path, "c.csv", text.encode("gb18030")))
    assert sniffed.encoding == "gb18030"
    assert values(rows) == [["𠮷野家", "㐀字"], ["张三", "€ 欧元"]]


def test_encoding_of_an_ascii_start_is_decided_by_the_first_non_ascii_bytes(tmp_path: Path) -> None:
    head = "name,city\n" + "smith,london\n" * (SAMPLE_SIZE // 12 + 100)
    data = (head + "Müller,Köln\n").encode("cp1252")
    sniffed, rows = read(put(tmp_path, "late.csv", data))
    assert sniffed.encoding == "cp1252"
    assert rows[-1].values == ["Müller", "Köln"]
    assert rows[-1].code == ""


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_a_character_cut_at_the_sample_end_is_still_utf8(tmp_path: Path, shift: int) -> None:
    body = "张三丰,北京市\n" * (SAMPLE_SIZE // 20 + 50)
    sniffed, rows = read(put(tmp_path, "c.csv", ("a" * shift + "名,城\n" + body).encode()))
    assert (sniffed.encoding, len(rows)) == ("utf-8", body.count("\n"))
    assert {r.code for r in rows} == {""}


def test_a_stray_byte_in_a_utf8_file_is_that_rows_error(tmp_path: Path) -> None:
    rows_text = "".join(f"张三{i},北京\n" for i in range(50))
    data = ("名字,城市\n" + rows_text).encode() + b"M\xfcller,K\xf6ln\n" + "李四,上海\n".encode()
    sniffed, rows = read(put(tmp_path, "c.csv", data))
    assert sniffed.encoding == "utf-8"
    assert [(r.line, r.code) for r in rows[-2:]] == [(52, RowCode.UNREADABLE_CHARACTERS), (53, "")]
    assert rows[0].values == ["张三0", "北京"]


def test_encoding_override_wins_and_gbk_means_gb18030(tmp_path: Path) -> None:
    path = put(tmp_path, "c.csv", CHINESE.encode("gbk"))
    assert sniff(path, filename="c.csv", encoding="GBK").encoding == "gb18030"
    assert sniff(path, filename="c.csv", encoding="utf_8").encoding == "utf-8"
    assert code_of(path, encoding="klingon") == ImportFileError.UNKNOWN_ENCODING
    utf16 = put(tmp_path, "u.csv", codecs.BOM_UTF16_LE + CHINESE.encode("utf-16-le"))
    assert code_of(utf16, encoding="utf-8") == ImportFileError.UNKNOWN_ENCODING


def test_bytes_not_valid_in_the_encoding_flag_their_row(tmp_path: Path) -> None:
    data = "名字,城市\n张三,北京\n".encode() + b"bad \xe9 byte,x\n" + "李四,上海\n".encode()
    _sniffed, rows = read(put(tmp_path, "c.csv", data), encoding="utf-8")
    assert [(r.line, r.code) for r in rows] == [(2, ""), (3, RowCode.UNREADABLE_CHARACTERS), (4, "")]
    assert rows[1].values == ["bad \ufffd byte", "x"]
    assert "UTF-8" in rows[1].error


# --- delimiters and header -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "filename", "delimiter"),
    [
        ('a,b,c\n1,"x,y",3\n4,5,6\n', "t.csv", ","),
        ("a\tb\tc\n1\tx,y\t3\n", "t.txt", "\t"),
        ("Name;Preis;Menge\nMüller;12,50;3\nSchmidt;3,10;1\n", "t.csv", ";"),
        ("a|b\n1|2\n3|4\n", "t.csv", "|"),
        ("a\tb\n1\t2\n", "t.tsv", "\t"),
        ("one column\nx\ny\n", "t.tsv", "\t"),
        ("one column\nx\ny\n", "t.csv", ","),
    ],
)
def test_delimiter_detection(tmp_path: Path, text: str, filename: str, delimiter: str) -> None:
    sniffed = sniff(put(tmp_path, filename, text.encode()), filename=filename)
    assert sniffed.delimiter == delimiter
    assert sniffed.format == ("tsv" if delimiter == "\t" else "csv")


def test_delimiter_override_and_invalid_delimiter(tmp_path: Path) -> None:
    path = put(tmp_path, "t.csv", b"a;b,c\n1;2,3\n")
    assert sniff(path, filename="t.csv", delimiter=";").headers == ["a", "b,c"]
    assert code_of(path, delimiter='"') == ImportFileError.INVALID_DELIMITER
    assert code_of(path, delimiter=";;") == ImportFileError.INVALID_DELIMITER


def test_options_read_the_file_again_the_same_way(tmp_path: Path) -> None:
    path = put(tmp_path, "t.csv", "Report\n名字;电话\n张三;138\n".encode("gbk"))
    first = sniff(path, filename="t.csv")
    assert first.options == {"header_row": 2, "encoding": "gb18030", "delimiter": ";"}
    again = sniff(path, filename="t.csv", **first.options)
    assert (again.headers, again.preview, again.warnings) == (first.headers, first.preview, [])
    xlsx = sniff(put(tmp_path, "t.xlsx", _xlsx_bytes([["a", "b"], [1, 2]])), filename="t.xlsx")
    assert xlsx.options == {"header_row": 1, "sheet": "Contacts"}
    vcard = sniff(put(tmp_path, "t.vcf", VCARD_40.encode()), filename="t.vcf")
    assert vcard.options == {"encoding": "utf-8"}


def test_title_rows_above_the_header_are_skipped_and_reported(tmp_path: Path) -> None:
    text = "Customer list;;;\nExported 2024-05-01;;;\n\nName;Phone;Email\nZhang;138;z@x.cn\n"
    sniffed, rows = read(put(tmp_path, "t.csv", text.encode()))
    assert (sniffed.header_row, sniffed.headers) == (4, ["Name", "Phone", "Email"])
    assert sniffed.warning_codes == [NoticeCode.TITLE_ROWS_SKIPPED]
    assert "row 4" in sniffed.warnings[0].message
    assert [(r.line, r.values) for r in rows] == [(5, ["Zhang", "138", "z@x.cn"])]


def test_the_header_is_found_below_many_blank_lines(tmp_path: Path) -> None:
    sniffed, rows = read(put(tmp_path, "b.csv", b"\n" * 100 + b"a,b\n\n1,2\n"))
    assert (sniffed.header_row, sniffed.headers, [(r.line, r.values) for r in rows]) == (
        101,
        ["a", "b"],
        [(103, ["1", "2"])],
    )


def test_header_row_override_and_no_header(tmp_path: Path) -> None:
    path = put(tmp_path, "t.csv", b"Report\nName,Phone\nZhang,138\n")
    sniffed, rows = read(path, header_row=2)
    assert (sniffed.headers, values(rows), sniffed.warnings) == (["Name", "Phone"], [["Zhang", "138"]], [])
    sniffed, rows = read(path, header_row=0)
    assert sniffed.headers == ["Column 1", "Column 2"]
    assert [(r.line, r.values, r.code) for r in rows] == [
        (1, ["Report", ""], ""),
        (2, ["Name", "Phone"], ""),
        (3, ["Zhang", "138"], ""),
    ]
    assert code_of(path, header_row=9) == ImportFileError.HEADER_ROW_OUT_OF_RANGE
    assert code_of(put(tmp_path, "b.csv", b"a,b\n\n1,2\n"), header_row=2) == ImportFileError.BLANK_HEADER_ROW


def test_blank_and_duplicate_headers_get_names(tmp_path: Path) -> None:
    text = "Name,,Email,email,Email,Column 2\n1,2,3,4,5,6\n"
    sniffed = sniff(put(tmp_path, "h.csv", text.encode()), filename="h.csv")
    assert sniffed.headers == ["Name", "Column 2*", "Email", "email (2)", "Email (3)", "Column 2"]
    assert sniffed.warning_codes == [NoticeCode.BLANK_HEADERS, NoticeCode.DUPLICATE_HEADERS]


def test_trailing_blank_headers_are_dropped_and_data_under_no_header_named(tmp_path: Path) -> None:
    sniffed, rows = read(put(tmp_path, "h.csv", b"a,b,,,\n1,2,,,\n3,4,,,\n"))
    assert (sniffed.headers, values(rows), sniffed.warnings) == (["a", "b"], [["1", "2"], ["3", "4"]], [])
    sniffed, rows = read(put(tmp_path, "w.csv", b"a,b\n1,2,x\n3,4,y\n"))
    assert sniffed.headers == ["a", "b", "Column 3"]
    assert values(rows) == [["1", "2", "x"], ["3", "4", "y"]]


def test_preview_holds_the_first_rows_and_the_estimate_scales(tmp_path: Path) -> None:
    lines = ["id,name,phone"] + [f"{i:05d},name {i:05d},1380013{i:04d}" for i in range(1, 20001)]
    sniffed, rows = read(put(tmp_path, "big.csv", ("\n".join(lines) + "\n").encode()))
    assert len(sniffed.preview) == PREVIEW_ROWS
    assert sniffed.preview[0] == RawRow(2, ["00001", "name 00001", "13800130001"])
    assert sniffed.preview[-1].line == PREVIEW_ROWS + 1
    assert sniffed.row_estimate is not None
    assert 19000 < sniffed.row_estimate < 21000
    assert len(rows) == 20000
    small = sniff(put(tmp_path, "small.csv", b"a,b\n1,2\n\n3,4\n"), filename="small.csv")
    assert small.row_estimate == 2


# --- bad input -----------------------------------------------------------------------------------


def test_empty_files(tmp_path: Path) -> None:
    assert code_of(put(tmp_path, "e.csv", b"")) == ImportFileError.EMPTY_FILE
    assert code_of(put(tmp_path, "e2.csv", codecs.BOM_UTF8 + b"\r\n\r\n  \n")) == ImportFileError.EMPTY_FILE
    assert code_of(put(tmp_path, "e3.csv", b",,,\n,,\n")) == ImportFileError.EMPTY_FILE
    assert code_of(put(tmp_path, "e.xlsx", _xlsx_bytes([]))) == ImportFileError.EMPTY_FILE


def test_header_only_is_a_warning(tmp_path: Path) -> None:
    sniffed, rows = read(put(tmp_path, "h.csv", b"Name,Phone\r\n"))
    assert (sniffed.headers, sniffed.preview, rows) == (["Name", "Phone"], [], [])
    assert sniffed.warning_codes == [NoticeCode.HEADER_ONLY]
    assert sniffed.row_estimate == 0


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        bytes(range(256)) * 64,
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" * 100,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    ],
    ids=["png", "all-bytes", "exe", "pdf"],
)
def test_binary_data_renamed_csv(tmp_path: Path, data: bytes) -> None:
    assert code_of(put(tmp_path, "contacts.csv", data)) == ImportFileError.BINARY_FILE


def test_broken_and_unsupported_spreadsheets(tmp_path: Path) -> None:
    good = _xlsx_bytes([["a", "b"], [1, 2]])
    assert code_of(put(tmp_path, "t.xlsx", good[: len(good) // 2])) == ImportFileError.BROKEN_XLSX
    assert code_of(put(tmp_path, "r.xlsx", bytes(range(256)) * 4)) == ImportFileError.BROKEN_XLSX
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert code_of(put(tmp_path, "z.xlsx", buf.getvalue())) == ImportFileError.BROKEN_XLSX
    assert code_of(put(tmp_path, "z.zip", buf.getvalue())) == ImportFileError.UNSUPPORTED_FORMAT
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<x/>")
    assert code_of(put(tmp_path, "s.ods", buf.getvalue())) == ImportFileError.UNSUPPORTED_FORMAT
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    assert code_of(put(tmp_path, "old.xls", ole2)) == ImportFileError.OLD_EXCEL
    # A CSV renamed .xlsx by hand is read as the CSV it is.
    sniffed, rows = read(put(tmp_path, "renamed.xlsx", b"a,b\n1,2\n"))
    assert (sniffed.format, values(rows)) == ("csv", [["1", "2"]])


def test_ragged_rows(tmp_path: Path) -> None:
    _sniffed, rows = read(put(tmp_path, "r.csv", b"a,b,c\n1\n1,2\n1,2,3\n1,2,3,4,5\n1,2,3,,\n"))
    assert [(r.line, r.values, r.code) for r in rows] == [
        (2, ["1", "", ""], ""),
        (3, ["1", "2", ""], ""),
        (4, ["1", "2", "3"], ""),
        (5, ["1", "2", "3", "4", "5"], RowCode.TOO_MANY_VALUES),
        (6, ["1", "2", "3"], ""),
    ]
    assert rows[3].error == "The row has 5 values but the file has 3 columns."


def test_a_10_mb_cell_is_read(tmp_path: Path) -> None:
    big = "x" * (10 * 1024 * 1024)
    sniffed, rows = read(put(tmp_path, "big.csv", f'name,note\nZhang,"{big}"\nLi,short\n'.encode()))
    assert sniffed.headers == ["name", "note"]
    assert [(r.line, len(r.values[1]), r.code) for r in rows] == [(2, len(big), ""), (3, 5, "")]


def test_a_cell_over_the_limit_is_a_row_error_and_reading_goes_on(tmp_path: Path) -> None:
    huge = "y" * (MAX_CELL_CHARS + 10)
    path = put(tmp_path, "huge.csv", f"name,note\nA,1\nB,{huge}\nC,3\n".encode())
    _sniffed, rows = read(path)
    assert [(r.line, r.values, r.code) for r in rows] == [
        (2, ["A", "1"], ""),
        (3, ["", ""], RowCode.CELL_TOO_LARGE),
        (4, ["C", "3"], ""),
    ]
    assert "16 MB" in rows[1].error


def test_mixed_line_endings_nul_bytes_and_a_bom_in_the_middle(tmp_path: Path) -> None:
    data = b'a,b\r\n1,2\n3,4\r5,"multi\r\nline"\r\n\xef\xbb\xbf6,7\x00\n8,9'
    sniffed, rows = read(put(tmp_path, "m.csv", data))
    assert sniffed.headers == ["a", "b"]
    assert [(r.line, r.values) for r in rows] == [
        (2, ["1", "2"]),
        (3, ["3", "4"]),
        (4, ["5", "multi\r\nline"]),
        (5, ["6", "7"]),
        (6, ["8", "9"]),
    ]


def test_formula_cells_in_csv_stay_text(tmp_path: Path) -> None:
    data = b'name,link\nA,"=HYPERLINK(""http://evil"",""x"")"\nB,+8613800138000\n'
    _sniffed, rows = read(put(tmp_path, "f.csv", data))
    assert values(rows) == [["A", '=HYPERLINK("http://evil","x")'], ["B", "+8613800138000"]]


# --- XLSX ----------------------------------------------------------------------------------------


def _xlsx_bytes(rows: list[list[object]], *, sheets: dict[str, list[list[object]]] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Contacts"
    for row in rows:
        ws.append(row)
    for title, other in (sheets or {}).items():
        extra = wb.create_sheet(title)
        for row in other:
            extra.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_values_as_text(tmp_path: Path) -> None:
    data = _xlsx_bytes(
        [
            ["Name", "Phone", "Amount", "Born", "Met", "Active", None],
            ["张三", 13800138000.0, 12.5, dt.date(1985, 4, 12), dt.datetime(2024, 5, 1, 9, 30), True, None],
            ["Li", 8613800138000, -3.0, dt.datetime(2000, 1, 2), None, False, None],
            [None, None, None, None, None, None, None],
            ["Wang"],
        ]
    )
    sniffed, rows = read(put(tmp_path, "c.xlsx", data))
    assert (sniffed.format, sniffed.encoding, sniffed.delimiter) == ("xlsx", "", "")
    assert (sniffed.sheets, sniffed.sheet, sniffed.header_row) == (["Contacts"], "Contacts", 1)
    assert sniffed.headers == ["Name", "Phone", "Amount", "Born", "Met", "Active"]
    assert [(r.line, r.values) for r in rows] == [
        (2, ["张三", "13800138000", "12.5", "1985-04-12", "2024-05-01 09:30:00", "TRUE"]),
        (3, ["Li", "8613800138000", "-3", "2000-01-02", "", "FALSE"]),
        (5, ["Wang", "", "", "", "", ""]),
    ]
    assert sniffed.row_estimate == 4


def test_xlsx_row_numbers_count_empty_rows_and_columns(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["C3"], ws["D3"] = "Name", "Phone"
    ws["C4"], ws["D4"] = "Zhang", "138"
    ws["D7"] = "139"
    buf = io.BytesIO()
    wb.save(buf)
    sniffed, rows = read(put(tmp_path, "gap.xlsx", buf.getvalue()))
    assert (sniffed.header_row, sniffed.headers) == (3, ["Column 1", "Column 2", "Name", "Phone"])
    assert [(r.line, r.values) for r in rows] == [(4, ["", "", "Zhang", "138"]), (7, ["", "", "", "139"])]


def test_our_own_xlsx_export_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    rows: list[list[object]] = [
        ["张三", 13800138000, dt.date(2024, 5, 1), "=not a formula", "a & <b>"],
        ["Li", None, dt.datetime(2024, 5, 1, 8, 15), "", "line\nbreak"],
    ]
    write_xlsx(path, "Contacts", ["Name", "Phone", "Since", "Note", "Other"], rows, lambda n: None)
    sniffed, read_rows = read(path)
    assert sniffed.headers == ["Name", "Phone", "Since", "Note", "Other"]
    assert values(read_rows) == [
        ["张三", "13800138000", "2024-05-01", "=not a formula", "a & <b>"],
        ["Li", "", "2024-05-01 08:15:00", "", "line\nbreak"],
    ]


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _shared_strings_xlsx(rows: list[list[str]], si: list[str] | None = None) -> bytes:
    """An XLSX whose text cells point into a shared-string table, as Excel and WPS save them
    (openpyxl writes inline strings only). `si` replaces the table's <si> items (XML)."""
    data = _xlsx_bytes(rows)  # type: ignore[arg-type]
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    texts: list[str] = []

    def shared(match: re.Match[str]) -> str:
        texts.append(match.group(2))
        return f'<c r="{match.group(1)}" t="s"><v>{len(texts) - 1}</v></c>'

    sheet = re.sub(
        r'<c r="(\w+)" t="inlineStr"><is><t>(.*?)</t></is></c>',
        shared,
        parts["xl/worksheets/sheet1.xml"].decode(),
    )
    items = si if si is not None else [f"<si><t>{t}</t></si>" for t in texts]
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    parts["xl/sharedStrings.xml"] = f'<sst xmlns="{_NS}">{"".join(items)}</sst>'.encode()
    parts["[Content_Types].xml"] = (
        parts["[Content_Types].xml"]
        .decode()
        .replace(
            "</Types>",
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
        .encode()
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for name, content in parts.items():
            out.writestr(name, content)
    return buf.getvalue()


def test_xlsx_shared_strings_rich_text_and_escapes(tmp_path: Path) -> None:
    si = [
        "<si><t>Name</t></si>",
        "<si><t>Note</t></si>",
        '<si><r><rPr><b/></rPr><t>张</t></r><r><t xml:space="preserve"> 三</t></r>'
        '<rPh sb="0" eb="1"><t>zhang</t></rPh></si>',
        "<si><t>line_x000D_\nnext _x005F_x000D_ &amp; &lt;ok&gt;</t></si>",
    ]
    path = put(tmp_path, "s.xlsx", _shared_strings_xlsx([["a", "b"], ["c", "d"]], si))
    with zipfile.ZipFile(path) as zf:
        assert b't="s"' in zf.read("xl/worksheets/sheet1.xml")
    sniffed, rows = read(path)
    assert sniffed.headers == ["Name", "Note"]
    assert values(rows) == [["张 三", "line\r\nnext _x000D_ & <ok>"]]
    plain, plain_rows = read(
        put(tmp_path, "p.xlsx", _shared_strings_xlsx([["姓名", "电话"], ["张三", "138"]]))
    )
    assert (plain.headers, values(plain_rows)) == (["姓名", "电话"], [["张三", "138"]])


def _with_sheet_xml(sheet: str) -> bytes:
    data = _xlsx_bytes([["x"]])
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as out:
        for name in src.namelist():
            body = sheet.encode() if name == "xl/worksheets/sheet1.xml" else src.read(name)
            out.writestr(name, body)
    return buf.getvalue()


def test_xlsx_with_prefixed_tags_and_an_empty_sheet(tmp_path: Path) -> None:
    sheet = (
        f'<x:worksheet xmlns:x="{_NS}"><x:dimension ref="A1:B2"/><x:sheetData>'
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>Name</x:t></x:is></x:c>'
        '<x:c r="B1" t="inlineStr"><x:is><x:t>Phone</x:t></x:is></x:c></x:row>'
        '<x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>张三</x:t></x:is></x:c>'
        '<x:c r="B2"><x:v>13800138000</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    )
    sniffed, rows = read(put(tmp_path, "p.xlsx", _with_sheet_xml(sheet)))
    assert (sniffed.headers, values(rows), sniffed.row_estimate) == (
        ["Name", "Phone"],
        [["张三", "13800138000"]],
        1,
    )
    empty = f'<worksheet xmlns="{_NS}"><sheetData/></worksheet>'
    assert code_of(put(tmp_path, "e.xlsx", _with_sheet_xml(empty))) == ImportFileError.EMPTY_FILE


def test_a_long_xlsx_reads_every_row(tmp_path: Path) -> None:
    path = tmp_path / "long.xlsx"
    rows = [[f"name {i}", 13800000000 + i, f"备注 {i} & <x>"] for i in range(6000)]
    write_xlsx(path, "Contacts", ["Name", "Phone", "Note"], rows, lambda n: None)
    sniffed, read_rows = read(path)
    assert sniffed.row_estimate is not None
    assert 5700 < sniffed.row_estimate < 6300  # no <dimension> in our exports: estimated by size
    assert [r.values for r in read_rows] == [[a, str(b), c] for a, b, c in rows]
    assert read_rows[-1].line == 6001


def test_xlsx_sheet_choice_and_titles(tmp_path: Path) -> None:
    data = _xlsx_bytes(
        [["a", "b"], [1, 2]], sheets={"客户": [["客户名单"], [], ["名称", "电话"], ["甲", "138"]]}
    )
    path = put(tmp_path, "c.xlsx", data)
    sniffed, rows = read(path, sheet="客户")
    assert (sniffed.sheets, sniffed.header_row, sniffed.headers) == (
        ["Contacts", "客户"],
        3,
        ["名称", "电话"],
    )
    assert sniffed.warning_codes == [NoticeCode.TITLE_ROWS_SKIPPED]
    assert [(r.line, r.values) for r in rows] == [(4, ["甲", "138"])]
    assert code_of(path, sheet="Nope") == ImportFileError.SHEET_NOT_FOUND


def test_xlsx_formulas_read_cached_values_or_are_reported(tmp_path: Path) -> None:
    data = _xlsx_bytes([["Name", "Link", "Sum"], ["A", '=HYPERLINK("http://x","Click")', "=1+1"]])
    path = put(tmp_path, "f.xlsx", data)
    sniffed, rows = read(path)
    # openpyxl saves formulas without a result: the row cannot be imported and the preview says so.
    assert [(r.values, r.code) for r in rows] == [(["A", "", ""], RowCode.FORMULA_WITHOUT_VALUE)]
    assert "B2, C2" in rows[0].error
    assert sniffed.warning_codes == [NoticeCode.FORMULAS_WITHOUT_VALUES]
    assert sniffed.warnings[0].message.startswith("Formulas in 1 of the first rows")
    # As Excel saves them: the formula and its cached result.
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(
        r'<c r="B2"><f>(.*?)</f><v\s*/?>(</v>)?', r'<c r="B2" t="str"><f>\1</f><v>Click</v>', sheet
    )
    sheet = re.sub(r'<c r="C2"><f>(.*?)</f><v\s*/?>(</v>)?', r'<c r="C2"><f>\1</f><v>2</v>', sheet)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    sniffed, rows = read(put(tmp_path, "cached.xlsx", buf.getvalue()))
    assert values(rows) == [["A", "Click", "2"]]
    assert sniffed.warnings == []


# --- vCard ---------------------------------------------------------------------------------------

VCARD_30 = """BEGIN:VCARD
VERSION:3.0
FN:张三
N:张;三;;;
ORG:北京科技有限公司;销售部
TITLE:经理
EMAIL;TYPE=INTERNET,WORK:zhang@example.cn
EMAIL;TYPE=INTERNET,HOME,PREF:zs@example.com
TEL;TYPE=CELL:138 0013 8000
TEL;TYPE=WORK,VOICE:010-12345678
ADR;TYPE=WORK:;;朝阳路 1 号;北京;;100000;中国
BDAY:1985-04-12
NOTE:A note that is fol
 ded\\, with a comma
URL:https://example.cn
END:VCARD
"""
VCARD_40 = """BEGIN:VCARD
VERSION:4.0
FN:Zoë Müller
N:Müller;Zoë;;Dr.;
EMAIL;TYPE=work:zoe@example.com
TEL;VALUE=uri;TYPE="voice,cell";PREF=1:tel:+49-170-1234567
BDAY:19850412
END:VCARD
"""
# Android / old Outlook: vCard 2.1, QUOTED-PRINTABLE with a charset and soft line breaks.
VCARD_21 = (
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=9D=8E;=E5=9B=9B;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=9D=8E=E5=9B=9B\r\n"
    "TEL;CELL:13900139000\r\n"
    "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:line1=0D=0Aline2 =E6=\r\n"
    "=9D=8E\r\n"
    "END:VCARD\r\n"
)


def _vcard_row(row: RawRow) -> dict[str, str]:
    return {key: value for (key, _label), value in zip(VCARD_COLUMNS, row.values, strict=True) if value}


def test_vcards_3_and_4_and_android_21(tmp_path: Path) -> None:
    path = put(tmp_path, "contacts.vcf", (VCARD_30 + VCARD_40 + VCARD_21).encode())
    sniffed, rows = read(path)
    assert (sniffed.format, sniffed.header_row, sniffed.row_estimate) == ("vcard", 0, 3)
    assert sniffed.headers[:3] == ["Full name", "Family name", "Given name"]
    assert len(sniffed.headers) == len(VCARD_COLUMNS)
    assert [r.code for r in rows] == ["", "", ""]
    assert _vcard_row(rows[0]) == {
        "full_name": "张三",
        "family_name": "张",
        "given_name": "三",
        "organisation": "北京科技有限公司",
        "title": "经理",
        "email_1": "zs@example.com",
        "email_2": "zhang@example.cn",
        "phone_1": "138 0013 8000",
        "phone_1_type": "cell",
        "phone_2": "010-12345678",
        "phone_2_type": "work",
        "address": "朝阳路 1 号, 北京, 100000, 中国",
        "birthday": "1985-04-12",
        "note": "A note that is folded, with a comma",
        "url": "https://example.cn",
    }
    assert _vcard_row(rows[1]) == {
        "full_name": "Zoë Müller",
        "family_name": "Müller",
        "given_name": "Zoë",
        "email_1": "zoe@example.com",
        "phone_1": "+49-170-1234567",
        "phone_1_type": "cell",
        "birthday": "1985-04-12",
    }
    assert _vcard_row(rows[2]) == {
        "full_name": "李四",
        "family_name": "李",
        "given_name": "四",
        "phone_1": "13900139000",
        "phone_1_type": "cell",
        "note": "line1\r\nline2 李",
    }
    assert sniffed.preview == rows


def test_a_broken_vcard_is_a_row_error_and_the_others_are_read(tmp_path: Path) -> None:
    broken = "BEGIN:VCARD\nVERSION:3.0\nFN:Broken\nthis line has no colon\nEND:VCARD\n"
    unfinished = "BEGIN:VCARD\nVERSION:3.0\nFN:Cut off\n"
    path = put(tmp_path, "c.vcf", (VCARD_40 + broken + VCARD_30 + unfinished).encode("utf-8"))
    _sniffed, rows = read(path)
    assert [(r.line, r.code) for r in rows] == [
        (1, ""),
        (2, RowCode.BROKEN_VCARD),
        (3, ""),
        (4, RowCode.BROKEN_VCARD),
    ]
    assert rows[1].error.startswith("Contact card 2 could not be read")
    assert rows[3].error == "Contact card 4 could not be read: The card has no END:VCARD line."
    assert rows[2].values[0] == "张三"


def test_vcard_in_gb18030_and_a_vcf_that_is_not_one(tmp_path: Path) -> None:
    _sniffed, rows = read(put(tmp_path, "c.vcf", VCARD_30.encode("gb18030")))
    assert rows[0].values[0] == "张三"
    assert code_of(put(tmp_path, "x.vcf", b"name,phone\na,1\n")) == ImportFileError.NOT_VCARD


# --- error file ----------------------------------------------------------------------------------


def test_error_file_round_trips(tmp_path: Path) -> None:
    source = put(tmp_path, "in.csv", '姓名,备注\n张三,=HYPERLINK("x")\n李四,ok\n王五,a,extra\n'.encode("gbk"))
    sniffed, rows = read(source)
    rejected = [(r, r.error or "Phone is missing") for r in rows if r.values[0] != "李四"]
    out = tmp_path / "errors.csv"
    assert write_error_file(out, sniffed, rejected) == 2
    raw = out.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    assert raw.decode("utf-8-sig").splitlines() == [
        "Error,姓名,备注",
        'Phone is missing,张三,"\'=HYPERLINK(""x"")"',
        "The row has 3 values but the file has 2 columns.,王五,a,extra",
    ]
    again, again_rows = read(out)
    assert (again.encoding, again.headers) == ("utf-8-sig", ["Error", "姓名", "备注"])
    assert [r.values[1:] for r in again_rows] == [["张三", '\'=HYPERLINK("x")'], ["王五", "a", "extra"]]


# --- properties ----------------------------------------------------------------------------------

_CELL_CHARS = st.sampled_from(list("abcXYZ 019-_.@\"'\n") + list("张三李四北京€éüß") + ["\r\n", "𠮷"])
_PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _tables(cell_chars: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[list[str], list[list[str]]]]:
    cell = st.lists(cell_chars, max_size=12).map("".join)

    def build(width: int) -> st.SearchStrategy[tuple[list[str], list[list[str]]]]:
        header = st.lists(
            st.text(st.sampled_from(list("abcdefgh姓名电话")), min_size=1, max_size=6),
            min_size=width,
            max_size=width,
            unique_by=str.casefold,
        )
        row = st.lists(cell, min_size=width, max_size=width).filter(lambda r: any(r))
        return st.tuples(header, st.lists(row, min_size=1, max_size=15))

    return st.integers(min_value=2, max_value=6).flatmap(build)


def _write(table: tuple[list[str], list[list[str]]], delimiter: str, encoding: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(table[0])
    writer.writerows(table[1])
    return buf.getvalue().encode(encoding)


@_PROPS
@given(
    table=_tables(_CELL_CHARS),
    delimiter=st.sampled_from([",", "\t", ";", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030", "cp1252"]),
)
def test_round_trip_with_the_format_given(
    delimiter: str, encoding: str, table: tuple[list[str], list[list[str]]]
) -> None:
    data = _write(table, delimiter, "utf-8" if encoding == "cp1252" else encoding)
    if encoding == "cp1252":
        data = _write(_to_cp1252(table), delimiter, "cp1252")
        table = _to_cp1252(table)
    with tempfile.TemporaryDirectory() as tmp:
        path = put(Path(tmp), "t.csv", data)
        sniffed, rows = read(path, encoding=encoding, delimiter=delimiter, header_row=1)
    assert sniffed.headers == table[0]
    assert values(rows) == table[1]


def _to_cp1252(table: tuple[list[str], list[list[str]]]) -> tuple[list[str], list[list[str]]]:
    def fix(s: str) -> str:
        return s.encode("cp1252", errors="replace").decode("cp1252")

    header = [fix(h) or "h" for h in table[0]]
    header = [f"{h}{i}" for i, h in enumerate(header)]
    return header, [[fix(c) for c in r] for r in table[1]]


@_PROPS
@given(
    data=st.data(),
    delimiter=st.sampled_from([",", "\t", ";", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_round_trip_detected(data: st.DataObject, delimiter: str, encoding: str) -> None:
    """Encoding, delimiter and header found by themselves (cells may hold the file's own delimiter,
    quotes and line breaks; the other candidate delimiters would make a second valid reading)."""
    chars = st.sampled_from([*list("abc 01\"'\n张三李四€é"), "\r\n", "𠮷", delimiter])
    table = data.draw(_tables(chars))
    with tempfile.TemporaryDirectory() as tmp:
        path = put(Path(tmp), "t.csv", _write(table, delimiter, encoding))
        sniffed, rows = read(path)
    assert (sniffed.encoding, sniffed.delimiter, sniffed.header_row) == (encoding, delimiter, 1)
    assert sniffed.headers == table[0]
    assert values(rows) == table[1]


@_PROPS
@given(
    text=st.text(st.sampled_from(list(',;\t|"\n\r ab张\x00\ufeff')), max_size=200),
    encoding=st.sampled_from(["utf-8", "gb18030", "utf-16"]),
)
def test_random_ragged_text_never_raises_but_import_file_error(text: str, encoding: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = put(Path(tmp), "r.csv", text.encode(encoding))
        try:
            sniffed, rows = read(path)
        except ImportFileError as exc:
            assert exc.code in (ImportFileError.EMPTY_FILE, ImportFileError.BINARY_FILE)
            return
    width = len(sniffed.headers)
    assert width >= 1
    for row in rows:
        assert (len(row.values) == width) or row.code in (RowCode.TOO_MANY_VALUES,)


@_PROPS
@given(data=st.binary(max_size=600), name=st.sampled_from(["x.csv", "x.xlsx", "x.vcf", "x.tsv"]))
def test_random_bytes_never_raise_but_import_file_error(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = put(Path(tmp), name, data)
        with contextlib.suppress(ImportFileError):
            read(path)


@_PROPS
@given(table=_tables(st.sampled_from([*"abc 01\"'<>&;,\n", "张", "三", "€", "𠮷", "="])))
def test_xlsx_round_trip_through_our_export(table: tuple[list[str], list[list[str]]]) -> None:
    """(No CR and no literal "_x000D_" in the cells: core's writer puts them in the XML as they
    are, where XML turns CR LF into LF and Excel, like us, reads _x000D_ as a CR.)"""
    header, rows = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.xlsx"
        write_xlsx(path, "T", header, rows, lambda n: None)
        sniffed, read_rows = read(path)
    assert sniffed.headers == header
    assert values(read_rows) == rows
