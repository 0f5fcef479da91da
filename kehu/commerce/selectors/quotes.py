"""Reads of quotes: every queryset starts from ``Quote.objects.restrict(user, action)``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Count, QuerySet

from kehu.catalog.models import PriceList
from kehu.core.choices import Action

from ..models import Quote, QuoteApproval, QuoteLine


def quote_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[Quote]:
    return Quote.objects.restrict(user, action).select_related("account", "owner", "contact")


def quote_get(*, user: Any, pk: Any, action: str = Action.VIEW) -> Quote | None:
    return quote_list(user=user, action=action).filter(pk=pk).first()


def quote_lines(*, quote: Quote) -> QuerySet[QuoteLine]:
    return quote.lines.select_related("product").order_by("position", "id")


def quote_versions(*, user: Any, quote: Quote) -> QuerySet[Quote]:
    """Every version of the quote's number the user may view, newest first."""
    return Quote.objects.restrict(user, Action.VIEW).filter(number=quote.number).order_by("-revision")


def quote_approvals(*, quote: Quote) -> QuerySet[QuoteApproval]:
    return quote.approvals.select_related("approver", "role", "decided_by", "rule").order_by("id")


def opportunity_price_list(*, opportunity: Any, user: Any, currency: str | None = None) -> PriceList | None:
    """The price list `opportunity`'s lines were priced from (the one most of its lines name; on a
    tie the first line's), when it is in `currency` (default: the opportunity's), active, and `user`
    may view it; else None (no lines, typed prices, or lists in another currency)."""
    code = currency or opportunity.currency
    ranked = (
        opportunity.lines.filter(price_list__isnull=False, price_list__currency__code=code)
        .values("price_list")
        .annotate(n=Count("id"), first=models.Min("position"))
        .order_by("-n", "first", "price_list")
    )
    for row in ranked:
        found = (
            PriceList.objects.restrict(user, Action.VIEW)
            .select_related("currency")
            .filter(pk=row["price_list"], is_active=True)
            .first()
        )
        if found is not None:
            return found
    return None
