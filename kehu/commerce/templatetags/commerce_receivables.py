"""The account-level receivables card: ``{% include "commerce/receivables/_account_panel.html" with
account=object %}`` (or ``{% load commerce_receivables %}{% account_receivables_panel account %}``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from kehu.core.choices import Action
from kehu.core.permissions import can

from ..choices import AgingBucket
from ..models import Payment
from ..selectors.payments import account_credits
from ..selectors.receivables import aging

register = template.Library()


@register.inclusion_tag("commerce/receivables/_account_panel_body.html", takes_context=True)
def account_receivables_panel(context: template.Context, account: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    result = aging(user, as_of=timezone.localdate(), account=account)
    return {
        "account": account,
        "rows": result.rows,
        "bucket_choices": AgingBucket.choices,
        "credits": account_credits(account) if can(user, Payment, Action.VIEW) else {},
        "may_record": can(user, Payment, Action.ADD),
        "request": request,
    }
