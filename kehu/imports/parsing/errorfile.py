"""The error file: rejected rows as a CSV that can be fixed and imported again as is."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from django.utils.translation import gettext as _

from kehu.core.exports import neutralise

from .rows import RawRow, Sniffed


def write_error_file(path: Path, sniffed: Sniffed, rows: Iterable[tuple[RawRow, str]]) -> int:
    """Write the rejected rows to `path` as a CSV the user can fix and import again as is: UTF-8
    with a BOM (so Excel shows Chinese), the file's headers plus an "Error" column first, each row's
    values as read, formula-looking cells defused like our exports do. Returns the rows written."""
    width = len(sniffed.headers)
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([_("Error"), *(neutralise(h) for h in sniffed.headers)])
        for row, message in rows:
            values = list(row.values)
            if len(values) < width:
                values.extend([""] * (width - len(values)))
            writer.writerow([neutralise(str(message)), *(neutralise(v) for v in values)])
            count += 1
    return count
