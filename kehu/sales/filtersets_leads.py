"""The lead FilterSet: one definition for the lead list, its saved views, the export, bulk actions
and the API (`/api/v1/sales/leads/`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.search import clean_query
from kehu.customers.filtersets import TOM_SELECT, YES_NO, OwnedFilterSet
from kehu.customers.regions import provinces
from kehu.customfields.selectors import picklist_choices
from kehu.tags.filters import TagFilter, TagMatchFilter

from .choices import LEAD_PICKLIST_FIELDS, LeadStatus, PoolKind
from .models import Lead, Pool
from .selectors.leads import lead_quick_search


def _picklist(code: str) -> Any:
    return lambda: picklist_choices(code)


def _pools(request: Any = None) -> QuerySet[Pool]:
    return Pool.objects.filter(kind=PoolKind.LEAD).order_by("order", "id")


def _provinces() -> list[tuple[str, str]]:
    return provinces()


class LeadFilterSet(OwnedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(
        choices=LeadStatus.choices, label=_("Status"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    source = django_filters.MultipleChoiceFilter(
        choices=_picklist(LEAD_PICKLIST_FIELDS["source"]),
        label=_("Source"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    product_interest = django_filters.MultipleChoiceFilter(
        choices=_picklist(LEAD_PICKLIST_FIELDS["product_interest"]),
        label=_("Product interest"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    unqualified_reason = django_filters.MultipleChoiceFilter(
        choices=_picklist(LEAD_PICKLIST_FIELDS["unqualified_reason"]),
        label=_("Unqualified reason"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    pool = django_filters.ModelMultipleChoiceFilter(
        field_name="pool_item__pool",
        queryset=_pools,
        label=_("Pool"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
        help_text=_("Leads whose home pool is one of these."),
    )
    in_pool = django_filters.BooleanFilter(method="filter_in_pool", label=_("In a pool now"), widget=YES_NO)
    province = django_filters.MultipleChoiceFilter(
        choices=_provinces, label=_("Province"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    city = django_filters.CharFilter(label=_("City code"), max_length=6, widget=forms.HiddenInput)
    tags = TagFilter()
    tags_mode = TagMatchFilter()
    no_activity_days = django_filters.NumberFilter(
        method="filter_no_activity_days",
        label=_("No follow-up for (days)"),
        min_value=0,
        max_value=36500,
        help_text=_("Never followed up, or last followed up more than this many days ago."),
    )
    converted_after = django_filters.DateFilter(
        field_name="converted_at",
        lookup_expr="date__gte",
        label=_("Converted from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    converted_before = django_filters.DateFilter(
        field_name="converted_at",
        lookup_expr="date__lte",
        label=_("Converted until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    name = django_filters.CharFilter(
        lookup_expr="icontains", label=pgettext_lazy("lead person", "Name contains"), max_length=100
    )
    company = django_filters.CharFilter(lookup_expr="icontains", label=_("Company contains"), max_length=200)
    email = django_filters.CharFilter(lookup_expr="icontains", label=_("E-mail contains"), max_length=254)
    campaign = django_filters.CharFilter(
        lookup_expr="icontains", label=_("Campaign contains"), max_length=200
    )
    external_id = django_filters.CharFilter(lookup_expr="exact", label=_("External ID"), max_length=100)

    class Meta:
        model = Lead
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        q = clean_query(value)
        if not q:
            return queryset
        return lead_quick_search(queryset, q)

    def filter_in_pool(self, queryset: QuerySet[Lead], name: str, value: Any) -> QuerySet[Lead]:
        if value is None:
            return queryset
        if value:
            return queryset.filter(pool_item__in_pool=True)
        return queryset.exclude(pool_item__in_pool=True)

    def filter_no_activity_days(self, queryset: QuerySet[Lead], name: str, value: Any) -> QuerySet[Lead]:
        if value is None:
            return queryset
        since = timezone.now() - dt.timedelta(days=int(value))
        return queryset.filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=since))
