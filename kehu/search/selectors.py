"""Reads of the search index: ranked ids among the rows a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .backends import get_backend
from .services import search_index_flush
from .tokens import parse_query


def search_ranked(*, queryset: QuerySet[Any], q: str, limit: int) -> list[tuple[int, float]]:
    """[(pk, score)] of `queryset`'s rows that match `q`, best first, at most `limit`.

    `queryset` is the caller's restricted queryset (``Model.objects.restrict(user, "view")`` and
    any filter): the permission filter joins the full-text match inside the database, before the
    limit. Exact tokens rank first (their own pass), then prefix matches; within a pass, name
    tokens weigh more than phone, e-mail and the rest. Callers load the rows by pk from the same
    queryset."""
    query = parse_query(q)
    if not query or limit <= 0:
        return []
    alias = queryset.db
    search_index_flush(using=alias)
    label = queryset.model._meta.label_lower
    restriction = None
    if queryset.query.is_empty():
        return []
    if queryset.query.where:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        restriction = (sql, tuple(params))
    backend = get_backend(alias)
    hits = backend.search(label=label, query=query, restriction=restriction, limit=limit, exact=True)
    has_prefix = any(p for term in query.terms for _, p in term.any_of)
    if len(hits) < limit and has_prefix:
        seen = {pk for pk, _ in hits}
        more = backend.search(
            label=label, query=query, restriction=restriction, limit=limit + len(hits), exact=False
        )
        hits += [(pk, score) for pk, score in more if pk not in seen][: limit - len(hits)]
    return hits
