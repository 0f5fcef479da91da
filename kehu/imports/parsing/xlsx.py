"""XLSX: sheets read as a stream of rows from the sheet XML (openpyxl supplies the workbook's
styles and sheet list), shared strings read lazily, cached formula results, dates as ISO text."""

from __future__ import annotations

import array
import datetime as dt
import math
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core.text import join_list
from kehu.imports.errors import ImportFileError, NoticeCode, RowCode

from .rows import Notice, RawRow, Sniffed, sniff_table


def broken_xlsx() -> ImportFileError:
    return ImportFileError(
        _(
            "The Excel file is damaged or not a real .xlsx file. Open it in Excel or WPS, save it "
            "again and retry."
        ),
        code=ImportFileError.BROKEN_XLSX,
    )


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_XMLNS = re.compile(rb'\sxmlns(?::[\w.-]+)?="[^"]*"')
# Excel writes characters XML cannot hold (and a literal "_x000D_") as _xHHHH_.
_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


class _Workbook:
    """An XLSX opened the way openpyxl's read-only mode opens it (shared strings, date styles,
    sheet list) but without its ReadOnlyWorksheet: when a sheet has no <dimension> element (files
    written by many programs, openpyxl's own write-only mode among them) that class parses the
    whole sheet once per sheet just to size it, before the first row is read."""

    def __init__(self, path: Path) -> None:
        from openpyxl.reader.excel import ExcelReader
        from openpyxl.styles.stylesheet import apply_stylesheet

        try:
            reader = ExcelReader(str(path), read_only=True, data_only=True)
            try:
                reader.read_manifest()
                self.strings = _SharedStrings(reader)
                reader.read_workbook()
                apply_stylesheet(reader.archive, reader.wb)
                self.sheets: list[tuple[str, str, str]] = [
                    (sheet.name, rel.target, sheet.state or "visible")
                    for sheet, rel in reader.parser.find_sheets()
                    if rel.target in reader.valid_files and "chartsheet" not in rel.Type
                ]
            except BaseException:
                reader.archive.close()
                raise
        except Exception as exc:
            raise broken_xlsx() from exc
        self.reader = reader

    @property
    def names(self) -> list[str]:
        return [name for name, _target, _state in self.sheets]

    def target(self, sheet: str) -> str:
        for name, target, _state in self.sheets:
            if name == sheet:
                return target
        raise ImportFileError(
            _("The workbook has no sheet named %(sheet)s.") % {"sheet": sheet},
            code=ImportFileError.SHEET_NOT_FOUND,
        )

    def default_sheet(self) -> str:
        visible = [name for name, _target, state in self.sheets if state == "visible"]
        return (visible or self.names or [""])[0]

    def dimension_rows(self, sheet: str) -> int | None:
        """The last row named by the sheet's <dimension ref="A1:J5000">, read from the sheet's
        start only; without one, an estimate from the sheet's size."""
        try:
            with self.reader.archive.open(self.target(sheet)) as fh:
                for _event, el in ElementTree.iterparse(fh, events=("start",)):  # noqa: S314
                    if el.tag == _SHEET_NS + "dimension":
                        ref = el.get("ref", "").split(":")[-1]
                        digits = "".join(ch for ch in ref if ch.isdigit())
                        return int(digits) if digits else None
                    if el.tag == _SHEET_NS + "sheetData":
                        break
        except (KeyError, OSError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
            return None
        return self._rows_by_size(sheet)

    def _rows_by_size(self, sheet: str) -> int | None:
        """No <dimension>: the sheet's size over the bytes per row of its first 256 KB."""
        target = self.target(sheet)
        try:
            size = self.reader.archive.getinfo(target.lstrip("/")).file_size
            with self.reader.archive.open(target) as fh:
                head = fh.read(256 * 1024)
        except (KeyError, OSError, zipfile.BadZipFile):
            return None
        rows = len(re.findall(rb"<(?:[\w.-]+:)?row\b", head))
        if not rows:
            return None
        return rows if len(head) >= size else round(rows * size / len(head))

    def records(self, sheet: str) -> Iterator[RawRow]:
        """Every row of the sheet as text, numbered from 1 (missing rows given as blank ones).

        The sheet's XML is parsed here, a row at a time, rather than by openpyxl's cell parser,
        which builds an object per inline string (what openpyxl's and our own export writers put
        in files) and reads ~5,000 rows/s; shared strings, date styles and the epoch are openpyxl's.
        """
        from openpyxl.utils.datetime import from_excel

        wb = self.reader.wb
        strings = self.strings
        dates = set(wb._date_formats)
        durations = set(wb._timedelta_formats)
        epoch = wb.epoch
        columns: dict[str, int] = {}
        row_tag, c_tag, v_tag, is_tag, t_tag, r_tag, f_tag = (
            _SHEET_NS + t for t in ("row", "c", "v", "is", "t", "r", "f")
        )
        formulas: list[str] = []
        try:
            with self.reader.archive.open(self.target(sheet)) as src:
                expected = 1
                for row in _xml_items(src, "sheetData", "row"):
                    if row.tag != row_tag:
                        continue
                    line = int(row.get("r") or expected)
                    while expected < line:
                        yield RawRow(expected, [])
                        expected += 1
                    values: list[str] = []
                    # Children walked by hand: find()/findtext() with a namespaced tag go through
                    # ElementPath in Python, a third of the time per cell.
                    for cell in row:
                        if cell.tag != c_tag:
                            continue
                        ref = cell.get("r")
                        if ref:
                            letters = ref.rstrip("0123456789")
                            column = columns.get(letters)
                            if column is None:
                                column = columns[letters] = _column_index(letters)
                            if column > len(values):
                                values.extend([""] * (column - len(values)))
                        else:
                            values.append("")
                            column = len(values)
                        kind = cell.get("t")
                        raw = None
                        formula = False
                        for child in cell:
                            tag = child.tag
                            if tag == v_tag:
                                raw = child.text
                            elif tag == f_tag:
                                formula = True
                            elif tag == is_tag:
                                raw = _inline_text(child, t_tag, r_tag)
                        if kind == "inlineStr":
                            text = raw or ""
                        else:
                            if raw is None or raw == "":
                                text = ""
                                if formula:
                                    formulas.append(ref or _column_letters(column) + str(line))
                            elif kind == "s":
                                text = strings[int(raw)]
                            elif kind is None or kind == "n":
                                style = int(cell.get("s") or 0)
                                if style in dates or style in durations:
                                    text = _xlsx_text(
                                        from_excel(float(raw), epoch, timedelta=style in durations)
                                    )
                                else:
                                    text = _xlsx_number(raw)
                            elif kind == "b":
                                text = "TRUE" if raw == "1" else "FALSE"
                            else:  # str (a formula's text), e (#N/A ...), d (ISO date)
                                text = raw
                        values[column - 1] = text
                    if formulas:
                        yield RawRow(line, values, _formula_error(formulas), RowCode.FORMULA_WITHOUT_VALUE)
                        formulas = []
                    else:
                        yield RawRow(line, values)
                    expected = line + 1
        except ImportFileError:
            raise
        except Exception as exc:
            raise broken_xlsx() from exc

    def close(self) -> None:
        self.strings.close()
        self.reader.archive.close()


def sniff_xlsx(path: Path, *, ext: str, header_row: int | None, sheet: str | None) -> Sniffed:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            mimetype = b""
            if "mimetype" in names:
                with zf.open("mimetype") as member:
                    mimetype = member.read(100)
    except (zipfile.BadZipFile, OSError) as exc:
        raise broken_xlsx() from exc
    if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
        if b"opendocument" in mimetype:
            message = _("OpenDocument spreadsheets (.ods) are not supported. Save the file as .xlsx or CSV.")
        elif ext in (".xlsx", ".xlsm"):
            raise broken_xlsx()
        else:
            message = _("This is a ZIP archive, not a spreadsheet. Upload a CSV, TSV, XLSX or vCard file.")
        raise ImportFileError(message, code=ImportFileError.UNSUPPORTED_FORMAT)
    wb = _Workbook(path)
    try:
        sheet = wb.default_sheet() if sheet is None else sheet
        wb.target(sheet)  # SHEET_NOT_FOUND before anything is read
        max_row = wb.dimension_rows(sheet)
        warnings: list[Notice] = []
        sniffed = sniff_table(wb.records(sheet), fmt="xlsx", header_row=header_row, warnings=warnings)
        sheets = wb.names
    finally:
        wb.close()
    sniffed.sheets = sheets
    sniffed.sheet = sheet
    if max_row:
        sniffed.row_estimate = max(max_row - sniffed.header_row, len(sniffed.preview))
    missing = sum(1 for row in sniffed.preview if row.code == RowCode.FORMULA_WITHOUT_VALUE)
    if missing:
        sniffed.warnings.append(
            Notice(
                NoticeCode.FORMULAS_WITHOUT_VALUES,
                _(
                    "Formulas in %(count)d of the first rows have no saved result (the file was not "
                    "saved by Excel); those rows cannot be imported. Open the file in Excel or WPS, "
                    "save it and upload it again."
                )
                % {"count": missing},
            )
        )
    return sniffed


def xlsx_records(path: Path, sheet: str) -> Iterator[RawRow]:
    """Every row of the sheet as text (cached formula results, ISO dates, integers without ".0")."""
    wb = _Workbook(path)
    try:
        yield from wb.records(sheet or wb.default_sheet())
    finally:
        wb.close()


def _xml_items(src: IO[bytes], container: str, item: str) -> Iterator[Any]:
    """The children of the (first) `container` element of a big XML part, parsed a batch at a
    time: the bytes up to the last `</item>` read so far are wrapped in the container's tag (with
    the document's namespace declarations) and parsed by ElementTree in C. Per-element events
    (iterparse) cost more than the rest of reading a sheet; this yields ~40 % more rows a second.
    Used for a sheet's rows and the shared strings, which programs write without comments or
    CDATA that could hide a closing tag."""
    opening = re.compile(rb"<((?:[\w.-]+:)?)" + container.encode() + rb"\b[^>]*?(/?)>")
    buf = b""
    while True:
        more = src.read(1 << 16)
        buf += more
        found = opening.search(buf)
        if found or not more:
            break
    if not found or found.group(2):
        return
    prefix = found.group(1)
    declarations = dict.fromkeys(_XMLNS.findall(buf[: found.end()]))
    head = b"<" + prefix + container.encode() + b"".join(declarations) + b">"
    tail = b"</" + prefix + container.encode() + b">"
    close_item = b"</" + prefix + item.encode() + b">"
    buf = buf[found.end() :]
    done = False
    chunk = 1 << 16  # small first (a preview needs a few rows), then up to 1 MB at a time
    while not done:
        more = src.read(chunk)
        chunk = min(chunk * 2, 1 << 20)
        buf += more
        stop = buf.find(tail)
        if stop >= 0 or not more:
            batch, buf, done = (buf[:stop] if stop >= 0 else buf), b"", True
        else:
            cut = buf.rfind(close_item)
            if cut < 0:
                continue
            cut += len(close_item)
            batch, buf = buf[:cut], buf[cut:]
        if batch.strip():
            yield from ElementTree.fromstring(head + batch + tail)  # noqa: S314 (expat refuses entity bombs)


def _column_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _formula_error(cells: list[str]) -> str:
    return ngettext(
        "Formula cell %(cells)s has no saved result (the file was not saved by Excel); open it in "
        "Excel or WPS, save it and import again.",
        "Formula cells %(cells)s have no saved result (the file was not saved by Excel); open them in "
        "Excel or WPS, save the file and import again.",
        len(cells),
    ) % {"cells": join_list(cells)}


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index


def _inline_text(inline: Any, t_tag: str, r_tag: str) -> str:
    """<is><t>text</t></is> or rich text <is><r><t>a</t></r><r><t>b</t></r></is> (phonetic runs
    left out)."""
    parts = []
    for child in inline:
        if child.tag == t_tag:
            parts.append(child.text or "")
        elif child.tag == r_tag:
            parts.extend(grandchild.text or "" for grandchild in child if grandchild.tag == t_tag)
    text = "".join(parts)
    return _EXCEL_ESCAPE.sub(_unescape_excel, text) if "_x" in text else text


def _unescape_excel(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


class _SharedStrings:
    """The workbook's shared-string table, kept as one UTF-8 buffer and an offset per string and
    read lazily, as far as the cells asked for so far need (Excel numbers the strings in the order
    they first appear, so a preview reads only the first few hundred): a million-row workbook holds
    millions of distinct strings, which as a list of str objects (openpyxl's way, read in full when
    the workbook opens) take over a gigabyte and half a minute before the first row."""

    def __init__(self, reader: Any) -> None:
        from openpyxl.xml.constants import SHARED_STRINGS

        self.data = bytearray()
        self.offsets = array.array("Q", [0])
        self._source: IO[bytes] | None = None
        self._items: Iterator[Any] = iter(())
        part = reader.package.find(SHARED_STRINGS)
        if part is not None:
            self._source = reader.archive.open(part.PartName[1:])
            self._items = _xml_items(self._source, "sst", "si")
        self._tags = tuple(_SHEET_NS + t for t in ("si", "t", "r"))

    def _read_to(self, index: int) -> None:
        si_tag, t_tag, r_tag = self._tags
        for el in self._items:
            if el.tag == si_tag:
                self.data += _inline_text(el, t_tag, r_tag).encode("utf-8", errors="surrogatepass")
                self.offsets.append(len(self.data))
                if len(self.offsets) > index + 1:
                    return
        raise IndexError(index)

    def __getitem__(self, index: int) -> str:
        if index + 1 >= len(self.offsets):
            self._read_to(index)
        return self.data[self.offsets[index] : self.offsets[index + 1]].decode(
            "utf-8", errors="surrogatepass"
        )

    def close(self) -> None:
        if self._source is not None:
            self._source.close()


def _xlsx_number(raw: str) -> str:
    """A number cell's text as Excel would show it in General: 13800138000, not 13800138000.0
    (phone numbers!), nor 1.3800138E10."""
    if raw.isdigit() or (raw[0] == "-" and raw[1:].isdigit()):
        return raw
    try:
        return _xlsx_text(float(raw))
    except ValueError:
        return raw


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
