"""The full-text backends behind one interface: PostgreSQL (tsvector + GIN) and SQLite (FTS5).

All vendor-specific SQL of the search lives here (and in ``migration_ops``). A backend answers one
question: the ids of a model's entries that match a query, best first, among the rows of a
restricted queryset (given as SQL) so the permission filter applies before the limit and a rep
with a small scope still finds their record among many other people's matches.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

from .tokens import Query

Restriction = tuple[str, tuple[Any, ...]] | None
# (object id, database rank, name tokens, other tokens)
Ranked = list[tuple[int, float, str, str]]

# Broad queries (one Chinese character, a common syllable) can match hundreds of thousands of rows;
# ranking is done over at most this many candidates per pass (exact tokens are a separate, first
# pass, so an exact match is never crowded out by prefix matches). `ts_rank` reads each candidate's
# vector: 2,000 candidates cost ~140 ms for a query matching 6,700 of 200k accounts, 200 cost
# ~35 ms, and the caller asks for at most `3 × limit + 10` rows, which its own score orders.
CANDIDATES = 200


class Backend:
    vendor = ""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def search(
        self, *, label: str, query: Query, restriction: Restriction, limit: int, exact: bool
    ) -> Ranked:
        raise NotImplementedError

    def match_sql(self, *, label: str, query: Query) -> tuple[str, list[Any]]:
        """SQL selecting the object ids of `label`'s entries that match `query` (prefixes as the
        query says, no ranking, no limit): for ``pk IN (...)`` filters such as a list's quick search."""
        raise NotImplementedError

    def analyze(self) -> None:
        """Refresh the planner's statistics of the index (after a rebuild)."""

    def _fetch(self, sql: str, params: list[Any]) -> Ranked:
        with connections[self.alias].cursor() as cur:
            cur.execute(sql, params)
            return [(int(pk), float(score), name, other) for pk, score, name, other in cur.fetchall()]


class PostgresBackend(Backend):
    """``vector @@ tsquery`` on the GIN index, ranked by ``ts_rank`` (names weigh A, others D);
    the exact-token rank is added to the prefix rank, so "张三" ranks 张三 above 张三丰."""

    vendor = "postgresql"
    # The model as a recheck, never an index condition: with statistics taken while the index was
    # filling (a rebuild), the planner AND-ed the GIN matches (24 rows) with the (model, object_id)
    # B-tree scan of every entry of the model (200,000 rows, 100-180 ms). Few models, so the
    # B-tree never narrows a search anyway.
    MODEL = "(e.model || '') = %s"

    def analyze(self) -> None:
        with connections[self.alias].cursor() as cur:
            cur.execute("ANALYZE search_searchentry")

    @staticmethod
    def tsquery(query: Query, *, exact: bool) -> str:
        def alt(tok: str, prefix: bool) -> str:
            return f"'{tok}'" + (":*" if prefix and not exact else "")

        return " & ".join("(" + " | ".join(alt(t, p) for t, p in term.any_of) + ")" for term in query.terms)

    def search(
        self, *, label: str, query: Query, restriction: Restriction, limit: int, exact: bool
    ) -> Ranked:
        match = self.tsquery(query, exact=exact)
        params: list[Any] = [label, match]
        where = f"{self.MODEL} AND e.vector @@ %s::tsquery"
        if restriction is not None:
            where += f" AND e.object_id IN ({restriction[0]})"
            params.extend(restriction[1])
        # `where` holds placeholders and the restricted queryset's own compiled SQL, no input.
        sql = (
            "SELECT c.object_id, ts_rank(c.vector, %s::tsquery) + ts_rank(c.vector, %s::tsquery) AS r, "  # noqa: S608
            "c.name_tokens, c.tokens "
            "FROM (SELECT e.object_id, e.vector, e.name_tokens, e.tokens FROM search_searchentry e "
            f"WHERE {where} LIMIT {CANDIDATES}) c "
            "ORDER BY r DESC, c.object_id DESC LIMIT %s"
        )
        rank_params = [self.tsquery(query, exact=True), self.tsquery(query, exact=False)]
        return self._fetch(sql, [*rank_params, *params, limit])

    def match_sql(self, *, label: str, query: Query) -> tuple[str, list[Any]]:
        # MODEL is a constant with a placeholder: no input in the SQL.
        sql = f"SELECT e.object_id FROM search_searchentry e WHERE {self.MODEL} AND e.vector @@ %s::tsquery"  # noqa: S608
        return sql, [label, self.tsquery(query, exact=False)]


class SqliteBackend(Backend):
    """FTS5 ``MATCH`` on ``search_fts``, ranked by ``bm25`` with the name column weighing 10."""

    vendor = "sqlite"

    @staticmethod
    def fts_query(query: Query, *, exact: bool) -> str:
        def alt(tok: str, prefix: bool) -> str:
            return f'"{tok}"' + ("*" if prefix and not exact else "")

        return " AND ".join(
            "(" + " OR ".join(alt(t, p) for t, p in term.any_of) + ")" for term in query.terms
        )

    def search(
        self, *, label: str, query: Query, restriction: Restriction, limit: int, exact: bool
    ) -> Ranked:
        params: list[Any] = [self.fts_query(query, exact=exact), label]
        where = "search_fts MATCH %s AND e.model = %s"
        if restriction is not None:
            where += f" AND e.object_id IN ({restriction[0]})"
            params.extend(restriction[1])
        sql = (
            "SELECT e.object_id, -bm25(search_fts, 10.0, 1.0) AS r, e.name_tokens, e.tokens "  # noqa: S608
            "FROM search_fts JOIN search_searchentry e ON e.id = search_fts.rowid "
            f"WHERE {where} ORDER BY r DESC, e.object_id DESC LIMIT %s"
        )
        return self._fetch(sql, [*params, limit])

    def match_sql(self, *, label: str, query: Query) -> tuple[str, list[Any]]:
        sql = (
            "SELECT e.object_id FROM search_fts JOIN search_searchentry e ON e.id = search_fts.rowid "
            "WHERE search_fts MATCH %s AND e.model = %s"
        )
        return sql, [self.fts_query(query, exact=False), label]


def get_backend(alias: str = "default") -> Backend:
    vendor = connections[alias].vendor
    if vendor == "postgresql":
        return PostgresBackend(alias)
    if vendor == "sqlite":
        return SqliteBackend(alias)
    raise NotImplementedError(f"global search does not support {vendor}")
