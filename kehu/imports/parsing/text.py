"""Delimited text (CSV, TSV): the encoding (BOMs, UTF-8, UTF-16, GB18030, cp1252), the delimiter,
binary data renamed .csv, and the records streamed by the csv module with per-row errors."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections import Counter
from collections.abc import Generator
from pathlib import Path

from django.utils.translation import gettext as _

from kehu.imports.errors import ImportFileError, RowCode

from .rows import RawRow, Sniffed

# Encoding, delimiter and header detection look at this much of the file (plus what they need).
SAMPLE_SIZE = 64 * 1024
# csv refuses a bigger cell (the row gets an error, the next rows go on). The field buffer holds
# UCS-4, so this caps one cell at 64 MB of memory.
MAX_CELL_CHARS = 16 * 1024 * 1024
DELIMITERS = (",", "\t", ";", "|")
# The encodings the upload form offers (any Python codec name is accepted as an override).
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gb18030", "cp1252")
# Encodings guessed from the bytes' statistics, not proven by a BOM or a strict UTF-8 decode.
GUESSED = frozenset({"gb18030", "cp1252", "utf-16-le", "utf-16-be"})
_SCAN_CHUNK = 1024 * 1024
_NON_ASCII = re.compile(rb"[\x80-\xff]")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
BINARY_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"\x1f\x8b",
    b"\x7fELF",
    b"7z\xbc\xaf",
    b"Rar!",
    b"BZh",
)
# Control characters a text file does not hold (tab, newlines, form feed and ^Z excepted).
_CONTROL = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r\x0b\x0c\x1a")
# Above this share of control characters a "text" file is binary data renamed .csv.
_BINARY_RATIO = 0.02


def encoding_label(encoding: str) -> str:
    """A human name of one of our codec names ("UTF-8 with BOM", "GB18030 (GBK)", ...)."""
    labels = {
        "utf-8": "UTF-8",
        "utf-8-sig": _("UTF-8 with BOM"),
        "utf-16": "UTF-16",
        "utf-16-le": "UTF-16 LE",
        "utf-16-be": "UTF-16 BE",
        "utf-32": "UTF-32",
        "gb18030": "GB18030 (GBK)",
        "cp1252": _("Western (Windows-1252)"),
    }
    return labels.get(encoding, encoding)


def binary_error() -> ImportFileError:
    return ImportFileError(
        _("This is not a text table: the file holds binary data. Upload a CSV, TSV, XLSX or vCard file."),
        code=ImportFileError.BINARY_FILE,
    )


def check_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ImportFileError(
            _("Unknown text encoding %(encoding)s.") % {"encoding": encoding},
            code=ImportFileError.UNKNOWN_ENCODING,
        ) from None
    # codecs.lookup spells them utf-8, utf-8-sig, utf-16-le, cp1252 ...; GBK/GB2312 read as GB18030.
    return "gb18030" if name in ("gbk", "gb2312") else name


def detect_encoding(path: Path, head: bytes, size: int) -> str:
    """BOMs first; then UTF-16 without BOM by its zero bytes; then UTF-8 (an ASCII start makes us
    look further into the file for the first non-ASCII bytes; a stray invalid byte among many valid
    UTF-8 characters is that row's error, not a reason to read the whole file as GBK); then GB18030
    or cp1252 by charset-normalizer."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    utf16 = _utf16_without_bom(head)
    if utf16:
        return utf16
    sample = head
    if head.isascii() and size > len(head):
        sample = _first_non_ascii(path)
        if not sample:
            return "utf-8"
    final = sample is head and size <= len(head)
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(sample, final=final)
    bad = text.count("\ufffd")
    if not bad:
        return "utf-8"
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore")) - bad
    if non_ascii >= 8 and bad * 20 <= non_ascii:
        return "utf-8"
    if is_binary_bytes(sample):
        raise binary_error()
    return _guess_legacy(sample)


def _utf16_without_bom(head: bytes) -> str:
    probe = head[:4096]
    half = len(probe) // 2
    if half < 2:
        return ""
    even_zero = probe[0::2].count(0) / half
    odd_zero = probe[1::2].count(0) / half
    if odd_zero > 0.4 and even_zero < 0.05:
        return "utf-16-le"
    if even_zero > 0.4 and odd_zero < 0.05:
        return "utf-16-be"
    return ""


def _first_non_ascii(path: Path) -> bytes:
    """The sample to test the encoding on when the first 64 KB are plain ASCII: the file read on
    from the line before the first non-ASCII byte (b"" when there is none)."""
    with path.open("rb") as fh:
        offset = 0
        tail = b""
        while chunk := fh.read(_SCAN_CHUNK):
            if not chunk.isascii():
                data = tail + chunk
                found = _NON_ASCII.search(data)
                first = found.start() if found else 0
                start = data.rfind(b"\n", 0, first) + 1
                rest = data[start:]
                if len(rest) < SAMPLE_SIZE:
                    rest += fh.read(SAMPLE_SIZE - len(rest))
                return rest[:SAMPLE_SIZE]
            offset += len(chunk)
            tail = chunk[-4096:]
    return b""


def _guess_legacy(sample: bytes) -> str:
    """GB18030 (a superset of GBK and GB2312) or Windows-1252: the two legacy encodings our users'
    files come in. charset-normalizer weighs them; when it cannot, whichever decodes strictly."""
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=["gb18030", "cp1252"]).best()
    if best is not None:
        name = best.encoding.replace("_", "-")
        return "gb18030" if name in ("gbk", "gb2312", "gb18030") else "cp1252"
    for name in ("gb18030", "cp1252"):
        try:
            codecs.getincrementaldecoder(name)().decode(sample, final=False)
            return name
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        _("The text encoding of the file could not be recognised. Choose the encoding and try again."),
        code=ImportFileError.UNKNOWN_ENCODING,
    )


def decode_sample(head: bytes, encoding: str, *, final: bool) -> str:
    """The start of the file as text (a character cut at the sample's end is left out)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(head, final=final)


def is_binary_bytes(sample: bytes) -> bool:
    controls = sum(sample.count(c.encode()) for c in _CONTROL)
    return controls > max(_BINARY_RATIO * len(sample), 3)


def is_binary_text(text: str) -> bool:
    controls = sum(text.count(c) for c in _CONTROL)
    return controls > max(_BINARY_RATIO * len(text), 3)


def complete_lines(text: str) -> str:
    """The sample without its last, possibly cut, line."""
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut > 0 else text


def detect_delimiter(text: str, *, ext: str) -> str:
    """The candidate that splits the sample's rows into the same number (>= 2) of cells most
    consistently; ties go to the wider split, then to the order , tab ; |. A .tsv file is
    tab-separated when tabs split it at all."""
    scores: dict[str, tuple[float, int]] = {}
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            rows = [r for r in itertools.islice(reader, 200) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if not rows:
            continue
        width, count = Counter(len(r) for r in rows).most_common(1)[0]
        if width >= 2:
            scores[delimiter] = (round(count / len(rows), 2), width)
    if ext in (".tsv", ".tab") and "\t" in scores:
        return "\t"
    if not scores:
        return "\t" if ext in (".tsv", ".tab") else ","
    return max(DELIMITERS, key=lambda d: scores.get(d, (-1.0, 0)))


def csv_records(path: Path, encoding: str, delimiter: str) -> Generator[RawRow, None, None]:
    """Every record of a delimited text file (blank ones included, as []), numbered from 1.
    NULs and stray BOMs are dropped; undecodable bytes become U+FFFD and flag the row; a cell over
    MAX_CELL_CHARS (or a quote never closed) flags the row and reading goes on after it."""
    csv.field_size_limit(MAX_CELL_CHARS)
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
        line = 0
        new = tuple.__new__  # RawRow(line, values) without the Python-level __new__: the hot loop
        while True:
            try:
                for values in reader:
                    line += 1
                    joined = "".join(values)
                    if "\x00" in joined or "\ufeff" in joined or "\ufffd" in joined:
                        yield _clean(line, values, encoding)
                    else:
                        yield new(RawRow, (line, values, "", ""))
                return
            except csv.Error as exc:
                line += 1
                if "field limit" in str(exc):
                    yield RawRow(
                        line,
                        [],
                        _(
                            "A cell is larger than %(size)d MB (or a quote is never closed); the row "
                            "was skipped."
                        )
                        % {"size": MAX_CELL_CHARS // (1024 * 1024)},
                        RowCode.CELL_TOO_LARGE,
                    )
                else:
                    yield RawRow(
                        line,
                        [],
                        _("The row could not be read: %(error)s") % {"error": exc},
                        RowCode.MALFORMED,
                    )


def _clean(line: int, values: list[str], encoding: str) -> RawRow:
    values = [v.replace("\x00", "").replace("\ufeff", "") for v in values]
    if any("\ufffd" in v for v in values):
        return RawRow(
            line,
            values,
            _(
                "The row holds bytes that are not valid %(encoding)s text (shown as \ufffd); check the "
                "file's encoding."
            )
            % {"encoding": encoding_label(encoding)},
            RowCode.UNREADABLE_CHARACTERS,
        )
    return RawRow(line, values)


def csv_estimate(text: str, sniffed: Sniffed, *, size: int, sample_bytes: int) -> int | None:
    """Data rows in the file: exact when the sample is the whole file, else scaled from the sample."""
    complete = size <= sample_bytes
    sample = text if complete else complete_lines(text)
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=sniffed.delimiter)
    try:
        rows = list(reader)
    except csv.Error:
        return None
    data = sum(1 for i, r in enumerate(rows, 1) if i > sniffed.header_row and any(r))
    if complete:
        return data
    if not rows:
        return None
    used = len(sample.encode(sniffed.encoding, errors="replace")) or 1
    return max(data, round(len(rows) * size / used) - sniffed.header_row)
