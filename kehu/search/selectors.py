"""Reads of the search index: ranked ids among the rows a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from .backends import get_backend
from .services import search_index_flush
from .tokens import Query, parse_query

# How a query term matched a record, best first: a name token exactly, a name token's start, another
# token (bigram, pinyin stretch, phone suffix, e-mail part...) exactly, another token's start.
NAME_EXACT, NAME_PREFIX, OTHER_EXACT, OTHER_PREFIX = 8.0, 4.0, 2.0, 1.0


def match_score(query: Query, name_tokens: str, tokens: str) -> float:
    """How well a row's tokens match the query: per query term its best match — a name token
    exactly (NAME_EXACT), a name token's start (NAME_PREFIX), another token exactly (OTHER_EXACT),
    another token's start (OTHER_PREFIX) — summed. `name_tokens` / `tokens`: space-separated."""
    names = name_tokens.split()
    others = tokens.split()
    name_set, other_set = set(names), set(others)
    score = 0.0
    for term in query.terms:
        best = 0.0
        for tok, prefix in term.any_of:
            if tok in name_set:
                best = max(best, NAME_EXACT)
            elif prefix and any(t.startswith(tok) for t in names):
                best = max(best, NAME_PREFIX)
            elif tok in other_set:
                best = max(best, OTHER_EXACT)
            elif prefix and best < OTHER_PREFIX and any(t.startswith(tok) for t in others):
                best = OTHER_PREFIX
        score += best
    return score


def search_ranked(*, queryset: QuerySet[Any], q: str, limit: int) -> list[tuple[int, float]]:
    """[(pk, score)] of `queryset`'s rows that match `q`, best first, at most `limit`.

    `queryset` is the caller's restricted queryset (``Model.objects.restrict(user, "view")`` and
    any filter): the permission filter joins the full-text match inside the database, before the
    limit, so a rep with a small scope finds their record among many other people's matches.

    The database picks the candidates (exact tokens in a first pass, then prefixes; names weigh
    more), and the candidates are scored by how each query term matched: a name exactly, a name's
    start, another token exactly, another token's start (see ``match_score``); the database's own
    rank breaks ties. Callers load the rows by pk from the same queryset."""
    query = parse_query(q)
    if not query or limit <= 0 or queryset.query.is_empty():
        return []
    alias = queryset.db
    search_index_flush(using=alias)
    label = queryset.model._meta.label_lower
    restriction = None
    if queryset.query.where:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        restriction = (sql, tuple(params))
    backend = get_backend(alias)
    want = limit * 3 + 10
    found = backend.search(label=label, query=query, restriction=restriction, limit=want, exact=True)
    if len(found) < want and any(p for term in query.terms for _, p in term.any_of):
        seen = {row[0] for row in found}
        more = backend.search(label=label, query=query, restriction=restriction, limit=want, exact=False)
        found += [row for row in more if row[0] not in seen]
    scored = [(pk, match_score(query, name, other) + min(raw, 0.99)) for pk, raw, name, other in found]
    scored.sort(key=lambda item: (-item[1], -item[0]))
    return scored[:limit]


def search_index_ready(model: type[Any] | str, *, using: str = "default") -> bool:
    """Whether the index holds entries of `model` (False before its first build: callers fall back
    to a plain database search). One index lookup."""
    from .models import SearchEntry

    label = model if isinstance(model, str) else model._meta.label_lower
    return SearchEntry.objects.using(using).filter(model=label.lower()).exists()


def search_filter(
    queryset: QuerySet[Any], q: str, *, via: dict[str, str] | None = None
) -> QuerySet[Any] | None:
    """`queryset` narrowed to the rows matching `q` in the index, unranked (the caller keeps its own
    order): a list's quick search. `via` adds rows whose foreign key points to a matching record of
    another indexed model ({"customers.account": "account_id"}: contacts of matching accounts).

    Words are prefixes of tokens, single letters and short numbers included (a filter, unlike the
    ranked search, need not keep broad queries cheap). None when the index cannot answer: `q` has
    nothing to look for, or the model has no entries yet (never built); the caller then falls back
    to its plain database search. Records saved earlier in the same transaction are indexed first."""
    query = parse_query(q, short_prefixes=True)
    alias = queryset.db
    label = queryset.model._meta.label_lower
    if not query:
        return None
    search_index_flush(using=alias)
    if not search_index_ready(label, using=alias):
        return None
    backend = get_backend(alias)
    sql, params = backend.match_sql(label=label, query=query)
    for other, fk in (via or {}).items():
        other_sql, other_params = backend.match_sql(label=other.lower(), query=query)
        table = queryset.model._meta.db_table
        column = queryset.model._meta.get_field(fk).column
        pk = queryset.model._meta.pk.column
        sql += f" UNION SELECT r.{pk} FROM {table} r WHERE r.{column} IN ({other_sql})"  # noqa: S608
        params += other_params
    # Placeholders, table/column names from the model and the backend's own SQL: no input in `sql`.
    return queryset.filter(pk__in=RawSQL(sql, params))  # noqa: S611
