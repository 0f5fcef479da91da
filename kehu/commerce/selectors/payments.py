"""Reads of payment plans, instalments, payments, credits and invoices (always `restrict()`-ed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet, Sum

from kehu.core.choices import Action

from ..models import Contract, CreditEntry, Instalment, Invoice, Order, Payment, PaymentPlan

ZERO = Decimal("0")


def payment_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[Payment]:
    return Payment.objects.restrict(user, action).select_related("account", "instalment", "owner")


def invoice_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[Invoice]:
    return Invoice.objects.restrict(user, action).select_related("account", "contract", "order", "owner")


def instalment_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[Instalment]:
    return Instalment.objects.restrict(user, action).select_related("account", "plan", "owner")


def plan_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[PaymentPlan]:
    return PaymentPlan.objects.restrict(user, action).select_related("account", "contract", "order")


def plan_of(document: Contract | Order) -> PaymentPlan | None:
    """The document's plan (unrestricted: the caller already holds the document)."""
    field = "contract" if isinstance(document, Contract) else "order"
    return PaymentPlan.objects.filter(**{field: document}).first()


def plan_instalments(plan: PaymentPlan) -> list[Instalment]:
    return list(Instalment.objects.filter(plan=plan).order_by("sequence"))


def plan_summary(plan: PaymentPlan | None) -> dict[str, Decimal]:
    """Amount, received and outstanding over the plan's instalments."""
    if plan is None:
        return {"amount": ZERO, "received": ZERO, "outstanding": ZERO}
    sums = Instalment.objects.filter(plan=plan).aggregate(a=Sum("amount"), r=Sum("received"))
    amount, received = sums["a"] or ZERO, sums["r"] or ZERO
    return {"amount": amount, "received": received, "outstanding": amount - received}


def account_credit(account: Any, currency: str) -> Decimal:
    """The account's credit in `currency`: the sum of its credit ledger."""
    account_id = getattr(account, "pk", account)
    total = CreditEntry.objects.filter(account_id=account_id, currency=currency).aggregate(t=Sum("amount"))[
        "t"
    ]
    return total or ZERO


def account_credits(account: Any) -> dict[str, Decimal]:
    """{currency: credit} of the account, only currencies with a non-zero balance."""
    account_id = getattr(account, "pk", account)
    rows = (
        CreditEntry.objects.filter(account_id=account_id)
        .values("currency")
        .annotate(t=Sum("amount"))
        .order_by("currency")
    )
    return {r["currency"]: r["t"] for r in rows if r["t"]}


def credit_entries(account: Any) -> QuerySet[CreditEntry]:
    return CreditEntry.objects.filter(account_id=getattr(account, "pk", account)).select_related("payment")


def is_reversed(payment: Payment) -> bool:
    return Payment.objects.filter(reverses=payment).exists()


def open_instalments(*, user: Any, account: Any) -> QuerySet[Instalment]:
    """The account's instalments with money outstanding, oldest due first (payment form choices)."""
    return (
        Instalment.objects.restrict(user, Action.VIEW)
        .filter(account_id=getattr(account, "pk", account), amount__gt=F("received"))
        .select_related("plan__contract", "plan__order")
        .order_by("due_on", "pk")
    )


def collected_amount(
    *,
    user_id: int | None = None,
    department_ids: list[int] | None = None,
    start: dt.date,
    end: dt.date,
    currency: str,
) -> Decimal:
    """Money collected (payments minus reversals) received in [start, end], by one owner or by
    owners' departments: the "collected payments" measure of sales targets. A target in the company
    currency counts payments in every currency, each converted at the rate of the day it was
    received (a currency without a rate that day is left out); a target in another currency counts
    the payments in that currency."""
    from kehu.catalog.selectors import CompanyCurrencyConverter, company_currency_code

    qs = Payment.objects.filter(received_on__gte=start, received_on__lte=end)
    if user_id is not None:
        qs = qs.filter(owner_id=user_id)
    elif department_ids is not None:
        qs = qs.filter(department_id__in=department_ids)
    if currency != company_currency_code():
        return qs.filter(currency=currency).aggregate(t=Sum("amount"))["t"] or ZERO
    total = qs.filter(currency=currency).aggregate(t=Sum("amount"))["t"] or ZERO
    foreign = (
        qs.exclude(currency=currency)
        .values("currency", "received_on")
        .annotate(t=Sum("amount"))
        .order_by("currency", "received_on")
    )
    convert = CompanyCurrencyConverter()  # (each currency's rates read once, not per day)
    for row in foreign:
        converted = convert(row["t"], row["currency"], row["received_on"])
        if converted is not None:
            total += converted
    return total
