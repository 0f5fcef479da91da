"""Global search: one box, many providers.

Each app registers a provider in its ``AppConfig.ready()``::

    search.register_provider(
        "customers.account", _("Accounts"), account_search, icon="building", order=10,
        model="customers.account",
    )

A provider is ``fn(user, q, limit) -> list[SearchHit]`` and must return only rows the user may
view (start from ``Model.objects.restrict(user, "view")``). Core knows nothing about the apps; how a
provider finds its rows (icontains today, indexed tokens later) is the provider's business, so the
implementation can change without touching the search page, the top-bar box or the API.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.utils.functional import Promise

from .permissions import can

log = logging.getLogger(__name__)

# Queries shorter than this (after trimming) are not searched: one character matches everything.
MIN_QUERY_LENGTH = 1
MAX_QUERY_LENGTH = 100


@dataclass
class SearchHit:
    title: str
    url: str
    subtitle: str = ""
    # Higher first; providers decide (exact match > prefix > contains ...).
    score: float = 0.0
    pk: Any = None


@dataclass
class SearchProvider:
    key: str
    label: str | Promise
    fn: Callable[[Any, str, int], list[SearchHit]]
    icon: str = "search"
    order: int = 100
    # "app_label.model": the provider is skipped for users without "view" on it (no query at all).
    model: str | None = None
    # URL of the full list filtered by q (e.g. "customers:account_list"), for "show all".
    list_url_name: str | None = None


@dataclass
class SearchGroup:
    provider: SearchProvider
    hits: list[SearchHit] = field(default_factory=list)
    # True when the provider returned `limit` hits: there may be more.
    more: bool = False

    @property
    def key(self) -> str:
        return self.provider.key

    @property
    def label(self) -> str | Promise:
        return self.provider.label


_providers: dict[str, SearchProvider] = {}


def register_provider(
    key: str,
    label: str | Promise,
    fn: Callable[[Any, str, int], list[SearchHit]],
    *,
    icon: str = "search",
    order: int = 100,
    model: str | None = None,
    list_url_name: str | None = None,
) -> SearchProvider:
    """Register (or replace, by key) a search provider."""
    provider = SearchProvider(key, label, fn, icon, order, model, list_url_name)
    _providers[key] = provider
    return provider


def unregister_provider(key: str) -> None:
    _providers.pop(key, None)


def providers() -> list[SearchProvider]:
    return sorted(_providers.values(), key=lambda p: (p.order, p.key))


def clean_query(q: str | None) -> str:
    """Whitespace collapsed, control characters (NUL: PostgreSQL refuses it) dropped, length capped."""
    text = "".join(ch for ch in (q or "") if ch.isprintable() or ch.isspace())
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


def search(user: Any, q: str, *, limit: int = 5, only: str | None = None) -> list[SearchGroup]:
    """Results grouped by provider (only groups with hits). `limit` is per provider."""
    q = clean_query(q)
    if len(q) < MIN_QUERY_LENGTH or not getattr(user, "is_authenticated", False):
        return []
    groups: list[SearchGroup] = []
    for provider in providers():
        if only and provider.key != only:
            continue
        if provider.model and not can(user, apps.get_model(provider.model), "view"):
            continue
        hits = provider.fn(user, q, limit + 1)
        if hits:
            hits.sort(key=lambda h: -h.score)
            groups.append(SearchGroup(provider, hits[:limit], more=len(hits) > limit))
    return groups
