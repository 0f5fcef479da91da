"""The payment plan panel of a contract or an order: ``{% load commerce_payments %}
{% payment_plan_panel document %}`` (or ``{% include "commerce/payments/_plan_panel.html" with
document=object %}``, which does the same). Needs only the document and the request in context."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from kehu.core.choices import Action
from kehu.core.permissions import can

from ..models import Contract, Order, Payment, PaymentPlan
from ..selectors.payments import account_credits, plan_instalments, plan_of, plan_summary
from ..selectors.receivables import bucket_of

register = template.Library()


def document_kind(document: Any) -> str:
    return "contract" if isinstance(document, Contract) else "order"


def plan_panel_context(
    user: Any, document: Contract | Order, plan: PaymentPlan | None = None
) -> dict[str, Any]:
    """What `_plan_panel_body.html` shows: the plan's instalments with their state, and the buttons
    the user may use (an instalment with money outstanding offers "Apply credit" when the account
    has credit in its currency and the user may record payments)."""
    plan = plan or plan_of(document)
    instalments = plan_instalments(plan) if plan is not None else []
    today = timezone.localdate()
    may_record = plan is not None and can(user, Payment, Action.ADD)
    credits = account_credits(document.account_id) if may_record and instalments else {}
    rows = []
    for i in instalments:
        outstanding = i.outstanding
        if outstanding <= 0:
            state = "paid"
        elif i.received > 0:
            state = "partial"
        else:
            state = "open"
        overdue = outstanding > 0 and i.due_on < today
        rows.append(
            {
                "instalment": i,
                "outstanding": outstanding,
                "state": state,
                "overdue": overdue,
                "bucket": bucket_of(i.due_on, today),
                "credit": credits.get(i.currency) if outstanding > 0 else None,
            }
        )
    model = type(document)
    may_edit_document = model._default_manager.restrict(user, Action.CHANGE).filter(pk=document.pk).exists()
    may_plan = may_edit_document and can(user, PaymentPlan, Action.CHANGE if plan else Action.ADD)
    return {
        "document": document,
        "document_kind": document_kind(document),
        "plan": plan,
        "rows": rows,
        "summary": plan_summary(plan),
        "may_plan": may_plan,
        "may_record": may_record,
        "credits": credits,
        "value": document.value if isinstance(document, Contract) else document.total,
    }


@register.inclusion_tag("commerce/payments/_plan_panel_body.html", takes_context=True)
def payment_plan_panel(context: template.Context, document: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    data = plan_panel_context(user, document)
    data["request"] = request
    data["csrf_token"] = context.get("csrf_token")
    return data
