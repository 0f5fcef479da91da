"""Exports of quotes, contracts, orders, payments and receivables (CSV / XLSX through
`kehu.core.exports`).

The rows are the list page's: ``restrict(user, "export")``, then the page's FilterSet and sort
(quotes: the latest version of each unless ``all_versions``). The receivables export holds the
outstanding instalments the receivables page shows for its filters (``as_of``, ``account``,
``bucket``, ``currency``; plus the instalment FilterSet's), each with its aging bucket on ``as_of``.
Registered by `kehu.commerce.hooks.exports`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import Case, CharField, F, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.choices import Action
from kehu.core.exports import Column, Exporter
from kehu.customfields.exporting import custom_export_columns

from .choices import AgingBucket
from .filtersets_contracts import ContractFilterSet
from .filtersets_orders import OrderFilterSet
from .filtersets_payments import InstalmentFilterSet, PaymentFilterSet
from .filtersets_quotes import QuoteFilterSet
from .models import Contract, Instalment, Order, Payment, Quote
from .selectors.receivables import bucket_of, bucket_q

CENT = Decimal("0.01")


# --- receivables filters (shared with the receivables page) --------------------------------------


def receivables_filters(params: Any) -> tuple[dt.date, int | None, str | None, str | None]:
    """The receivables page's filters from a query string: the day (default today; a bad date is
    today), the account id, the aging bucket and the currency (bad values are ignored)."""
    try:
        as_of = dt.date.fromisoformat(params.get("as_of") or "")
    except (TypeError, ValueError):
        as_of = timezone.localdate()
    try:
        account = int(params.get("account")) if params.get("account") else None
    except (TypeError, ValueError):
        account = None
    bucket = params.get("bucket") or None
    if bucket not in (None, *AgingBucket.values):
        bucket = None
    currency = str(params.get("currency") or "").upper() or None
    return as_of, account, bucket, currency


# --- querysets ----------------------------------------------------------------------------------


def _filtered(filterset_class: Any, params: Any, base: QuerySet[Any]) -> QuerySet[Any]:
    filterset = filterset_class(params, queryset=base)
    return filterset.qs if filterset.is_valid() else base.none()


def _sorted(qs: QuerySet[Any], params: Any, table: Any) -> QuerySet[Any]:
    sort = params.get("sort") if hasattr(params, "get") else None
    return table(user=None, sort=sort).order(qs)


def quote_queryset(user: Any, params: Any) -> QuerySet[Quote]:
    from .tables_quotes import QuoteTable

    base = Quote.objects.restrict(user, Action.EXPORT).select_related(
        "account", "contact", "owner", "department"
    )
    return _sorted(_filtered(QuoteFilterSet, params, base), params, QuoteTable)


def contract_queryset(user: Any, params: Any) -> QuerySet[Contract]:
    from .tables_contracts import ContractTable

    base = Contract.objects.restrict(user, Action.EXPORT).select_related(
        "account", "quote", "owner", "department"
    )
    return _sorted(_filtered(ContractFilterSet, params, base), params, ContractTable)


def order_queryset(user: Any, params: Any) -> QuerySet[Order]:
    from .tables_orders import OrderTable

    base = Order.objects.restrict(user, Action.EXPORT).select_related(
        "account", "contract", "status", "owner", "department"
    )
    return _sorted(_filtered(OrderFilterSet, params, base), params, OrderTable)


def payment_queryset(user: Any, params: Any) -> QuerySet[Payment]:
    from .tables_payments import PaymentTable

    base = Payment.objects.restrict(user, Action.EXPORT).select_related(
        "account", "plan__contract", "plan__order", "instalment", "reverses", "owner", "department"
    )
    return _sorted(_filtered(PaymentFilterSet, params, base), params, PaymentTable)


def instalment_queryset(user: Any, params: Any) -> QuerySet[Instalment]:
    """The receivables page's instalments: outstanding, of the page's account, bucket and currency,
    oldest due first."""
    as_of, account, bucket, currency = receivables_filters(params)
    base = Instalment.objects.restrict(user, Action.EXPORT).filter(amount__gt=F("received"))
    qs = _filtered(InstalmentFilterSet, params, base)
    if account is not None:
        qs = qs.filter(account_id=account)
    if bucket is not None:
        qs = qs.filter(bucket_q(as_of, bucket))
    if currency is not None:
        qs = qs.filter(currency=currency)
    aged = Case(
        *[When(bucket_q(as_of, key), then=Value(key)) for key in AgingBucket.values],
        output_field=CharField(),
    )
    return (
        qs.annotate(age_bucket=aged)
        .select_related("account", "plan__contract", "plan__order", "owner")
        .order_by("due_on", "pk")
    )


# --- columns --------------------------------------------------------------------------------------


def _money(field: str) -> Callable[[Any], Any]:
    """A money field to two places (stored with four): 1000.0000 → 1000.00."""

    def value(obj: Any) -> Any:
        amount = getattr(obj, field)
        return None if amount is None else amount.quantize(CENT)

    return value


def _name(relation: str) -> Callable[[Any], Any]:
    def value(obj: Any) -> Any:
        related = getattr(obj, relation)
        return "" if related is None else str(related)

    return value


def _document_number(obj: Any) -> str:
    """The number of the contract or order whose plan holds the instalment (or payment)."""
    plan = obj.plan
    if plan is None:
        return ""
    document = plan.contract if plan.contract_id else plan.order
    return document.number if document is not None else ""


def _owned(user: Any) -> list[Column]:
    return [
        Column("owner", _("Owner")),
        Column("department", pgettext_lazy("customers", "Department")),
        Column("created_at", pgettext_lazy("customers", "Created")),
    ]


def quote_columns(user: Any) -> list[Column]:
    columns = [
        Column("number", pgettext_lazy("document", "Number")),
        Column("revision", _("Version")),
        Column("name", _("Subject")),
        Column("account", pgettext_lazy("customers", "Account"), value=_name("account")),
        Column("contact", _("Contact"), value=_name("contact")),
        Column("status", _("Status")),
        Column("quote_date", _("Quote date")),
        Column("valid_until", _("Valid until")),
        Column("currency", _("Currency")),
        Column("net_total", _("Net amount"), value=_money("net_total")),
        Column("tax_total", _("Tax"), value=_money("tax_total")),
        Column("total", _("Total"), value=_money("total")),
        Column("total_company", _("Total (company currency)"), value=_money("total_company")),
        *_owned(user),
    ]
    return columns + custom_export_columns(Quote, user)


def contract_columns(user: Any) -> list[Column]:
    columns = [
        Column("number", pgettext_lazy("document", "Number")),
        Column("name", _("Subject")),
        Column("account", pgettext_lazy("customers", "Account"), value=_name("account")),
        Column("status", _("Status")),
        Column("currency", _("Currency")),
        Column("value", _("Contract value"), value=_money("value")),
        Column("signed_on", _("Signed")),
        Column("start_on", _("Start")),
        Column("end_on", _("End")),
        Column("quote", _("Quote"), value=lambda obj: str(obj.quote) if obj.quote_id else ""),
        *_owned(user),
    ]
    return columns + custom_export_columns(Contract, user)


def order_columns(user: Any) -> list[Column]:
    columns = [
        Column("number", pgettext_lazy("document", "Number")),
        Column("account", pgettext_lazy("customers", "Account"), value=_name("account")),
        Column("contract", _("Contract"), value=lambda obj: obj.contract.number if obj.contract_id else ""),
        Column("status", _("Status"), value=_name("status")),
        Column("ordered_on", _("Order date")),
        Column("currency", _("Currency")),
        Column("net_total", _("Net amount"), value=_money("net_total")),
        Column("tax_total", _("Tax"), value=_money("tax_total")),
        Column("total", _("Total"), value=_money("total")),
        *_owned(user),
    ]
    return columns + custom_export_columns(Order, user)


def payment_columns(user: Any) -> list[Column]:
    return [
        Column("number", pgettext_lazy("document", "Number")),
        Column("account", pgettext_lazy("customers", "Account"), value=_name("account")),
        Column("plan", _("Contract or order"), value=_document_number),
        Column(
            "instalment",
            _("Instalment"),
            value=lambda obj: obj.instalment.sequence if obj.instalment_id else "",
        ),
        Column("received_on", _("Date received")),
        Column("currency", _("Currency")),
        Column("amount", _("Amount"), value=_money("amount")),
        Column("applied", _("Applied"), value=_money("applied")),
        Column("credited", _("Credited"), value=_money("credited")),
        Column("method", pgettext_lazy("payment", "Method")),
        Column("reference", _("Reference")),
        Column("note", _("Note")),
        Column("reverses", _("Reverses"), value=lambda obj: obj.reverses.number if obj.reverses_id else ""),
        Column("reversal_reason", _("Reversal reason")),
        *_owned(user),
    ]


def _age_bucket(obj: Instalment) -> str:
    """The instalment's aging bucket on the export's day (annotated by `instalment_queryset`)."""
    key = getattr(obj, "age_bucket", None) or bucket_of(obj.due_on, timezone.localdate())
    return str(AgingBucket(key).label)


def instalment_columns(user: Any) -> list[Column]:
    return [
        Column("account", pgettext_lazy("customers", "Account"), value=_name("account")),
        Column("plan", _("Contract or order"), value=_document_number),
        Column("sequence", _("Instalment")),
        Column("due_on", _("Due date")),
        Column("amount", _("Amount"), value=_money("amount")),
        Column("received", _("Received"), value=_money("received")),
        Column("outstanding", _("Outstanding"), value=lambda obj: obj.outstanding.quantize(CENT)),
        Column("currency", _("Currency")),
        Column("bucket", _("Age"), value=_age_bucket),
        Column("owner", _("Owner")),
    ]


EXPORTERS: tuple[Exporter, ...] = (
    Exporter(
        name="commerce.quote", model=Quote, title=_("Quotes"), columns=quote_columns, queryset=quote_queryset
    ),
    Exporter(
        name="commerce.contract",
        model=Contract,
        title=_("Contracts"),
        columns=contract_columns,
        queryset=contract_queryset,
    ),
    Exporter(
        name="commerce.order", model=Order, title=_("Orders"), columns=order_columns, queryset=order_queryset
    ),
    Exporter(
        name="commerce.payment",
        model=Payment,
        title=_("Payments"),
        columns=payment_columns,
        queryset=payment_queryset,
    ),
    Exporter(
        name="commerce.instalment",
        model=Instalment,
        title=_("Receivables"),
        columns=instalment_columns,
        queryset=instalment_queryset,
    ),
)
