"""Rows as read, the result of sniffing, and what CSV and XLSX share: finding the header row below
title lines, naming blank and repeated columns, padding short rows and refusing long ones."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core.text import join_list
from kehu.imports.errors import ImportFileError, NoticeCode, RowCode

PREVIEW_ROWS = 20
# The header is looked for among this many first rows (title lines above it are skipped).
HEADER_SEARCH_ROWS = 30


@dataclass(frozen=True)
class Notice:
    """A warning about the file as a whole, shown with the preview: a stable code and its message."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


class RawRow(NamedTuple):
    """One data row as read: its row number in the file, the values (as many as there are headers,
    or more when the row is too long), and the per-row problem if any (translated message + code)."""

    line: int
    values: list[str]
    error: str = ""
    code: str = ""


@dataclass
class Sniffed:
    """What `sniff()` found, overrides applied. `header_row` is 0 when the file has no header row
    (vCard, or the user said so); `headers` are unique and never blank."""

    format: str
    encoding: str
    delimiter: str
    header_row: int
    headers: list[str]
    preview: list[RawRow] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    sheet: str = ""
    warnings: list[Notice] = field(default_factory=list)
    row_estimate: int | None = None

    @property
    def warning_codes(self) -> list[str]:
        return [n.code for n in self.warnings]

    @property
    def options(self) -> dict[str, Any]:
        """What to store with the import job (JSON-safe): `sniff(path, filename=..., **options)`
        reads the file again exactly this way, detection bypassed."""
        options: dict[str, Any] = {"header_row": self.header_row}
        if self.format == "xlsx":
            options["sheet"] = self.sheet
        elif self.format != "vcard":
            options |= {"encoding": self.encoding, "delimiter": self.delimiter}
        else:
            options = {"encoding": self.encoding}
        return options


def sniff_table(
    records: Iterator[RawRow],
    *,
    fmt: str,
    header_row: int | None,
    warnings: list[Notice],
) -> Sniffed:
    """Find the header row (skipping title lines above it unless the user named the row), name the
    columns and read the preview rows from the records' stream."""
    head: list[RawRow] = []
    if header_row is not None:
        if header_row < 0:
            raise _header_out_of_range(header_row)
        if header_row:
            for rec in records:
                if rec.line == header_row:
                    header = rec
                    break
            else:
                raise _header_out_of_range(header_row)
            if not _filled(header.values):
                raise ImportFileError(
                    _("Row %(row)d is empty; choose the row that holds the column names.")
                    % {"row": header_row},
                    code=ImportFileError.BLANK_HEADER_ROW,
                )
    else:
        # The first HEADER_SEARCH_ROWS non-blank rows (and the blank ones between them).
        head = []
        filled = 0
        for rec in records:
            head.append(rec)
            filled += bool(_filled(rec.values))
            if filled == HEADER_SEARCH_ROWS or len(head) >= 50 * HEADER_SEARCH_ROWS:
                break
        nonblank = [r for r in head if _filled(r.values)]
        if not nonblank:
            raise ImportFileError(_("The file holds no data."), code=ImportFileError.EMPTY_FILE)
        index = 0
        while (
            index < len(nonblank) - 1
            and _filled(nonblank[index].values) <= 1
            and any(_filled(r.values) >= 2 for r in nonblank[index + 1 : index + 4])
        ):
            index += 1
        header = nonblank[index]
        header_row = header.line
        if index:
            warnings.append(
                Notice(
                    NoticeCode.TITLE_ROWS_SKIPPED,
                    ngettext(
                        "The header was found in row %(row)d; the title row above it was skipped.",
                        "The header was found in row %(row)d; the %(count)d title rows above it were "
                        "skipped.",
                        index,
                    )
                    % {"row": header_row, "count": index},
                )
            )
        head = [r for r in head if r.line > header_row]

    stream = itertools.chain(head, records)
    preview_records: list[RawRow] = []
    for rec in stream:
        if rec.code or _filled(rec.values):
            preview_records.append(rec)
            if len(preview_records) == PREVIEW_ROWS:
                break
    names = [v.strip() for v in header.values] if header_row else []
    while names and not names[-1]:
        names.pop()
    # Data under no header: unnamed columns when most rows have it (a header forgot a column),
    # else those rows are too long.
    wider = [w for w in (_width(r.values) for r in preview_records) if w > len(names)]
    if wider and (not names or 2 * len(wider) > len(preview_records)):
        names += [""] * (max(wider) - len(names))
    headers = _unique_headers(names, warnings)
    if header_row and not preview_records:
        warnings.append(
            Notice(
                NoticeCode.HEADER_ONLY, _("The file has a header row but no data rows: nothing to import.")
            )
        )
    if not headers:
        raise ImportFileError(_("The file holds no data."), code=ImportFileError.EMPTY_FILE)
    width = len(headers)
    preview = [data_row(r, width) for r in preview_records]
    return Sniffed(
        format=fmt,
        encoding="",
        delimiter="",
        header_row=header_row,
        headers=headers,
        preview=preview,
        warnings=warnings,
    )


def _header_out_of_range(header_row: int) -> ImportFileError:
    return ImportFileError(
        _("The file has no row %(row)d.") % {"row": header_row},
        code=ImportFileError.HEADER_ROW_OUT_OF_RANGE,
    )


def _filled(values: list[str]) -> int:
    return sum(1 for v in values if v.strip())


def _width(values: list[str]) -> int:
    """The number of cells up to the last non-blank one."""
    for i in range(len(values) - 1, -1, -1):
        if values[i].strip():
            return i + 1
    return 0


def _unique_headers(names: list[str], warnings: list[Notice]) -> list[str]:
    """Blank names become "Column 3", repeated ones "Email (2)" (compared without case), so that
    every column can be told apart when mapping."""
    headers: list[str] = []
    seen: set[str] = set()
    blank: list[str] = []
    renamed: list[str] = []
    taken = {n.casefold() for n in names if n}
    for index, name in enumerate(names, 1):
        if not name:
            name = _("Column %(number)d") % {"number": index}
            while name.casefold() in taken:
                name += "*"
            blank.append(name)
        elif name.casefold() in seen:
            n = 2
            while f"{name} ({n})".casefold() in seen or f"{name} ({n})".casefold() in taken:
                n += 1
            renamed.append(name)
            name = f"{name} ({n})"
        seen.add(name.casefold())
        headers.append(name)
    if blank:
        warnings.append(
            Notice(
                NoticeCode.BLANK_HEADERS,
                ngettext(
                    "A column without a name was called %(names)s.",
                    "Columns without a name were called %(names)s.",
                    len(blank),
                )
                % {"names": join_list(blank)},
            )
        )
    if renamed:
        warnings.append(
            Notice(
                NoticeCode.DUPLICATE_HEADERS,
                ngettext(
                    "This column name appears more than once and was numbered: %(names)s.",
                    "These column names appear more than once and were numbered: %(names)s.",
                    len(dict.fromkeys(renamed)),
                )
                % {"names": join_list(dict.fromkeys(renamed))},
            )
        )
    return headers


def data_row(rec: RawRow, width: int) -> RawRow:
    """Pad a short row with "", refuse a long one (unless the extra cells are blank, as in Excel's
    trailing ",,,"), keep a reader error (its values padded too, for the error file)."""
    values = rec.values
    n = len(values)
    if n < width:
        values.extend([""] * (width - n))
    if rec.code:
        return rec
    if n > width:
        if any(v.strip() for v in values[width:]):
            return RawRow(
                rec.line,
                values,
                ngettext(
                    "The row has %(count)d values but the file has %(width)d column.",
                    "The row has %(count)d values but the file has %(width)d columns.",
                    width,
                )
                % {"count": _width(values), "width": width},
                RowCode.TOO_MANY_VALUES,
            )
        del values[width:]
    return RawRow(rec.line, values)
