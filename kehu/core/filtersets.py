"""Filters of core's lists (the API uses them; the job page passes the same names)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .choices import JobStatus
from .models import Job
from .selectors import job_sees_others


class JobFilterSet(django_filters.FilterSet):
    scope = django_filters.ChoiceFilter(
        choices=[("mine", _("My jobs")), ("all", _("Everyone's jobs"))],
        method="filter_scope",
        empty_label=None,
        help_text=_("mine (default): your own jobs; all: every job you may see."),
    )
    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    kind = django_filters.CharFilter()

    class Meta:
        model = Job
        fields = ["status", "kind"]

    def filter_queryset(self, queryset: QuerySet[Job]) -> QuerySet[Job]:
        # "mine" unless "all" is asked for (and allowed): applied even when `scope` is absent.
        if self.form.cleaned_data.get("scope") != "all" or not job_sees_others(self.request.user):
            queryset = queryset.filter(owner=getattr(self.request.user, "pk", None))
        return super().filter_queryset(queryset)

    def filter_scope(self, queryset: QuerySet[Job], name: str, value: Any) -> QuerySet[Job]:
        return queryset  # handled in filter_queryset
