"""The contracts' FilterSet, used by the list page and the API alike."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.customers.filtersets import TOM_SELECT, OwnedFilterSet

from .choices import ContractStatus
from .models import Contract

DATE = {"type": "date"}


class ContractFilterSet(OwnedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(
        choices=ContractStatus.choices, label=_("Status"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    account = django_filters.NumberFilter(field_name="account_id", label=_("Account (id)"))
    quote = django_filters.NumberFilter(field_name="quote_id", label=_("Quote (id)"))
    currency = django_filters.CharFilter(field_name="currency", lookup_expr="iexact", label=_("Currency"))
    signed_after = django_filters.DateFilter(
        field_name="signed_on", lookup_expr="gte", label=_("Signed from"), widget=forms.DateInput(attrs=DATE)
    )
    signed_before = django_filters.DateFilter(
        field_name="signed_on", lookup_expr="lte", label=_("Signed until"), widget=forms.DateInput(attrs=DATE)
    )
    ends_after = django_filters.DateFilter(
        field_name="end_on", lookup_expr="gte", label=_("Ends from"), widget=forms.DateInput(attrs=DATE)
    )
    ends_before = django_filters.DateFilter(
        field_name="end_on", lookup_expr="lte", label=_("Ends until"), widget=forms.DateInput(attrs=DATE)
    )
    value_min = django_filters.NumberFilter(field_name="value", lookup_expr="gte", label=_("Value from"))
    value_max = django_filters.NumberFilter(field_name="value", lookup_expr="lte", label=_("Value up to"))

    class Meta:
        model = Contract
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Contract], name: str, value: Any) -> QuerySet[Contract]:
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value) | Q(name__icontains=value) | Q(account__name__icontains=value)
        )
