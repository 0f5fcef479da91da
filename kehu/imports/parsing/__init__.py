"""Reading import files: CSV, TSV, XLSX and vCard (2.1, 3.0, 4.0), streamed row by row.

`sniff()` looks at the start of an uploaded file and says what it is (format, encoding, delimiter,
header row, column names, the first rows as parsed, warnings); the user may override any of these
and sniff again. `iter_rows()` then streams every data row of the whole file as a `RawRow`, with a
per-row error instead of an exception for anything wrong with that row only, so a million-row file
is read in constant memory at parser speed (the csv module in C; openpyxl in read-only mode).
`write_error_file()` writes the rejected rows back out as a CSV that can be fixed and re-imported.

Row numbers (`header_row`, `RawRow.line`) are the row numbers a spreadsheet program shows: for a
CSV one per record (a cell with line breaks inside quotes is still one row), blank lines counted.
"""

from __future__ import annotations

from .errorfile import write_error_file
from .reading import FORMATS, iter_rows, sniff
from .rows import PREVIEW_ROWS, Notice, RawRow, Sniffed
from .text import DELIMITERS, ENCODINGS, MAX_CELL_CHARS, SAMPLE_SIZE, encoding_label
from .vcard import VCARD_COLUMNS

__all__ = [
    "DELIMITERS",
    "ENCODINGS",
    "FORMATS",
    "MAX_CELL_CHARS",
    "PREVIEW_ROWS",
    "SAMPLE_SIZE",
    "VCARD_COLUMNS",
    "Notice",
    "RawRow",
    "Sniffed",
    "encoding_label",
    "iter_rows",
    "sniff",
    "write_error_file",
]
