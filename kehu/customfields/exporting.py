"""Custom fields as columns of exports, imports and reports.

* ``custom_columns(model, user=None)``: ``(key, label, getter)`` per active custom field; the key is
  ``custom.<name>`` (the API key and the field-permission key); ``getter(obj)`` gives a plain Python
  value: choice labels in the active language, Decimal, date, aware datetime, bool or str.
* ``custom_export_columns(model, user=None)``: the same as ``kehu.core.exports.Column`` objects for an
  Exporter (core exports apply field permissions by key and mask by ``mask_kind``).

Imports go the other way through ``services.custom_values_clean`` (choice labels are accepted there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

from kehu.core.choices import FieldMode
from kehu.core.masking import mask_value
from kehu.core.permissions import field_modes

from .choices import MASKABLE_TYPES, FieldType
from .display import item_map, mask_kind
from .models import CustomField, PicklistItem
from .selectors import custom_fields_for
from .validation import display_text, is_empty, to_python


def export_value(field: CustomField, stored: Any, items: dict[str, PicklistItem] | None = None) -> Any:
    """A stored value as a plain Python value for exports and reports."""
    if is_empty(stored):
        return None
    if field.type in (FieldType.SINGLE_CHOICE, FieldType.MULTI_CHOICE):
        return display_text(field, stored, items if items is not None else item_map(field))
    return to_python(field, stored)


def custom_columns(
    model: type[models.Model] | str, user: Any = None
) -> list[tuple[str, str, Callable[[Any], Any]]]:
    """(key, label, getter) of every active custom field: key ``custom.<name>``; getter(obj) gives the
    plain value (choice labels in the active language, Decimal, date, aware datetime, bool, str).

    With `user`, hidden fields are left out and masked ones are masked; without, nothing is
    filtered (callers such as core exports apply field permissions themselves by the key).
    """
    modes = field_modes(user, model) if user is not None and not isinstance(model, str) else {}
    out: list[tuple[str, str, Callable[[Any], Any]]] = []
    for field in custom_fields_for(model):
        mode = modes.get(field.key)
        if mode == FieldMode.HIDDEN:
            continue
        out.append(
            (field.key, field.display_label, _getter(field, item_map(field), mode == FieldMode.MASKED))
        )
    return out


def _getter(field: CustomField, items: dict[str, PicklistItem], masked: bool) -> Callable[[Any], Any]:
    name = field.name

    def get(obj: Any) -> Any:
        value = export_value(field, (getattr(obj, "custom", None) or {}).get(name), items)
        if masked and value is not None:
            return mask_value(str(value), mask_kind(field)) if field.type in MASKABLE_TYPES else "****"
        return value

    return get


def custom_export_columns(model: type[models.Model], user: Any = None) -> list[Any]:
    """``kehu.core.exports.Column`` objects for the model's active custom fields (an Exporter's
    ``columns`` may append them). Core exports apply field permissions by key (``custom.<name>``),
    so `user` is accepted for symmetry and not needed."""
    from kehu.core.exports import Column as ExportColumn

    return [
        ExportColumn(f.key, f.display_label, value=_getter(f, item_map(f), False), mask_kind=mask_kind(f))
        for f in custom_fields_for(model)
    ]
