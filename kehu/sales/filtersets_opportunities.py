"""The opportunity FilterSet: the HTML list, the kanban, the API and the export use it alike."""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.search import clean_query
from kehu.customers.filtersets import TOM_SELECT, OwnedFilterSet
from kehu.customfields.selectors import picklist_choices
from kehu.tags.filters import TagFilter, TagMatchFilter

from .choices import OPPORTUNITY_PICKLIST_FIELDS, ForecastCategory, StageKind
from .models import Opportunity, Pipeline, Stage

DATE = forms.DateInput(attrs={"type": "date"})


class OpportunityRangeForm(forms.Form):
    """Refuses a range whose end is before its start (field error on the end)."""

    ranges: ClassVar[tuple[tuple[str, str], ...]] = (
        ("created_after", "created_before"),
        ("close_after", "close_before"),
        ("amount_min", "amount_max"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for start, end in self.ranges:
            if data.get(start) is not None and data.get(end) is not None and data[end] < data[start]:
                self.add_error(end, _("The end of the range cannot be before its start."))
        return data


def _pipelines(request: Any = None) -> QuerySet[Pipeline]:
    return Pipeline.objects.filter(is_active=True).order_by("order", "id")


def _stages(request: Any = None) -> QuerySet[Stage]:
    return (
        Stage.objects.filter(pipeline__is_active=True)
        .select_related("pipeline")
        .order_by("pipeline__order", "order")
    )


class OpportunityFilterSet(OwnedFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    pipeline = django_filters.ModelChoiceFilter(queryset=_pipelines, label=_("Pipeline"))
    stage = django_filters.ModelMultipleChoiceFilter(
        queryset=_stages, label=_("Stage"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    status = django_filters.MultipleChoiceFilter(
        choices=StageKind.choices, label=_("Status"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    forecast_category = django_filters.MultipleChoiceFilter(
        choices=ForecastCategory.choices,
        label=_("Forecast category"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    account = django_filters.NumberFilter(
        field_name="account_id", label=pgettext_lazy("customers", "Account"), widget=forms.HiddenInput
    )
    source = django_filters.MultipleChoiceFilter(
        choices=lambda: picklist_choices(OPPORTUNITY_PICKLIST_FIELDS["source"]),
        label=_("Source"),
        widget=forms.SelectMultiple(attrs=TOM_SELECT),
    )
    close_after = django_filters.DateFilter(
        field_name="expected_close_date", lookup_expr="gte", label=_("Expected close from"), widget=DATE
    )
    close_before = django_filters.DateFilter(
        field_name="expected_close_date", lookup_expr="lte", label=_("Expected close until"), widget=DATE
    )
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", label=_("Amount from"))
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte", label=_("Amount up to"))
    tags = TagFilter()
    tags_mode = TagMatchFilter()
    external_id = django_filters.CharFilter(lookup_expr="exact", label=_("External ID"), max_length=100)

    class Meta:
        model = Opportunity
        fields: list[str] = []
        form = OpportunityRangeForm

    def filter_q(self, queryset: QuerySet[Opportunity], name: str, value: str) -> QuerySet[Opportunity]:
        q = clean_query(value)
        if not q:
            return queryset
        return queryset.filter(
            Q(name__icontains=q) | Q(account__name__icontains=q) | Q(next_step__icontains=q)
        )
