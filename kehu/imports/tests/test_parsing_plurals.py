"""Messages of the file-reading layer count in the reader's language: singular and plural forms
(ngettext, no "row(s)"), and lists of column names or cells joined with the language's separator."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation

from kehu.core.text import list_separator
from kehu.imports.errors import NoticeCode, RowCode
from kehu.imports.parsing import RawRow, sniff
from kehu.imports.parsing.rows import data_row
from kehu.imports.parsing.xlsx import _formula_error


def _sniff(tmp_path: Path, text: str) -> object:
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    return sniff(path, filename="t.csv")


def _notice(sniffed: object, code: str) -> str:
    return next(n.message for n in sniffed.warnings if n.code == code)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("titles", "expected"),
    [
        ("Customer list;;\n", "The header was found in row 2; the title row above it was skipped."),
        (
            "Customer list;;\nExported 2024-05-01;;\n",
            "The header was found in row 3; the 2 title rows above it were skipped.",
        ),
    ],
)
def test_title_rows_singular_and_plural(tmp_path: Path, titles: str, expected: str) -> None:
    with translation.override("en"):
        sniffed = _sniff(tmp_path, titles + "Name;Phone;Email\nZhang;138;z@x.cn\nLi;139;l@x.cn\n")
    assert _notice(sniffed, NoticeCode.TITLE_ROWS_SKIPPED) == expected


def test_blank_and_repeated_column_names(tmp_path: Path) -> None:
    with translation.override("en"):
        one = _sniff(tmp_path, "Name,,Phone\na,b,c\n")
        assert _notice(one, NoticeCode.BLANK_HEADERS) == "A column without a name was called Column 2."
        two = _sniff(tmp_path, "Name,,Phone,\na,b,c,d\n")
        assert (
            _notice(two, NoticeCode.BLANK_HEADERS) == "Columns without a name were called Column 2, Column 4."
        )
        once = _sniff(tmp_path, "Name,Phone,Name\na,b,c\n")
        assert (
            _notice(once, NoticeCode.DUPLICATE_HEADERS)
            == "This column name appears more than once and was numbered: Name."
        )
        many = _sniff(tmp_path, "Name,Phone,Name,Phone\na,b,c,d\n")
        assert (
            _notice(many, NoticeCode.DUPLICATE_HEADERS)
            == "These column names appear more than once and were numbered: Name, Phone."
        )


def test_names_are_joined_with_the_languages_separator(tmp_path: Path) -> None:
    with translation.override("zh-hans"):
        sniffed = _sniff(tmp_path, "姓名,手机,姓名,手机\na,b,c,d\n")
        assert f"姓名{list_separator()}手机" in _notice(sniffed, NoticeCode.DUPLICATE_HEADERS)


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (1, "The row has 3 values but the file has 1 column."),
        (2, "The row has 3 values but the file has 2 columns."),
    ],
)
def test_a_long_row_names_the_width_in_the_right_number(width: int, expected: str) -> None:
    with translation.override("en"):
        row = data_row(RawRow(7, ["Li", "extra", "more"]), width)
    assert (row.code, row.error) == (RowCode.TOO_MANY_VALUES, expected)


def test_formula_cells_singular_and_plural() -> None:
    with translation.override("en"):
        assert _formula_error(["B2"]).startswith("Formula cell B2 has no saved result")
        assert _formula_error(["B2", "C2"]).startswith("Formula cells B2, C2 have no saved result")
        assert "open them in Excel" in _formula_error(["B2", "C2"])
