"""What the account 360° view shows of quote-to-cash: the latest quotes, contracts, orders and
payments the user may see, and the account's receivables (outstanding instalments by age) and credit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from kehu.core.choices import Action
from kehu.core.permissions import can

from ..choices import AgingBucket
from ..models import Contract, CreditEntry, Instalment, Order, Payment, Quote

PANEL_ROWS = 5
# Days past due (inclusive) of the bounded aging buckets.
BUCKET_DAYS: dict[str, tuple[int, int]] = {
    AgingBucket.D0_30: (0, 30),
    AgingBucket.D31_60: (31, 60),
    AgingBucket.D61_90: (61, 90),
}


@dataclass
class AccountReceivables:
    """One currency's outstanding money of an account, by bucket."""

    currency: str
    buckets: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), Decimal(0))

    @property
    def overdue(self) -> Decimal:
        return self.total - self.buckets.get(AgingBucket.NOT_DUE, Decimal(0))

    def rows(self) -> list[tuple[str, Any, Decimal]]:
        return [(key, label, self.buckets.get(key, Decimal(0))) for key, label in AgingBucket.choices]


def _bucket_q(as_of: dt.date, key: str) -> Q:
    """Days past due = as_of − due date: not yet due (< 0), 0–30, 31–60, 61–90, > 90."""
    if key == AgingBucket.NOT_DUE:
        return Q(due_on__gt=as_of)
    if key == AgingBucket.D90_PLUS:
        return Q(due_on__lt=as_of - dt.timedelta(days=90))
    low, high = BUCKET_DAYS[key]
    return Q(due_on__lte=as_of - dt.timedelta(days=low), due_on__gte=as_of - dt.timedelta(days=high))


def account_receivables(
    *, user: Any, account_id: int, as_of: dt.date | None = None
) -> list[AccountReceivables]:
    """The account's outstanding instalments (amount − received > 0) per currency and aging bucket
    (days past the due date; an instalment due today is 0 days past due)."""
    as_of = as_of or timezone.localdate()
    outstanding = ExpressionWrapper(F("amount") - F("received"), output_field=DecimalField())
    qs = (
        Instalment.objects.restrict(user, Action.VIEW)
        .filter(account_id=account_id, amount__gt=F("received"))
        .values("currency")
        .order_by("currency")
    )
    sums = {key: Sum(outstanding, filter=_bucket_q(as_of, key)) for key, _label in AgingBucket.choices}
    result = []
    for row in qs.annotate(**sums):
        buckets = {key: row[key] or Decimal(0) for key, _label in AgingBucket.choices}
        result.append(AccountReceivables(currency=row["currency"], buckets=buckets))
    return result


def account_credit(*, account_id: int) -> dict[str, Decimal]:
    """The account's credit balance per currency (the sum of its credit ledger), non-zero only."""
    rows = (
        CreditEntry.objects.filter(account_id=account_id)
        .values("currency")
        .order_by("currency")
        .annotate(balance=Sum("amount"))
    )
    return {r["currency"]: r["balance"] for r in rows if r["balance"]}


def account_commerce(*, user: Any, account_id: int) -> dict[str, Any]:
    """The latest documents of each kind the user may see, with their counts; a kind the user may
    not view is None (its card is not shown)."""
    out: dict[str, Any] = {}
    kinds = (
        ("quote", Quote.objects.filter(is_latest=True), ("-id",)),
        ("contract", Contract.objects.all(), ("-id",)),
        ("order", Order.objects.select_related("status"), ("-ordered_on", "-id")),
        ("payment", Payment.objects.all(), ("-received_on", "-id")),
    )
    for key, base, ordering in kinds:
        if not can(user, base.model, Action.VIEW):
            out[f"{key}s"], out[f"{key}_count"] = None, 0
            continue
        qs = base.restrict(user, Action.VIEW).filter(account_id=account_id)
        out[f"{key}s"] = list(qs.order_by(*ordering)[:PANEL_ROWS])
        out[f"{key}_count"] = qs.count()
    return out
