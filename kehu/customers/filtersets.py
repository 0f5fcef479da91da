"""One FilterSet per model, used by the HTML list, the API and the export alike."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.search import clean_query
from kehu.customfields.filters import add_custom_filters
from kehu.customfields.selectors import picklist_choices
from kehu.tags.filters import StaticGroupFilter, TagFilter, TagMatchFilter
from kehu.users.models import Department

from .choices import PICKLIST_FIELDS, AccountKind
from .models import Account, Contact
from .selectors import phone_fragment


def _users(request: Any = None) -> QuerySet[Any]:
    return get_user_model().objects.filter(is_active=True).order_by("username")


def _departments(request: Any = None) -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("path")


def _picklist(code: str) -> Any:
    return lambda: picklist_choices(code)


TOM_SELECT = {"data-tom-select": ""}
YES_NO = forms.Select(choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))])


class OwnedFilterSet(django_filters.FilterSet):
    owner = django_filters.ModelMultipleChoiceFilter(
        queryset=_users, label=_("Owner"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    department = django_filters.ModelMultipleChoiceFilter(
        queryset=_departments,
        label=pgettext_lazy("customers", "Department"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    created_after = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label=_("Created from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_before = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label=_("Created until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The model's filterable custom fields (custom__<name>, custom__<name>__gte ...).
        add_custom_filters(self, self._meta.model)


class AccountFilterSet(OwnedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=AccountKind.choices, label=_("Type"))
    level = django_filters.MultipleChoiceFilter(
        choices=_picklist(PICKLIST_FIELDS["level"]),
        label=_("Level"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    industry = django_filters.MultipleChoiceFilter(
        choices=_picklist(PICKLIST_FIELDS["industry"]),
        label=_("Industry"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    source = django_filters.MultipleChoiceFilter(
        choices=_picklist(PICKLIST_FIELDS["source"]),
        label=_("Source"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    is_active = django_filters.BooleanFilter(label=pgettext_lazy("customers", "Active"), widget=YES_NO)
    tags = TagFilter()
    tags_mode = TagMatchFilter()
    group = StaticGroupFilter()

    class Meta:
        model = Account
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        q = clean_query(value)
        if not q:
            return queryset
        cond = Q(name__icontains=q) | Q(short_name__icontains=q) | Q(email__icontains=q)
        digits = phone_fragment(q)
        if digits:
            cond |= Q(phone__contains=digits)
        return queryset.filter(cond)


class ContactFilterSet(OwnedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    account = django_filters.NumberFilter(
        field_name="account_id", label=pgettext_lazy("customers", "Account"), widget=forms.HiddenInput
    )
    is_primary = django_filters.BooleanFilter(label=_("Primary contact"), widget=YES_NO)
    tags = TagFilter()
    tags_mode = TagMatchFilter()
    group = StaticGroupFilter()

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Contact], name: str, value: str) -> QuerySet[Contact]:
        q = clean_query(value)
        if not q:
            return queryset
        cond = Q(name__icontains=q) | Q(email__icontains=q) | Q(title__icontains=q) | Q(wechat__iexact=q)
        cond |= Q(account__name__icontains=q)
        digits = phone_fragment(q)
        if digits:
            cond |= Q(phone__contains=digits) | Q(mobile__contains=digits)
        return queryset.filter(cond)
