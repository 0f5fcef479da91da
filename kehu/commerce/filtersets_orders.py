"""The orders' FilterSet, used by the list page and the API alike."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.customers.filtersets import TOM_SELECT, OwnedFilterSet

from .choices import OrderStatusKind
from .models import Order, OrderStatus

DATE = {"type": "date"}


def _statuses(request: Any) -> QuerySet[OrderStatus]:
    return OrderStatus.objects.order_by("position", "id")


class OrderFilterSet(OwnedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    status = django_filters.ModelMultipleChoiceFilter(
        queryset=_statuses, label=_("Status"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    status_kind = django_filters.MultipleChoiceFilter(
        field_name="status__kind",
        choices=OrderStatusKind.choices,
        label=_("Open, completed or cancelled"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    account = django_filters.NumberFilter(field_name="account_id", label=_("Account (id)"))
    contract = django_filters.NumberFilter(field_name="contract_id", label=_("Contract (id)"))
    quote = django_filters.NumberFilter(field_name="quote_id", label=_("Quote (id)"))
    currency = django_filters.CharFilter(field_name="currency", lookup_expr="iexact", label=_("Currency"))
    ordered_after = django_filters.DateFilter(
        field_name="ordered_on",
        lookup_expr="gte",
        label=_("Ordered from"),
        widget=forms.DateInput(attrs=DATE),
    )
    ordered_before = django_filters.DateFilter(
        field_name="ordered_on",
        lookup_expr="lte",
        label=_("Ordered until"),
        widget=forms.DateInput(attrs=DATE),
    )
    total_min = django_filters.NumberFilter(field_name="total", lookup_expr="gte", label=_("Total from"))
    total_max = django_filters.NumberFilter(field_name="total", lookup_expr="lte", label=_("Total up to"))

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Order], name: str, value: Any) -> QuerySet[Order]:
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(account__name__icontains=value))
