"""One FilterSet per model, used by the HTML list, the API and the export alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.search import clean_query
from kehu.customfields.filters import add_custom_filters
from kehu.customfields.selectors import picklist_choices
from kehu.tags.filters import StaticGroupFilter, TagFilter, TagMatchFilter
from kehu.users.models import Department

from .choices import (
    CONTACT_ROLE_PICKLIST,
    PICKLIST_FIELDS,
    AccountKind,
    AddressKind,
    Channel,
    Gender,
    LifecycleStage,
)
from .models import Account, AccountAddress, AccountContactRelation, Contact
from .regions import country_choices, provinces
from .search import account_quick_search, contact_quick_search
from .selectors import phone_fragment


def _users(request: Any = None) -> QuerySet[Any]:
    return get_user_model().objects.filter(is_active=True).order_by("username")


def _departments(request: Any = None) -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("path")


def _picklist(code: str) -> Any:
    return lambda: picklist_choices(code)


TOM_SELECT = {"data-tom-select": ""}
YES_NO = forms.Select(choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))])
DATE = {"type": "date"}
MONTHS = [(i, dt.date(2000, i, 1).strftime("%m")) for i in range(1, 13)]


def _date_range(field: str, label_from: Any, label_until: Any) -> tuple[Any, Any]:
    return (
        django_filters.DateFilter(
            field_name=field, lookup_expr="date__gte", label=label_from, widget=forms.DateInput(attrs=DATE)
        ),
        django_filters.DateFilter(
            field_name=field, lookup_expr="date__lte", label=label_until, widget=forms.DateInput(attrs=DATE)
        ),
    )


def _provinces() -> list[tuple[str, str]]:
    return provinces()


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

    updated_after, updated_before = _date_range("updated_at", _("Updated from"), _("Updated until"))
    has_owner = django_filters.BooleanFilter(
        field_name="owner", lookup_expr="isnull", exclude=True, label=_("Has an owner"), widget=YES_NO
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The model's filterable custom fields (custom__<name>, custom__<name>__gte ...).
        add_custom_filters(self, self._meta.model)


class ActivityFilterSet(OwnedFilterSet):
    """Last contact (an interaction logged) and data completeness, shared by accounts and contacts."""

    no_activity_days = django_filters.NumberFilter(
        method="filter_no_activity_days",
        label=_("No contact for (days)"),
        min_value=0,
        max_value=36500,
        help_text=_("Never contacted, or last contacted more than this many days ago."),
    )
    last_activity_after, last_activity_before = _date_range(
        "last_activity_at", _("Last contact from"), _("Last contact until")
    )
    completeness_min = django_filters.NumberFilter(
        field_name="completeness",
        lookup_expr="gte",
        label=_("Completeness at least (%)"),
        min_value=0,
        max_value=100,
    )
    completeness_max = django_filters.NumberFilter(
        field_name="completeness",
        lookup_expr="lte",
        label=_("Completeness at most (%)"),
        min_value=0,
        max_value=100,
    )

    def filter_no_activity_days(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        if value is None:
            return queryset
        since = timezone.now() - dt.timedelta(days=int(value))
        return queryset.filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=since))


class AccountFilterSet(ActivityFilterSet):
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
    lifecycle_stage = django_filters.MultipleChoiceFilter(
        choices=LifecycleStage.choices,
        label=_("Lifecycle stage"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    country = django_filters.MultipleChoiceFilter(
        choices=country_choices, label=_("Country/region"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    province = django_filters.MultipleChoiceFilter(
        choices=_provinces, label=_("Province"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    city = django_filters.CharFilter(label=_("City code"), max_length=6, widget=forms.HiddenInput)
    district = django_filters.CharFilter(label=_("District code"), max_length=6, widget=forms.HiddenInput)
    parent = django_filters.NumberFilter(
        field_name="parent_id", label=_("Parent account"), widget=forms.HiddenInput, min_value=1
    )
    has_parent = django_filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", exclude=True, label=_("Part of a group"), widget=YES_NO
    )
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("Name contains"), max_length=200)
    short_name = django_filters.CharFilter(
        lookup_expr="icontains", label=_("Short name contains"), max_length=100
    )
    phone = django_filters.CharFilter(method="filter_phone", label=_("Phone"), max_length=40)
    email = django_filters.CharFilter(lookup_expr="icontains", label=_("E-mail contains"), max_length=254)
    website = django_filters.CharFilter(lookup_expr="icontains", label=_("Website contains"), max_length=200)
    wechat = django_filters.CharFilter(lookup_expr="iexact", label=_("WeChat ID"), max_length=64)
    tax_number = django_filters.CharFilter(
        method="filter_tax_number", label=_("Unified social credit code"), max_length=40
    )
    address = django_filters.CharFilter(lookup_expr="icontains", label=_("Address contains"), max_length=200)
    external_id = django_filters.CharFilter(lookup_expr="exact", label=_("External ID"), max_length=100)

    class Meta:
        model = Account
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        q = clean_query(value)
        if not q:
            return queryset
        return account_quick_search(queryset, q)

    def filter_phone(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        digits = phone_fragment(value.strip())
        if not digits:
            return queryset.none()
        return queryset.filter(Q(phone__contains=digits) | Q(phones__number__contains=digits)).distinct()

    def filter_tax_number(self, queryset: QuerySet[Account], name: str, value: str) -> QuerySet[Account]:
        return queryset.filter(tax_number="".join(value.split()).upper())


class ContactFilterSet(ActivityFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    account = django_filters.NumberFilter(
        method="filter_account",
        label=pgettext_lazy("customers", "Account"),
        widget=forms.HiddenInput,
        help_text=_("Contacts of this account (its direct contacts and those related to it)."),
    )
    direct_account = django_filters.NumberFilter(
        field_name="account_id", label=_("Direct account"), widget=forms.HiddenInput
    )
    role = django_filters.MultipleChoiceFilter(
        method="filter_role",
        choices=_picklist(CONTACT_ROLE_PICKLIST),
        label=_("Role"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    is_primary = django_filters.BooleanFilter(label=_("Primary contact"), widget=YES_NO)
    tags = TagFilter()
    tags_mode = TagMatchFilter()
    group = StaticGroupFilter()
    gender = django_filters.ChoiceFilter(choices=Gender.choices, label=_("Gender"))
    birthday_month = django_filters.ChoiceFilter(
        field_name="birthday", lookup_expr="month", choices=MONTHS, label=_("Birthday month")
    )
    preferred_channel = django_filters.MultipleChoiceFilter(
        choices=Channel.choices, label=_("Preferred channel"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    do_not_call = django_filters.BooleanFilter(label=_("Do not call"), widget=YES_NO)
    do_not_email = django_filters.BooleanFilter(label=_("Do not e-mail"), widget=YES_NO)
    do_not_sms = django_filters.BooleanFilter(label=_("Do not text (SMS)"), widget=YES_NO)
    do_not_wechat = django_filters.BooleanFilter(label=_("Do not contact on WeChat"), widget=YES_NO)
    do_not_visit = django_filters.BooleanFilter(label=_("Do not visit"), widget=YES_NO)
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("Name contains"), max_length=100)
    title = django_filters.CharFilter(lookup_expr="icontains", label=_("Job title contains"), max_length=100)
    email = django_filters.CharFilter(lookup_expr="icontains", label=_("E-mail contains"), max_length=254)
    wechat = django_filters.CharFilter(lookup_expr="iexact", label=_("WeChat ID"), max_length=64)
    external_id = django_filters.CharFilter(lookup_expr="exact", label=_("External ID"), max_length=100)

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Contact], name: str, value: str) -> QuerySet[Contact]:
        q = clean_query(value)
        if not q:
            return queryset
        return contact_quick_search(queryset, q)

    def filter_account(self, queryset: QuerySet[Contact], name: str, value: Any) -> QuerySet[Contact]:
        if value is None:
            return queryset
        related = AccountContactRelation.objects.filter(account_id=int(value)).values("contact_id")
        return queryset.filter(Q(account_id=int(value)) | Q(pk__in=related))

    def filter_role(self, queryset: QuerySet[Contact], name: str, value: list[str]) -> QuerySet[Contact]:
        if not value:
            return queryset
        related = AccountContactRelation.objects.filter(role__in=value)
        account = self.form.cleaned_data.get("account")
        if account is not None:
            related = related.filter(account_id=int(account))
        return queryset.filter(pk__in=related.values("contact_id"))


class AddressFilterSet(django_filters.FilterSet):
    account = django_filters.NumberFilter(
        field_name="account_id", label=pgettext_lazy("customers", "Account")
    )
    kind = django_filters.ChoiceFilter(choices=AddressKind.choices, label=_("Type"))
    country = django_filters.CharFilter(label=_("Country/region"), max_length=2)
    province = django_filters.CharFilter(label=_("Province"), max_length=6)
    city = django_filters.CharFilter(label=_("City"), max_length=6)
    is_primary = django_filters.BooleanFilter(label=_("Primary"))

    class Meta:
        model = AccountAddress
        fields: list[str] = []


class RelationFilterSet(django_filters.FilterSet):
    account = django_filters.NumberFilter(
        field_name="account_id", label=pgettext_lazy("customers", "Account")
    )
    contact = django_filters.NumberFilter(field_name="contact_id", label=_("Contact"))
    role = django_filters.CharFilter(label=_("Role"), max_length=64)
    is_direct = django_filters.BooleanFilter(label=_("Direct account"))

    class Meta:
        model = AccountContactRelation
        fields: list[str] = []
