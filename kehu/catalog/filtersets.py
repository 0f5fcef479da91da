"""One FilterSet per catalog model, used by the HTML lists and the API alike."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.customers.filtersets import TOM_SELECT, YES_NO

from .models import Currency, ExchangeRate, PriceList, Product, ProductCategory, ProductKind


def _categories(request: Any) -> QuerySet[ProductCategory]:
    return ProductCategory.objects.order_by("name")


def _currencies(request: Any) -> QuerySet[Currency]:
    return Currency.objects.order_by("-is_company", "code")


class ProductFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    kind = django_filters.MultipleChoiceFilter(
        choices=ProductKind.choices, label=_("Kind"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    category = django_filters.ModelMultipleChoiceFilter(
        queryset=_categories,
        label=_("Category"),
        method="filter_category",
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    is_active = django_filters.BooleanFilter(label=_("Active"), widget=YES_NO)

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value) | Q(name__icontains=value) | Q(name_en__icontains=value)
        )

    def filter_category(self, queryset: QuerySet[Product], name: str, value: Any) -> QuerySet[Product]:
        """A category and all its subcategories."""
        if not value:
            return queryset
        wanted = {c.pk for c in value}
        children: dict[int | None, list[int]] = {}
        for pk, parent in ProductCategory.objects.values_list("pk", "parent_id"):
            children.setdefault(parent, []).append(pk)
        todo = list(wanted)
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in wanted:
                    wanted.add(child)
                    todo.append(child)
        return queryset.filter(category_id__in=wanted)


class PriceListFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"))
    currency = django_filters.ModelMultipleChoiceFilter(
        queryset=_currencies, label=_("Currency"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    customer_level = django_filters.CharFilter(label=_("Customer level"))
    is_active = django_filters.BooleanFilter(label=_("Active"), widget=YES_NO)
    valid_on = django_filters.DateFilter(
        method="filter_valid_on", label=_("Valid on"), widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = PriceList
        fields: list[str] = []

    def filter_valid_on(self, queryset: QuerySet[PriceList], name: str, value: Any) -> QuerySet[PriceList]:
        if not value:
            return queryset
        return queryset.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=value)).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=value)
        )


class ExchangeRateFilterSet(django_filters.FilterSet):
    currency = django_filters.ModelMultipleChoiceFilter(
        queryset=_currencies, label=_("Currency"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    valid_after = django_filters.DateFilter(
        field_name="valid_on",
        lookup_expr="gte",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    valid_before = django_filters.DateFilter(
        field_name="valid_on",
        lookup_expr="lte",
        label=_("Until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = ExchangeRate
        fields: list[str] = []
