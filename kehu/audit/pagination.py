"""Keyset ("seek") pagination over (time, id) for the operation log and History tabs.

Why not Django's paginator: it runs ``COUNT(*)`` over the filtered set on every page, which over an
unfiltered log of millions of rows costs seconds. Keyset pages cost the same on page 1 and page
10,000: one indexed range scan of ``size + 1`` rows. The price is that there are no page numbers
and no total, only "newer" / "older" links, which is what people use on a log anyway. The cursor is
opaque (base64 of direction, time and id) and travels in the ``cursor`` query parameter, which the
export service ignores, so an export always covers the whole filtered set.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime


@dataclass
class KeysetPage:
    items: list[Any] = field(default_factory=list)
    next_cursor: str | None = None
    previous_cursor: str | None = None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None


def encode_cursor(direction: str, time: dt.datetime, pk: int) -> str:
    raw = f"{direction}|{time.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None) -> tuple[str, dt.datetime, int] | None:
    """(direction "n"/"p", time, id), or None for a missing or malformed cursor (first page)."""
    if not token or len(token) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        direction, time_text, pk_text = raw.split("|")
        time = parse_datetime(time_text)
        pk = int(pk_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if direction not in ("n", "p") or time is None or time.tzinfo is None or not 0 < pk < 2**63:
        return None
    return direction, time, pk


def keyset_page(
    queryset: QuerySet[Any],
    *,
    cursor: str | None,
    size: int,
    descending: bool = True,
    time_field: str = "time",
) -> KeysetPage:
    """One page of `queryset` ordered by (time_field, id), newest first unless `descending` is
    False."""
    decoded = decode_cursor(cursor)
    order = [f"-{time_field}", "-id"] if descending else [time_field, "id"]
    reverse_order = [time_field, "id"] if descending else [f"-{time_field}", "-id"]

    def after(time: dt.datetime, pk: int, *, forward: bool) -> Q:
        # Rows that come after (forward) or before (backward) the position in display order.
        older = descending == forward
        op = "lt" if older else "gt"
        return Q(**{f"{time_field}__{op}": time}) | Q(**{time_field: time, f"id__{op}": pk})

    if decoded is None:
        rows = list(queryset.order_by(*order)[: size + 1])
        page = KeysetPage(items=rows[:size])
        if len(rows) > size:
            page.next_cursor = _cursor("n", page.items[-1], time_field)
        return page
    direction, time, pk = decoded
    if direction == "n":
        rows = list(queryset.filter(after(time, pk, forward=True)).order_by(*order)[: size + 1])
        page = KeysetPage(items=rows[:size])
        if len(rows) > size:
            page.next_cursor = _cursor("n", page.items[-1], time_field)
        if page.items:
            page.previous_cursor = _cursor("p", page.items[0], time_field)
        return page
    rows = list(queryset.filter(after(time, pk, forward=False)).order_by(*reverse_order)[: size + 1])
    items = rows[:size]
    items.reverse()
    page = KeysetPage(items=items)
    if len(rows) > size:
        page.previous_cursor = _cursor("p", items[0], time_field)
    if items:
        page.next_cursor = _cursor("n", items[-1], time_field)
    return page


def _cursor(direction: str, obj: Any, time_field: str) -> str:
    return encode_cursor(direction, getattr(obj, time_field), obj.pk)
