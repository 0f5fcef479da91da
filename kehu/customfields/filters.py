"""List filters generated from custom field definitions (the UI's and the API's FilterSets).

``add_custom_filters(filterset, model)`` adds, for each active *filterable* custom field:

=================  ============================================  =====================================
type               parameters                                    matches
=================  ============================================  =====================================
text-like          ``custom__<name>``                            contains, ignoring case
integer, decimal   ``custom__<name>__gte`` / ``__lte``           numeric range (inclusive)
date               ``custom__<name>__gte`` / ``__lte``           date range (inclusive)
datetime           ``custom__<name>__gte`` / ``__lte`` (dates)   local-date range (inclusive)
boolean            ``custom__<name>`` (true/false)               equal
single choice      ``custom__<name>`` (repeatable)               any of the chosen values
multiple choice    ``custom__<name>`` (repeatable)               holds any of the chosen values
=================  ============================================  =====================================

Definitions change at run time, so call it per request: on a FilterSet *instance* (e.g. at the end of
its ``__init__``) it adds to ``filters``; on a FilterSet *class* it returns a subclass with the filters.
Works on SQLite and PostgreSQL (JSON key transforms; containment on PostgreSQL, GIN-indexable).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

import django_filters
from django import forms
from django.db import connections, models
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import FieldType
from .models import CustomField
from .selectors import custom_fields_for
from .validation import DECIMAL_MAX_PLACES, DECIMAL_MAX_WHOLE_DIGITS, field_items

F = TypeVar("F", bound=django_filters.FilterSet)

TEXT_TYPES = frozenset({FieldType.TEXT, FieldType.LONG_TEXT, FieldType.URL, FieldType.EMAIL, FieldType.PHONE})


def _vendor(queryset: QuerySet[Any]) -> str:
    return connections[queryset.db].vendor


def _number(name: str) -> Cast:
    return Cast(
        KeyTextTransform(name, "custom"),
        models.DecimalField(
            max_digits=DECIMAL_MAX_WHOLE_DIGITS + DECIMAL_MAX_PLACES, decimal_places=DECIMAL_MAX_PLACES
        ),
    )


def _date(name: str) -> Cast:
    return Cast(KeyTextTransform(name, "custom"), models.DateField())


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class _CustomFilterMixin:
    definition: CustomField


class CustomTextFilter(_CustomFilterMixin, django_filters.CharFilter):
    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in (None, ""):
            return qs
        return qs.filter(**{f"custom__{self.definition.name}__icontains": value.strip()})


class CustomRangeFilter(_CustomFilterMixin, django_filters.Filter):
    """One bound (`gte` or `lte`) of a number, date or datetime range."""

    def __init__(self, *args: Any, bound: str, **kwargs: Any) -> None:
        self.bound = bound
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in (None, ""):
            return qs
        name, t = self.definition.name, self.definition.type
        if t in (FieldType.INTEGER, FieldType.DECIMAL):
            alias = f"_cf_{self.bound}_{name}"
            return qs.alias(**{alias: _number(name)}).filter(**{f"{alias}__{self.bound}": value})
        if t == FieldType.DATE:
            alias = f"_cf_{self.bound}_{name}"
            return qs.alias(**{alias: _date(name)}).filter(**{f"{alias}__{self.bound}": value})
        # datetime: stored as fixed-width UTC text, so text comparison is chronological; a local
        # date bound covers that whole day.
        alias = f"_cf_{self.bound}_{name}"
        text = Cast(KeyTextTransform(name, "custom"), models.TextField())
        if self.bound == "gte":
            return qs.alias(**{alias: text}).filter(**{f"{alias}__gte": _utc_text(_day_start(value))})
        return qs.alias(**{alias: text}).filter(
            **{f"{alias}__lt": _utc_text(_day_start(value + dt.timedelta(days=1)))}
        )


class CustomBooleanFilter(_CustomFilterMixin, django_filters.BooleanFilter):
    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value is None:
            return qs
        name = self.definition.name
        if _vendor(qs) == "postgresql":
            return qs.filter(custom__contains={name: bool(value)})
        return qs.filter(**{f"custom__{name}": bool(value)})


class CustomChoiceFilter(_CustomFilterMixin, django_filters.MultipleChoiceFilter):
    """Any of the chosen values (single choice: equal; multiple choice: the list holds it)."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        values = [v for v in (value or []) if v]
        if not values:
            return qs
        name = self.definition.name
        postgres = _vendor(qs) == "postgresql"
        q = Q()
        for v in values:
            if self.definition.type == FieldType.MULTI_CHOICE:
                if postgres:
                    q |= Q(custom__contains={name: [v]})
                else:
                    # Codes are ASCII without quotes and unique ignoring case within a picklist.
                    q |= Q(**{f"custom__{name}__icontains": f'"{v}"'})
            elif postgres:
                q |= Q(custom__contains={name: v})
            else:
                q |= Q(**{f"custom__{name}": v})
        return qs.filter(q)


def custom_filters(model: type[models.Model] | str) -> dict[str, django_filters.Filter]:
    """{parameter name: filter} for the model's active filterable custom fields."""
    out: dict[str, django_filters.Filter] = {}
    for field in custom_fields_for(model):
        if not field.filterable:
            continue
        param = field.form_field_name
        label = field.display_label
        t = field.type
        built: list[tuple[str, django_filters.Filter]] = []
        if t in TEXT_TYPES:
            built.append((param, CustomTextFilter(label=label)))
        elif t in (FieldType.INTEGER, FieldType.DECIMAL, FieldType.DATE, FieldType.DATETIME):
            is_number = t in (FieldType.INTEGER, FieldType.DECIMAL)
            form_field = forms.DecimalField if is_number else forms.DateField
            widget = (
                forms.NumberInput(attrs={"step": "any"})
                if is_number
                else forms.DateInput(attrs={"type": "date"})
            )
            for bound, text in (("gte", _("%(label)s from")), ("lte", _("%(label)s to"))):
                flt = CustomRangeFilter(label=text % {"label": label}, bound=bound, widget=widget)
                flt.field_class = form_field
                built.append((f"{param}__{bound}", flt))
        elif t == FieldType.BOOLEAN:
            built.append((param, CustomBooleanFilter(label=label)))
        else:
            choices = [(i.value, i.display_label) for i in field_items(field)]
            built.append(
                (
                    param,
                    CustomChoiceFilter(
                        label=label,
                        choices=choices,
                        widget=forms.SelectMultiple(attrs={"data-tom-select": ""}),
                    ),
                )
            )
        for key, flt in built:
            flt.definition = field
            flt.field_name = key
            out[key] = flt
    return out


def add_custom_filters(filterset: F | type[F], model: type[models.Model] | str | None = None) -> F | type[F]:
    """Add the custom filters to a FilterSet instance (returned) or to a subclass of a FilterSet class.

    `model` defaults to the FilterSet's ``Meta.model``.
    """
    if model is None:
        model = filterset._meta.model
        if model is None:
            raise TypeError("add_custom_filters() needs a model: the FilterSet has no Meta.model")
    filters = custom_filters(model)
    if isinstance(filterset, type):
        base: Any = filterset
        subclass = type(base.__name__, (base,), {"__module__": base.__module__})
        subclass.base_filters = {**base.base_filters, **filters}  # type: ignore[attr-defined]
        return subclass
    for key, flt in filters.items():
        flt.parent = filterset
        filterset.filters[key] = flt
    return filterset
