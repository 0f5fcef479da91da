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


def update_by_id(table: str, column: str, rows: Sequence[tuple[Any, int]], *, pg_type: str) -> None:
    """Set ``column`` of many rows of ``table`` by id, each to its own value (``rows``: pairs of
    the value, already adapted for the database, and the id; ``table``, ``column`` and
    ``pg_type`` are trusted SQL).

    PostgreSQL: ONE ``UPDATE … FROM unnest(ids, values)`` — one statement for the batch instead of
    one per row (each statement costs the server its own parse, snapshot and executor start: for a
    100k-row sweep the row-by-row form spent ~3× the set's time). SQLite runs in process, where
    ``executemany`` of the one-row statement is the cheaper form."""
    if not rows:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f"UPDATE {quote(table)} AS t SET {quote(column)} = v.value "  # noqa: S608 - trusted names
                f"FROM unnest(%s::bigint[], %s::{pg_type}[]) AS v(id, value) WHERE t.id = v.id",
                [[pk for _value, pk in rows], [value for value, _pk in rows]],
            )
        else:
            cur.executemany(f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s", rows)  # noqa: S608
