"""``{% conversion_actions quote as conv %}``: which conversions (contract, order) the user may
start from a quote — an accepted latest version, with the add permission on the target, not yet
converted into one (a quote becomes one contract and one order)."""

from __future__ import annotations

from typing import Any

from django import template

from kehu.core.choices import Action
from kehu.core.permissions import can

from ..choices import QuoteStatus
from ..models import Contract, Order

register = template.Library()


@register.simple_tag(takes_context=True)
def conversion_actions(context: Any, quote: Any) -> dict[str, bool]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or quote is None or not quote.is_latest or quote.status != QuoteStatus.ACCEPTED:
        return {"contract": False, "order": False}
    return {
        "contract": can(user, Contract, Action.ADD) and not Contract.objects.filter(quote=quote).exists(),
        "order": can(user, Order, Action.ADD) and not Order.objects.filter(quote=quote).exists(),
    }
