"""Reads of quotes: every queryset starts from ``Quote.objects.restrict(user, action)``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

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
