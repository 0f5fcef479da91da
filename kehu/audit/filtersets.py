"""The operation log's filters: one definition for the page, its export and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import registry
from .choices import ChangeAction, ChangeSource
from .models import ObjectChange

MAX_BIGINT = 2**63 - 1


def model_choices() -> list[tuple[str, str]]:
    """Audited models, by their translated name."""
    choices = [(e.label, f"{e.verbose_name} ({e.label})") for e in registry.registered_models()]
    return sorted(choices, key=lambda c: c[1].lower())


def _users(request: Any) -> QuerySet[Any]:
    # Any user may appear in the log (its rows carry the name anyway); inactive ones too.
    return get_user_model()._default_manager.order_by("username")


class BigIntegerFilter(django_filters.Filter):
    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_BIGINT)
        super().__init__(*args, **kwargs)


_EARLIEST = dt.date(1900, 1, 1)
_LATEST = dt.date(9000, 1, 1)


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class ObjectChangeFilterSet(django_filters.FilterSet):
    user = django_filters.ModelChoiceFilter(queryset=_users, label=_("User"), empty_label=_("Anyone"))
    model = django_filters.ChoiceFilter(choices=model_choices, label=_("Model"), empty_label=_("Any"))
    action = django_filters.ChoiceFilter(
        choices=ChangeAction.choices, label=pgettext_lazy("audit", "Action"), empty_label=_("Any")
    )
    source = django_filters.ChoiceFilter(
        choices=ChangeSource.choices, label=_("Source"), empty_label=_("Any")
    )
    date_from = django_filters.DateFilter(
        method="filter_date_from",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("First day (in your time zone), e.g. 2026-01-31."),
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to",
        label=_("To"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Last day (in your time zone), included."),
    )
    object_id = BigIntegerFilter(label=_("Object ID"))
    request_id = django_filters.CharFilter(label=_("Request ID"), max_length=64)

    class Meta:
        model = ObjectChange
        fields: list[str] = []

    # Whole days in the viewer's time zone, as a range on the indexed `time` column (a `__date`
    # lookup would compute a function on every row).
    # Dates far outside any log (year 1, year 9999) would overflow when shifted to UTC.
    def filter_date_from(
        self, queryset: QuerySet[ObjectChange], name: str, value: dt.date
    ) -> QuerySet[ObjectChange]:
        if value <= _EARLIEST:
            return queryset
        if value >= _LATEST:
            return queryset.none()
        return queryset.filter(time__gte=_start_of(value))

    def filter_date_to(
        self, queryset: QuerySet[ObjectChange], name: str, value: dt.date
    ) -> QuerySet[ObjectChange]:
        if value >= _LATEST:
            return queryset
        if value < _EARLIEST:
            return queryset.none()
        return queryset.filter(time__lt=_start_of(value + dt.timedelta(days=1)))
