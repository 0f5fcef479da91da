"""`sniff()` and `iter_rows()`: which reader a file needs (by its bytes, then its name) and the
overrides the user chose."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from kehu.imports.errors import ImportFileError, NoticeCode

from .rows import Notice, RawRow, Sniffed, data_row, sniff_table
from .text import (
    BINARY_MAGIC,
    GUESSED,
    MAX_CELL_CHARS,
    SAMPLE_SIZE,
    binary_error,
    check_encoding,
    complete_lines,
    csv_estimate,
    csv_records,
    decode_sample,
    detect_delimiter,
    detect_encoding,
    encoding_label,
    is_binary_bytes,
    is_binary_text,
)
from .vcard import sniff_vcard, vcard_records
from .xlsx import broken_xlsx, sniff_xlsx, xlsx_records

FORMATS = ("csv", "tsv", "xlsx", "vcard")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"


def sniff(
    path: Path,
    *,
    filename: str,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
    sheet: str | None = None,
) -> Sniffed:
    """Say what the uploaded file at `path` is (the user's `filename` gives the extension) and
    preview its first rows. Any argument given overrides the detection. Raises `ImportFileError`
    when the file cannot be read as a table at all."""
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError(_("The file is empty."), code=ImportFileError.EMPTY_FILE)
    ext = Path(filename).suffix.lower()
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_SIZE)
    if head.startswith(_OLE2_MAGIC):
        raise ImportFileError(
            _(
                "This is an old Excel (.xls) file or a password-protected workbook. Save it as .xlsx "
                "(without a password) or as CSV and upload it again."
            ),
            code=ImportFileError.OLD_EXCEL,
        )
    if head.startswith(_ZIP_MAGIC):
        return sniff_xlsx(path, ext=ext, header_row=header_row, sheet=sheet)
    if ext in (".xlsx", ".xlsm") and (head.startswith(BINARY_MAGIC) or is_binary_bytes(head)):
        raise broken_xlsx()
    if head.startswith(BINARY_MAGIC):
        raise binary_error()

    warnings: list[Notice] = []
    overridden = bool(encoding)
    if encoding:
        encoding = check_encoding(encoding)
    else:
        encoding = detect_encoding(path, head, size)
        if encoding in GUESSED:
            warnings.append(
                Notice(
                    NoticeCode.ENCODING_GUESSED,
                    _(
                        "The text encoding was guessed as %(encoding)s. If the preview shows garbled "
                        "text, choose another encoding."
                    )
                    % {"encoding": encoding_label(encoding)},
                )
            )
    text = decode_sample(head, encoding, final=size <= len(head))
    if is_binary_text(text):
        if overridden:
            raise ImportFileError(
                _("The file does not read as text in %(encoding)s; choose another encoding.")
                % {"encoding": encoding_label(encoding)},
                code=ImportFileError.UNKNOWN_ENCODING,
            )
        raise binary_error()
    if not text.replace("\ufeff", "").replace("\x00", "").strip() and size <= len(head):
        raise ImportFileError(_("The file is empty."), code=ImportFileError.EMPTY_FILE)
    if text.lstrip("\ufeff \t\r\n").upper().startswith("BEGIN:VCARD"):
        return sniff_vcard(
            path, encoding=encoding, text=text, size=size, sample_bytes=len(head), warnings=warnings
        )
    if ext in (".vcf", ".vcard"):
        raise ImportFileError(
            _("The file is named like a vCard but holds no contact cards (BEGIN:VCARD)."),
            code=ImportFileError.NOT_VCARD,
        )

    truncated = size > len(head)
    csv.field_size_limit(MAX_CELL_CHARS)  # process-wide; the default 128 KB refuses big notes
    if delimiter:
        if len(delimiter) != 1 or delimiter in '"\r\n' or delimiter.isalnum():
            raise ImportFileError(
                _("The delimiter must be a single character other than a quote, a letter or a digit."),
                code=ImportFileError.INVALID_DELIMITER,
            )
    else:
        delimiter = detect_delimiter(complete_lines(text) if truncated else text, ext=ext)
    fmt = "tsv" if delimiter == "\t" else "csv"
    records = csv_records(path, encoding, delimiter)
    try:
        sniffed = sniff_table(records, fmt=fmt, header_row=header_row, warnings=warnings)
    finally:
        records.close()
    sniffed.encoding = encoding
    sniffed.delimiter = delimiter
    sniffed.row_estimate = csv_estimate(text, sniffed, size=size, sample_bytes=len(head))
    return sniffed


def iter_rows(path: Path, sniffed: Sniffed) -> Iterator[RawRow]:
    """Every data row of the file (below the header, blank rows left out) as `sniff()` read it,
    streamed; problems of one row are in its `error`/`code`, the file goes on."""
    width = len(sniffed.headers)
    header_row = sniffed.header_row
    if sniffed.format == "vcard":
        yield from vcard_records(path, sniffed.encoding)
        return
    if sniffed.format == "xlsx":
        records = xlsx_records(path, sniffed.sheet)
    else:
        records = csv_records(path, sniffed.encoding, sniffed.delimiter)
    # Records are numbered 1, 2, 3 ...: the first `header_row` of them are the header and above.
    for rec in itertools.islice(records, header_row, None):
        values = rec[1]
        if rec[3]:
            yield data_row(rec, width)
        elif any(values):  # rows of only blank cells are left out
            yield rec if len(values) == width else data_row(rec, width)
