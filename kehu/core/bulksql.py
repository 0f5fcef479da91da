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
from django.db.models import QuerySet


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


def filter_in(queryset: QuerySet[Any], field: str, values: Collection[Any]) -> QuerySet[Any]:
    """``queryset.filter(<field>__in=values)`` with the values as ONE parameter (``values_in``):
    for thousands of ids the ORM's placeholders cost milliseconds of Python per query."""
    model = queryset.model
    column = model._meta.get_field(field).column
    quote = connection.ops.quote_name
    where, params = values_in(f"{quote(model._meta.db_table)}.{quote(column)}", values)
    return queryset.extra(where=[where], params=params)  # noqa: S610 - trusted names, values as parameters


def insert_rows(
    table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, ignore_conflicts: bool = False
) -> None:
    """INSERT many rows (values already prepared for the database; names trusted): PostgreSQL
    ``COPY`` (with ``ignore_conflicts``, into a scratch table first, then one ``INSERT … SELECT …
    ON CONFLICT DO NOTHING``), elsewhere one ``executemany``. Django's ``bulk_create`` spends
    ~40 µs a row compiling values, and a row-by-row INSERT costs the server a statement each."""
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as wrapper:
        if connection.vendor != "postgresql":
            marks = ", ".join(["%s"] * len(columns))
            tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
            wrapper.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks}){tail}", rows)  # noqa: S608
            return
        cur: Any = wrapper.cursor  # psycopg 3 (errors wrapped as Django's, like the wrapper's)
        with connection.wrap_database_errors:
            _copy_rows(cur, table, names, rows, ignore_conflicts)


def _copy_rows(
    cur: Any, table: str, names: str, rows: Sequence[Sequence[Any]], ignore_conflicts: bool
) -> None:
    quote = connection.ops.quote_name
    target = quote(table)
    if ignore_conflicts:
        target = quote(f"load_{table}")
        cur.execute(f"DROP TABLE IF EXISTS {target}")
        cur.execute(f"CREATE TEMP TABLE {target} AS SELECT {names} FROM {quote(table)} WITH NO DATA")  # noqa: S608
    with cur.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    if ignore_conflicts:
        cur.execute(
            f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM {target} ON CONFLICT DO NOTHING"  # noqa: S608
        )
        cur.execute(f"DROP TABLE {target}")
