"""write_xlsx keeps cell text exactly: CR (alone or in CR LF) and literal "_xHHHH_" sequences come
back unchanged when the file is read with openpyxl and the OOXML ST_Xstring rule ("_xHHHH_" is
U+HHHH) is applied, as Excel, LibreOffice and our import reader apply it."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils.escape import unescape

from kehu.core.exports import write_xlsx

AWKWARD = [
    "line 1\r\nline 2",
    "a\rb",
    "\rleading CR",
    "trailing CR\r",
    "x_x000D_y",
    "_x000D_",
    "_x005F_x000D_",
    "_x0041_x0042_",
    "_xabcd_",
    "_xABCD\r",
    "_x12_ _xZZZZ_ _x",
    'a & <b> "c"',
    "first\nsecond",
]


def _roundtrip(path: Path, values: list[str]) -> list[tuple[str, str]]:
    """(as openpyxl reads it, after the ST_Xstring rule) for each written value."""
    write_xlsx(path, "Sheet", ["value"], [[v] for v in values], lambda n: None)
    sheet = openpyxl.load_workbook(path, read_only=True).active
    raw = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    return [(r, unescape(r)) for r in raw]


def test_cr_and_escape_lookalikes_round_trip(tmp_path: Path) -> None:
    read = _roundtrip(tmp_path / "t.xlsx", AWKWARD)
    assert [decoded for _raw, decoded in read] == AWKWARD
    # A CR is a character reference in the XML: even a reader that ignores the _xHHHH_ rule (openpyxl
    # on its own) gets it back, CR LF stays CR LF.
    assert read[0][0] == "line 1\r\nline 2"
    assert read[1][0] == "a\rb"
    # A literal escape look-alike is itself escaped in the file.
    assert read[4][0] == "x_x005F_x000D_y"


def test_sheet_xml_has_no_raw_cr(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "t.xlsx"
    write_xlsx(path, "Sheet", ["value"], [["a\r\nb"], ["_x000D_"]], lambda n: None)
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "\r" not in xml
    assert "a&#13;\nb" in xml and "_x005F_x000D_" in xml


_TEXT = st.text(
    alphabet=st.sampled_from(["_", "x", "0", "0", "D", "5", "F", "a", "\r", "\n", " ", "&", "<", "中"]),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(_TEXT.filter(lambda s: s != ""), min_size=1, max_size=5))
def test_any_text_round_trips(tmp_path_factory, values: list[str]) -> None:
    path = tmp_path_factory.mktemp("x") / "h.xlsx"
    assert [decoded for _raw, decoded in _roundtrip(path, values)] == values
