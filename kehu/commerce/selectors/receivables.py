"""Receivables (应收款): outstanding instalments by age.

Days past due = as_of − due date. Buckets: not yet due (due after `as_of`), 0–30 (an instalment
due on `as_of` is 0 days past due), 31–60, 61–90, > 90 (91 days and more). Only instalments with
money outstanding (amount − received > 0) count.

One grouped query with conditional aggregation (`SUM(...) FILTER (WHERE ...)` on PostgreSQL,
`SUM(CASE ...)` on SQLite) over `Instalment`, restricted by the user's "view" scope, grouped by
account and currency (or by currency alone). Amounts stay in their currency per row; each row
also carries its company-currency equivalent at the rate of `as_of` (`kehu.catalog.selectors.
rate_on`, one look-up per currency), and the totals are in the company currency. A currency
without a rate is listed in `missing_rates` and left out of the company-currency totals (its rows
keep their own amounts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum

from kehu.core.choices import Action

from ..choices import AgingBucket
from ..models import Instalment

ZERO = Decimal("0")
BUCKETS: tuple[str, ...] = tuple(AgingBucket.values)
# Days past due (inclusive) of the bounded buckets.
BUCKET_DAYS: dict[str, tuple[int, int]] = {
    AgingBucket.D0_30: (0, 30),
    AgingBucket.D31_60: (31, 60),
    AgingBucket.D61_90: (61, 90),
}
GROUPINGS = ("account", "none")


def bucket_q(as_of: dt.date, key: str) -> Q:
    """The instalments of bucket `key` on day `as_of` (by due date: an index range)."""
    if key == AgingBucket.NOT_DUE:
        return Q(due_on__gt=as_of)
    if key == AgingBucket.D90_PLUS:
        return Q(due_on__lt=as_of - dt.timedelta(days=90))
    if key not in BUCKET_DAYS:
        raise ValueError(f"unknown aging bucket {key!r}")
    low, high = BUCKET_DAYS[key]
    return Q(due_on__lte=as_of - dt.timedelta(days=low), due_on__gte=as_of - dt.timedelta(days=high))


def bucket_of(due_on: dt.date, as_of: dt.date) -> str:
    """The bucket of one due date (the Python twin of `bucket_q`)."""
    days = (as_of - due_on).days
    if days < 0:
        return AgingBucket.NOT_DUE
    for key, (low, high) in BUCKET_DAYS.items():
        if low <= days <= high:
            return key
    return AgingBucket.D90_PLUS


@dataclass
class AgingRow:
    currency: str
    buckets: dict[str, Decimal]
    account_id: int | None = None
    account_name: str = ""
    count: int = 0
    # The same amounts in the company currency (None: no rate for the currency on as_of).
    company: dict[str, Decimal] | None = None

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def overdue(self) -> Decimal:
        return self.total - self.buckets.get(AgingBucket.NOT_DUE, ZERO)

    @property
    def company_total(self) -> Decimal | None:
        return None if self.company is None else sum(self.company.values(), ZERO)

    def cells(self) -> list[tuple[str, Decimal]]:
        return [(key, self.buckets.get(key, ZERO)) for key in BUCKETS]


@dataclass
class Aging:
    as_of: dt.date
    company_currency: str
    rows: list[AgingRow]
    totals: dict[str, Decimal] = field(default_factory=dict)  # company currency, per bucket
    missing_rates: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum(self.totals.values(), ZERO)

    def total_cells(self) -> list[tuple[str, Any, Decimal]]:
        return [(key, label, self.totals.get(key, ZERO)) for key, label in AgingBucket.choices]


def outstanding_instalments(user: Any, *, account: Any = None) -> QuerySet[Instalment]:
    """The instalments the user may view with money outstanding."""
    qs = Instalment.objects.restrict(user, Action.VIEW).filter(amount__gt=F("received"))
    if account is not None:
        qs = qs.filter(account_id=getattr(account, "pk", account))
    return qs


def aging(
    user: Any, *, as_of: dt.date, account: Any = None, group_by: str = "account", currency: str | None = None
) -> Aging:
    """Outstanding receivables per aging bucket, per account and currency (`group_by="account"`)
    or per currency (`"none"`), with company-currency totals."""
    from kehu.catalog.selectors import company_currency, company_currency_code, rate_on

    if group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {GROUPINGS}")
    outstanding = ExpressionWrapper(F("amount") - F("received"), output_field=DecimalField())
    qs = outstanding_instalments(user, account=account)
    if currency:
        qs = qs.filter(currency=currency)
    # Grouped on the narrow keys only (no join: PostgreSQL hash-aggregates 100k rows instead of
    # sorting them by a wide name); the names of the accounts found come in a second query.
    keys = ["account_id", "currency"] if group_by == "account" else ["currency"]
    sums: dict[str, Any] = {f"b_{key}": Sum(outstanding, filter=bucket_q(as_of, key)) for key in BUCKETS}
    sums["n"] = Count("id")
    rows_q = qs.values(*keys).order_by(*keys).annotate(**sums)
    company_code = company_currency_code()
    company = company_currency()
    places = company.minor_unit if company is not None else 2
    step = Decimal(1).scaleb(-places)
    rates: dict[str, Decimal | None] = {}
    totals = dict.fromkeys(BUCKETS, ZERO)
    rows: list[AgingRow] = []
    raws = list(rows_q)
    names: dict[int, str] = {}
    if group_by == "account" and raws:
        from kehu.customers.models import Account

        ids = {r["account_id"] for r in raws}
        names = dict(Account.objects.filter(pk__in=ids).values_list("pk", "name"))
    for raw in raws:
        code = raw["currency"]
        buckets = {key: raw[f"b_{key}"] or ZERO for key in BUCKETS}
        if code not in rates:
            rates[code] = Decimal(1) if code == company_code else rate_on(code, as_of)
        rate = rates[code]
        converted = (
            None
            if rate is None
            else {k: (v * rate).quantize(step, rounding=ROUND_HALF_UP) for k, v in buckets.items()}
        )
        if converted is not None:
            for key, value in converted.items():
                totals[key] += value
        rows.append(
            AgingRow(
                currency=code,
                buckets=buckets,
                account_id=raw.get("account_id"),
                account_name=names.get(raw.get("account_id") or 0, ""),
                count=raw["n"],
                company=converted,
            )
        )
    if group_by == "account":
        rows.sort(
            key=lambda r: (-(r.company_total if r.company_total is not None else r.total), r.account_name)
        )
    return Aging(
        as_of=as_of,
        company_currency=company_code,
        rows=rows,
        totals=totals,
        missing_rates=sorted(c for c, r in rates.items() if r is None),
    )


def bucket_instalments(
    user: Any, *, as_of: dt.date, bucket: str | None = None, account: Any = None, currency: str | None = None
) -> QuerySet[Instalment]:
    """Drill-down: the outstanding instalments of one bucket (all when None) and/or account."""
    qs = outstanding_instalments(user, account=account)
    if bucket:
        qs = qs.filter(bucket_q(as_of, bucket))
    if currency:
        qs = qs.filter(currency=currency)
    return qs.select_related("account", "plan__contract", "plan__order", "owner").order_by("due_on", "pk")
