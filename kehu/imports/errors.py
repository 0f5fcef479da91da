"""Errors of the imports app (codes are stable API values).

`ImportFileError` refuses a whole file (nothing can be read from it); a problem with a single row is
not an exception but `RawRow.error`/`RawRow.code` (see the `parsing` package), so one bad row never stops the
other 999,999.
"""

from __future__ import annotations

from kehu.core.errors import DomainError


class ImportFileError(DomainError):
    """The uploaded file cannot be read as a table; `code` says why (one of the constants below)."""

    code = "import_file_invalid"

    EMPTY_FILE = "empty_file"
    BINARY_FILE = "binary_file"
    OLD_EXCEL = "old_excel"
    UNSUPPORTED_FORMAT = "unsupported_format"
    BROKEN_XLSX = "broken_xlsx"
    NOT_VCARD = "not_vcard"
    UNKNOWN_ENCODING = "unknown_encoding"
    INVALID_DELIMITER = "invalid_delimiter"
    HEADER_ROW_OUT_OF_RANGE = "header_row_out_of_range"
    BLANK_HEADER_ROW = "blank_header_row"
    SHEET_NOT_FOUND = "sheet_not_found"


class RowCode:
    """Codes of per-row problems (`RawRow.code`); the row is reported, the others go on."""

    TOO_MANY_VALUES = "too_many_values"
    CELL_TOO_LARGE = "cell_too_large"
    MALFORMED = "malformed_row"
    UNREADABLE_CHARACTERS = "unreadable_characters"
    BROKEN_VCARD = "broken_vcard"
    FORMULA_WITHOUT_VALUE = "formula_without_value"


class NoticeCode:
    """Codes of warnings shown with the preview (`Sniffed.warnings`); the file is still readable."""

    HEADER_ONLY = "header_only"
    TITLE_ROWS_SKIPPED = "title_rows_skipped"
    BLANK_HEADERS = "blank_headers"
    DUPLICATE_HEADERS = "duplicate_headers"
    ENCODING_GUESSED = "encoding_guessed"
    FORMULAS_WITHOUT_VALUES = "formulas_without_values"
