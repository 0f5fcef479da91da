"""One FilterSet per model, used by the HTML list, the API and the export alike."""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.search import clean_query
from kehu.customers.filtersets import TOM_SELECT, YES_NO, OwnedFilterSet

from .choices import OPEN_TASK_STATUSES, InteractionKind, InteractionOutcome, TaskPriority, TaskStatus
from .models import Interaction, Task

DATE = forms.DateInput(attrs={"type": "date"})


class DateRangeForm(forms.Form):
    """Refuses a range whose end is before its start (field error on the end)."""

    ranges: ClassVar[tuple[tuple[str, str], ...]] = (
        ("created_after", "created_before"),
        ("occurred_after", "occurred_before"),
        ("due_after", "due_before"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for start, end in self.ranges:
            if data.get(start) and data.get(end) and data[end] < data[start]:
                self.add_error(
                    end, pgettext_lazy("date range", "The end of the range cannot be before its start.")
                )
        return data


def _link_filters() -> tuple[django_filters.NumberFilter, ...]:
    """The record an activity is linked to, by id (hidden: set by the record's tab). Called in the
    class body, so the filters keep their place among the declared ones."""
    return (
        django_filters.NumberFilter(
            field_name="account_id", label=pgettext_lazy("customers", "Account"), widget=forms.HiddenInput
        ),
        django_filters.NumberFilter(field_name="contact_id", label=_("Contact"), widget=forms.HiddenInput),
        django_filters.NumberFilter(field_name="lead_id", label=_("Lead"), widget=forms.HiddenInput),
        django_filters.NumberFilter(
            field_name="opportunity_id", label=_("Opportunity"), widget=forms.HiddenInput
        ),
    )


def _date_range(
    field: str, start: Any, end: Any
) -> tuple[django_filters.DateFilter, django_filters.DateFilter]:
    """From and until a day (inclusive) on a date-time field."""
    return (
        django_filters.DateFilter(field_name=field, lookup_expr="date__gte", label=start, widget=DATE),
        django_filters.DateFilter(field_name=field, lookup_expr="date__lte", label=end, widget=DATE),
    )


class InteractionFilterSet(OwnedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    kind = django_filters.MultipleChoiceFilter(
        choices=InteractionKind.choices, label=_("Type"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    outcome = django_filters.MultipleChoiceFilter(
        choices=InteractionOutcome.choices, label=_("Outcome"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    account, contact, lead, opportunity = _link_filters()
    occurred_after, occurred_before = _date_range("occurred_at", _("From"), _("Until"))

    class Meta:
        model = Interaction
        fields: list[str] = []
        form = DateRangeForm

    def filter_q(self, queryset: QuerySet[Interaction], name: str, value: str) -> QuerySet[Interaction]:
        q = clean_query(value)
        if not q:
            return queryset
        return queryset.filter(Q(subject__icontains=q) | Q(body__icontains=q) | Q(account__name__icontains=q))


class TaskFilterSet(OwnedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(
        choices=TaskStatus.choices, label=_("Status"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    open = django_filters.BooleanFilter(
        method="filter_open", label=pgettext_lazy("open tasks", "Open"), widget=YES_NO
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=TaskPriority.choices, label=_("Priority"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    account, contact, lead, opportunity = _link_filters()
    due_after, due_before = _date_range("due_at", _("Due from"), _("Due until"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"), widget=YES_NO)

    class Meta:
        model = Task
        fields: list[str] = []
        form = DateRangeForm

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["owner"].label = _("Assignee")

    def filter_q(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        q = clean_query(value)
        if not q:
            return queryset
        return queryset.filter(
            Q(title__icontains=q) | Q(description__icontains=q) | Q(account__name__icontains=q)
        )

    def filter_open(self, queryset: QuerySet[Task], name: str, value: bool | None) -> QuerySet[Task]:
        if value is None:
            return queryset
        cond = Q(status__in=OPEN_TASK_STATUSES)
        return queryset.filter(cond) if value else queryset.exclude(cond)

    def filter_overdue(self, queryset: QuerySet[Task], name: str, value: bool | None) -> QuerySet[Task]:
        if value is None:
            return queryset
        cond = Q(status__in=OPEN_TASK_STATUSES, due_at__lt=timezone.now())
        return queryset.filter(cond) if value else queryset.exclude(cond)
