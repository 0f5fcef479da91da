"""Filters of this app's own lists (the definitions and picklist APIs).

Filters generated FROM custom field definitions for other models' lists are in ``filters.py``.
"""

from __future__ import annotations

import django_filters

from .choices import FieldType
from .models import CustomField, FieldRule, PicklistItem


class CustomFieldFilterSet(django_filters.FilterSet):
    model = django_filters.CharFilter(
        field_name="model", lookup_expr="iexact", help_text="A model label, e.g. customers.account."
    )
    type = django_filters.ChoiceFilter(choices=FieldType.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = CustomField
        fields = ["model", "type", "is_active"]


class PicklistItemFilterSet(django_filters.FilterSet):
    picklist = django_filters.NumberFilter(field_name="picklist_id", help_text="Id of the picklist.")
    picklist_code = django_filters.CharFilter(field_name="picklist__code", help_text="Code of the picklist.")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = PicklistItem
        fields = ["picklist", "picklist_code", "is_active"]


class FieldRuleFilterSet(django_filters.FilterSet):
    model = django_filters.CharFilter(
        field_name="model", lookup_expr="iexact", help_text="A model label, e.g. customers.account."
    )

    class Meta:
        model = FieldRule
        fields = ["model"]
