"""Set-membership tests with ONE parameter, for look-ups of thousands of values per query.

``col IN (%s, %s, …)`` with thousands of placeholders costs more to build, send and parse than
the look-up itself (psycopg splits the query text client-side; SQLite caps the number of
variables). These send the values as one parameter instead: a PostgreSQL array
(``col = ANY(%s)``) or, on SQLite, a JSON array read by ``json_each`` (built into SQLite since
3.38, and into every Python 3.11 build we support through the JSON1 extension).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from django.db import connection


def values_in(column: str, values: Collection[Any]) -> tuple[str, list[Any]]:
    """``(sql, params)``: the condition "`column` is one of `values`" (`column` is trusted SQL)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(list(values), ensure_ascii=False)]  # noqa: S608 - a trusted column


def select_rows(sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    """Rows of a raw SELECT (tuples), read in one go."""
    with connection.cursor() as cur:
        cur.execute(sql, params)
        yield from cur.fetchall()
