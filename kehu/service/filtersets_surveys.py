"""Filters of survey answers (the survey page, the export and the API): survey, kind, account,
score range and answer dates."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import SurveyKind
from .models import Survey, SurveyResponse


def _surveys(request: Any = None) -> Any:
    return Survey.objects.all()


class SurveyResponseFilterSet(django_filters.FilterSet):
    survey = django_filters.ModelChoiceFilter(queryset=_surveys, label=_("Survey"))
    kind = django_filters.ChoiceFilter(choices=SurveyKind.choices, label=_("Kind"))
    account = django_filters.NumberFilter(
        field_name="account_id", label=pgettext_lazy("customers", "Account"), widget=forms.HiddenInput
    )
    ticket = django_filters.NumberFilter(field_name="ticket_id", label=_("Ticket"), widget=forms.HiddenInput)
    agent = django_filters.NumberFilter(field_name="agent_id", label=_("Agent"), widget=forms.HiddenInput)
    score_min = django_filters.NumberFilter(
        field_name="score", lookup_expr="gte", label=_("Score at least"), min_value=0, max_value=10
    )
    score_max = django_filters.NumberFilter(
        field_name="score", lookup_expr="lte", label=_("Score at most"), min_value=0, max_value=10
    )
    answered_after = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label=_("Answered from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    answered_before = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label=_("Answered until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    has_comment = django_filters.BooleanFilter(method="filter_has_comment", label=_("With a comment"))

    class Meta:
        model = SurveyResponse
        fields: list[str] = []

    def filter_has_comment(self, queryset: Any, name: str, value: Any) -> Any:
        if value is None:
            return queryset
        return queryset.exclude(comment="") if value else queryset.filter(comment="")
