"""Plain SQL statements built once per database from the models' table and column names, and
the rows they read and write handled as the ORM would (issue 5: the pool claim).

For the few hot statements where the ORM's compile costs more CPU than the database takes to run
them: build the SQL once with `built` (kept per database alias), read whole rows into model
instances with `reader`/`instance` (the fields' own converters: SQLite's text datetimes and
integer booleans, JSON), write unsaved instances with `insert` (the values `bulk_create` would
write). Only standard SQL that SQLite and PostgreSQL both run belongs here; `lock_clause` gives
the row-lock clause where the database has one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import models

_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def built(conn: Any, key: tuple[Any, ...], build: Any) -> Any:
    """`build(conn)`, kept per database alias and `key`."""
    full = (conn.alias, *key)
    found = _STATEMENTS.get(full)
    if found is None:
        found = _STATEMENTS[full] = build(conn)
    return found


def lock_clause(conn: Any, *aliases: str) -> str:
    """The clause locking the rows of the tables `aliases` of a SELECT for a write that keeps their
    keys (PostgreSQL: `FOR NO KEY UPDATE OF`); none where the database serialises writes (SQLite)."""
    if not conn.features.has_select_for_update:
        return ""
    if conn.features.has_select_for_no_key_update and conn.features.has_select_for_update_of:
        return f" FOR NO KEY UPDATE OF {', '.join(aliases)}"
    return " FOR UPDATE"


# Statements with `IN (%s, …)` are built once per number of values up to this (a list page's rows);
# longer lists go through the ORM, so the kept statements stay few.
MAX_PLAIN_IN = 500


def placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


def select_in(
    conn: Any,
    key: tuple[Any, ...],
    head: Callable[[Any], str],
    values: Sequence[Any],
    *,
    before: Sequence[Any] = (),
    tail: str = "",
) -> list[tuple[Any, ...]] | None:
    """The rows of `head(conn) + " IN (%s, …)" + tail`, with `before` the parameters of `head` and
    `values` (already prepared for the database) those of the list; the statement is built once
    per `key` and number of values. None for more than `MAX_PLAIN_IN` values: the caller reads
    them with the ORM, so the kept statements stay few."""
    if len(values) > MAX_PLAIN_IN:
        return None
    sql = built(conn, (*key, len(values)), lambda c: f"{head(c)} IN ({placeholders(len(values))}){tail}")
    with conn.cursor() as cursor:
        cursor.execute(sql, [*before, *values])
        return cursor.fetchall()


def column(model: type[models.Model], name: str) -> str:
    field: Any = model._meta.get_field(name)
    return str(field.column)


def reader(
    conn: Any, model: type[models.Model]
) -> tuple[list[str], list[str], list[tuple[int, list[Any], Any]]]:
    """How to read whole rows of `model`: (column names, attribute names, converters by position)."""

    def build(conn: Any) -> Any:
        fields: list[Any] = list(model._meta.concrete_fields)
        converters = []
        for i, field in enumerate(fields):
            col = field.get_col(model._meta.db_table)
            fns = conn.ops.get_db_converters(col) + field.get_db_converters(conn)
            if fns:
                converters.append((i, fns, col))
        return [f.column for f in fields], [f.attname for f in fields], converters

    return built(conn, ("reader", model._meta.label_lower), build)


def instance(conn: Any, model: type[models.Model], values: Sequence[Any]) -> Any:
    """A model instance from a whole row read with `reader`'s columns (as the ORM makes it)."""
    _columns, attnames, converters = reader(conn, model)
    row = list(values)
    for i, fns, col in converters:
        value = row[i]
        for fn in fns:
            value = fn(value, col, conn)
        row[i] = value
    return model.from_db(conn.alias, attnames, row)


def convert(conn: Any, model: type[models.Model], name: str, value: Any) -> Any:
    """A value of `model.name` as read from the database (e.g. SQLite's text datetimes)."""
    field: Any = model._meta.get_field(name)
    col = field.get_col(model._meta.db_table)
    for fn in conn.ops.get_db_converters(col) + field.get_db_converters(conn):
        value = fn(value, col, conn)
    return value


def insert_statements(conn: Any, model: type[models.Model], objs: list[Any]) -> list[tuple[str, list[Any]]]:
    """INSERT statements of unsaved instances, without reading their ids back (`bulk_create`
    without its per-call ORM compile): the values `bulk_create` would write (auto fields left to
    the database, `auto_now_add` filled by `pre_save`), several rows per statement (as many as the
    database takes parameters). The instances count as saved."""
    if not objs:
        return []

    def build(conn: Any) -> Any:
        fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
        qn = conn.ops.quote_name
        head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "  # noqa: S608
        return head, f"({placeholders(len(fields))})", fields

    head, one, fields = built(conn, ("insert", model._meta.label_lower), build)
    per = max(1, (conn.features.max_query_params or 10**6) // len(fields))
    statements = []
    for start in range(0, len(objs), per):
        chunk = objs[start : start + per]
        params = [f.get_db_prep_save(f.pre_save(obj, True), conn) for obj in chunk for f in fields]
        statements.append((head + ", ".join([one] * len(chunk)), params))
    for obj in objs:
        obj._state.adding, obj._state.db = False, conn.alias
    return statements


def insert(conn: Any, model: type[models.Model], objs: list[Any]) -> None:
    """Insert unsaved instances (`insert_statements`)."""
    execute_together(conn, insert_statements(conn, model, objs))


def execute_together(conn: Any, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
    """Run writes that return nothing, in order: on PostgreSQL as ONE statement (each a
    data-modifying ``WITH`` part: PostgreSQL runs every part to completion, once; one round trip
    instead of one per write), elsewhere one after another. The writes must not touch the same rows
    (the parts of one PostgreSQL statement all see the rows as they were before it)."""
    if not statements:
        return
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql" and len(statements) > 1:
            sql = "WITH " + ", ".join(f"w{i} AS ({sql})" for i, (sql, _params) in enumerate(statements))
            cursor.execute(sql + " SELECT 1", [p for _sql, params in statements for p in params])
            return
        for sql, params in statements:
            cursor.execute(sql, params)
