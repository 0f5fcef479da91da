"""The quote FilterSet: the HTML list and the API use it alike. Only the latest version of each
quote is listed unless ``all_versions`` is set."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.search import clean_query
from kehu.customers.filtersets import TOM_SELECT, YES_NO, OwnedFilterSet

from .choices import ApprovalRuleKind, QuoteStatus
from .models import ApprovalRule, Quote

DATE = forms.DateInput(attrs={"type": "date"})


class QuoteFilterSet(OwnedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(
        choices=QuoteStatus.choices, label=_("Status"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    account = django_filters.NumberFilter(
        field_name="account_id", label=pgettext_lazy("customers", "Account"), widget=forms.HiddenInput
    )
    opportunity = django_filters.NumberFilter(
        field_name="opportunity_id", label=_("Opportunity"), widget=forms.HiddenInput
    )
    date_after = django_filters.DateFilter(
        field_name="quote_date", lookup_expr="gte", label=_("Quote date from"), widget=DATE
    )
    date_before = django_filters.DateFilter(
        field_name="quote_date", lookup_expr="lte", label=_("Quote date until"), widget=DATE
    )
    valid_before = django_filters.DateFilter(
        field_name="valid_until", lookup_expr="lte", label=_("Valid until (at most)"), widget=DATE
    )
    all_versions = django_filters.BooleanFilter(
        method="filter_all_versions", label=_("Include earlier versions"), widget=YES_NO
    )

    class Meta:
        model = Quote
        fields = ["q", "status", "owner", "department", "account"]

    def filter_q(self, queryset: QuerySet[Quote], name: str, value: str) -> QuerySet[Quote]:
        q = clean_query(value)
        if not q:
            return queryset
        return queryset.filter(Q(number__icontains=q) | Q(name__icontains=q) | Q(account__name__icontains=q))

    def filter_all_versions(self, queryset: QuerySet[Quote], name: str, value: Any) -> QuerySet[Quote]:
        return queryset  # applied in filter_queryset (the default needs the filter absent too)

    def filter_queryset(self, queryset: QuerySet[Quote]) -> QuerySet[Quote]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("all_versions"):
            queryset = queryset.filter(is_latest=True)
        return queryset


class ApprovalRuleFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ApprovalRuleKind.choices, label=_("Condition"))
    is_active = django_filters.BooleanFilter(label=_("Active"), widget=YES_NO)

    class Meta:
        model = ApprovalRule
        fields = ["kind", "is_active"]
