"""Filters of the user list (the API uses them; the users screen passes the same names)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Department, Role, User


class UserFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q", label=_("Search"), help_text=_("Part of the name, username, e-mail or phone.")
    )
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(),
        method="filter_department",
        help_text=_("A department id: its members and those of its sub-departments."),
    )
    role = django_filters.ModelChoiceFilter(queryset=Role.objects.all(), field_name="roles")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = User
        fields = ["q", "department", "role", "is_active"]

    def filter_q(self, queryset: QuerySet[User], name: str, value: Any) -> QuerySet[User]:
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value)
            | Q(display_name__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
            | Q(phone__icontains=value)
        )

    def filter_department(self, queryset: QuerySet[User], name: str, value: Any) -> QuerySet[User]:
        return queryset.filter(department__path__startswith=value.path) if value else queryset
