"""Data collection standards (数据采集规范): per model, admins mark standard or custom fields as
required, give them a validation pattern, demand uniqueness, and weight them for the completeness
score. Forms, the API and imports all apply them through the model's services, which call:

    rules_check(model=Account, values=data, instance=account)   # raises on violations
    account.completeness = completeness(model=Account, obj=account)

Where the standards live (see ``standards.field_specs``): ``FieldRule`` rows for standard fields;
for custom fields, *required* and the *pattern* are the ``CustomField`` definition's own settings
(one source of truth; the standards page edits them there) and a ``FieldRule`` adds *unique* and
the *weight*.

Which values are checked:

* *required*: every field, including unchanged ones of `instance` (a record cannot be saved while a
  required field is empty); with `partial=True` only the fields in `values`.
* *pattern* and *unique*: only values that are given and differ from `instance`'s, so tightening a
  standard does not block edits of other fields of older records (the data quality page lists
  what to fix).

Race safety of *unique*: the check locks the field's ``FieldRule`` row (``select_for_update``)
inside the caller's transaction, so two services saving the same value of a unique field at the
same time run one after the other and the second sees the first's row. The services call
``rules_check`` inside their ``transaction.atomic`` block, after which they save; outside a
transaction no lock is taken (SQLite serialises writers anyway).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django.db import connection, models
from django.utils.translation import gettext as _

from kehu.core.errors import DomainError

from .models import FieldRule
from .standards import CUSTOM_PREFIX, MAX_WEIGHT, FieldSpec, field_specs, is_empty

__all__ = ["RulesError", "completeness", "completeness_score", "completeness_scorer", "rules_check"]


class RulesError(DomainError):
    code = "invalid"


def _given(spec: FieldSpec, values: Mapping[str, Any]) -> tuple[bool, Any]:
    if spec.is_custom:
        custom = values.get("custom")
        if isinstance(custom, Mapping) and spec.name in custom:
            return True, custom[spec.name]
        return False, None
    if spec.key in values:
        value = values[spec.key]
        if spec.model_field is not None and isinstance(value, models.Model):
            value = value.pk
        return True, value
    return False, None


def _matches(pattern: str, value: Any) -> bool:
    try:
        return re.search(pattern, str(value)) is not None
    except (re.error, RecursionError):  # refused when saved; never block input over it
        return True


def _same(a: Any, b: Any, text: bool) -> bool:
    if text and isinstance(a, str) and isinstance(b, str):
        return a.strip().casefold() == b.strip().casefold()
    return bool(a == b)


def _duplicate_exists(
    model: type[models.Model], spec: FieldSpec, value: Any, instance: models.Model | None
) -> bool:
    manager = model._default_manager
    if spec.is_custom:
        lookup = f"custom__{spec.name}"
    elif spec.model_field is not None:
        lookup = spec.model_field.attname if spec.model_field.is_relation else spec.key
    else:
        return False
    if spec.is_text and isinstance(value, str):
        value = value.strip()
        lookup += "__iexact"
    qs = manager.filter(**{lookup: value})
    if instance is not None and instance.pk is not None:
        qs = qs.exclude(pk=instance.pk)
    return bool(qs.exists())


def _lock(rule: FieldRule | None) -> None:
    """Serialise unique checks of one field (see the module docstring)."""
    if rule is None or rule.pk is None or not connection.in_atomic_block:
        return
    list(FieldRule.objects.select_for_update().filter(pk=rule.pk).values_list("pk", flat=True))


def rules_check(
    *,
    model: type[models.Model],
    values: Mapping[str, Any],
    instance: models.Model | None = None,
    partial: bool = False,
) -> None:
    """Check `values` (standard field names -> cleaned values; custom values under "custom" as a
    dict) against the model's collection standards. `instance` is the stored record (None when
    creating): unchanged fields of it count as given, and uniqueness ignores the record itself.
    `partial` (PATCH): only the given fields are checked. Raises `kehu.core.errors.DomainError`
    (code "invalid", status 400) with `fields` keyed by field name ("custom.<name>" for custom
    fields) and translated messages."""
    errors: dict[str, list[str]] = {}
    for spec in field_specs(model):
        given, value = _given(spec, values)
        stored = spec.read(instance) if instance is not None else None
        if not given:
            if partial:
                continue
            value = stored
            if instance is None and spec.model_field is not None and spec.model_field.has_default():
                value = spec.model_field.get_default()  # the model fills it in on create
        if spec.required and is_empty(value):
            errors[spec.key] = [_("This field is required.")]
            continue
        if not given or is_empty(value):
            continue
        if instance is not None and _same(value, stored, spec.is_text):
            continue
        if spec.pattern and spec.pattern_applies and not _matches(spec.pattern, value):
            errors[spec.key] = [spec.pattern_message or _("Enter a value in the required format.")]
            continue
        if spec.unique:
            _lock(spec.rule)
            if _duplicate_exists(model, spec, value, instance):
                errors[spec.key] = [
                    _("Another %(thing)s already has this value.") % {"thing": model._meta.verbose_name}
                ]
    if errors:
        raise RulesError(_("Some fields do not meet the data standards."), fields=errors)


def completeness_score(specs: list[FieldSpec], obj: models.Model) -> int:
    """0..100 from already loaded `specs` (used in bulk recomputation). With no scored field: 100."""
    total = filled = 0
    for spec in specs:
        weight = max(0, min(MAX_WEIGHT, spec.weight))
        if not weight:
            continue
        total += weight
        if not is_empty(spec.read(obj)):
            filled += weight
    if not total:
        return 100
    return round(100 * filled / total)


def completeness(*, model: type[models.Model], obj: models.Model) -> int:
    """0..100: the weighted share of the model's scored fields that `obj` has filled."""
    return completeness_score(field_specs(model), obj)


def completeness_scorer(*, model: type[models.Model]) -> Callable[[models.Model], int]:
    """For loops over many records (bulk edits, imports): loads the standards once (2 queries)
    and returns ``score(obj) -> int``; calling ``completeness`` per record costs 2 queries each."""
    specs = field_specs(model)
    return lambda obj: completeness_score(specs, obj)


def custom_key(name: str) -> str:
    return f"{CUSTOM_PREFIX}{name}"
