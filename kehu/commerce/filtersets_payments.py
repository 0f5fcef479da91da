"""FilterSets of payments, invoices and instalments (list pages and the API alike)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.customers.filtersets import TOM_SELECT, OwnedFilterSet

from .choices import InvoiceKind, InvoiceStatus, PaymentMethod
from .models import Instalment, Invoice, Payment

DATE = {"type": "date"}


def _date(field: str, lookup: str, label: Any) -> django_filters.DateFilter:
    return django_filters.DateFilter(
        field_name=field, lookup_expr=lookup, label=label, widget=forms.DateInput(attrs=DATE)
    )


class PaymentFilterSet(OwnedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    method = django_filters.MultipleChoiceFilter(
        choices=PaymentMethod.choices,
        label=pgettext_lazy("payment", "Method"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    account = django_filters.NumberFilter(field_name="account_id", label=_("Account (id)"))
    instalment = django_filters.NumberFilter(field_name="instalment_id", label=_("Instalment (id)"))
    contract = django_filters.NumberFilter(field_name="plan__contract_id", label=_("Contract (id)"))
    order = django_filters.NumberFilter(field_name="plan__order_id", label=_("Order (id)"))
    currency = django_filters.CharFilter(field_name="currency", lookup_expr="iexact", label=_("Currency"))
    received_after = _date("received_on", "gte", _("Received from"))
    received_before = _date("received_on", "lte", _("Received until"))
    is_reversal = django_filters.BooleanFilter(
        field_name="reverses", lookup_expr="isnull", exclude=True, label=_("Reversal")
    )

    class Meta:
        model = Payment
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Payment], name: str, value: Any) -> QuerySet[Payment]:
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value) | Q(reference__icontains=value) | Q(account__name__icontains=value)
        )


class InvoiceFilterSet(OwnedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(
        choices=InvoiceStatus.choices, label=_("Status"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    kind = django_filters.MultipleChoiceFilter(
        choices=InvoiceKind.choices, label=_("Type"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    account = django_filters.NumberFilter(field_name="account_id", label=_("Account (id)"))
    contract = django_filters.NumberFilter(field_name="contract_id", label=_("Contract (id)"))
    order = django_filters.NumberFilter(field_name="order_id", label=_("Order (id)"))
    issued_after = _date("issued_on", "gte", _("Issued from"))
    issued_before = _date("issued_on", "lte", _("Issued until"))

    class Meta:
        model = Invoice
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Invoice], name: str, value: Any) -> QuerySet[Invoice]:
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value) | Q(buyer_name__icontains=value) | Q(account__name__icontains=value)
        )


class InstalmentFilterSet(OwnedFilterSet):
    account = django_filters.NumberFilter(field_name="account_id", label=_("Account (id)"))
    plan = django_filters.NumberFilter(field_name="plan_id", label=_("Payment plan (id)"))
    due_after = _date("due_on", "gte", _("Due from"))
    due_before = _date("due_on", "lte", _("Due until"))
    outstanding = django_filters.BooleanFilter(method="filter_outstanding", label=_("Money outstanding"))

    class Meta:
        model = Instalment
        fields: list[str] = []

    def filter_outstanding(
        self, queryset: QuerySet[Instalment], name: str, value: Any
    ) -> QuerySet[Instalment]:
        if value is None:
            return queryset
        return (
            queryset.filter(amount__gt=F("received")) if value else queryset.filter(amount__lte=F("received"))
        )
