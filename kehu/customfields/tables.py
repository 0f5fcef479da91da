"""List-page columns of custom fields.

``custom_list_columns(model, user=None)`` gives one column per active custom field: a
``kehu.core.tables.Column`` (a ``Table.extra_columns()`` may return them) with ``name``
(``custom.<name>``, also the field-permission key), ``label``, ``definition``, ``default``
(the field's "show in lists") and a render that needs no queries. Templates without a core Table
use ``{% custom_list_columns model as columns %}`` and ``{% custom_value obj column %}``.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from kehu.core.choices import FieldMode
from kehu.core.permissions import field_modes
from kehu.core.tables import Column

from .choices import FieldType
from .display import item_map, mask_kind, render_value
from .models import CustomField, PicklistItem
from .selectors import custom_fields_for
from .validation import display_text


def _sortable(field: CustomField) -> str | None:
    # Decimals are stored as strings (exact), which would sort as text; multiple choices are lists.
    if field.type in (FieldType.DECIMAL, FieldType.MULTI_CHOICE, FieldType.LONG_TEXT):
        return None
    return f"custom__{field.name}"


class CustomFieldColumn(Column):
    """A list column of one custom field; renders from the record's `custom` dict, no queries."""

    definition: CustomField
    items: dict[str, PicklistItem]

    @classmethod
    def for_field(cls, field: CustomField) -> CustomFieldColumn:
        column = cls(
            name=field.key,
            label=field.display_label,
            accessor="custom",
            order_by=_sortable(field),
            default=field.show_in_list,
            field=field.key,
            mask_kind=mask_kind(field),
            css_class="text-nowrap" if field.type != FieldType.LONG_TEXT else "",
        )
        column.definition = field
        column.items = item_map(field)
        return column

    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return ("custom",)

    def value(self, record: Any) -> Any:
        return (getattr(record, "custom", None) or {}).get(self.definition.name)

    def render(self, record: Any, mode: str | None = None, context: Any = None) -> Any:
        return render_value(self.definition, self.value(record), mode=mode, items=self.items)

    def text(self, record: Any) -> str:
        return display_text(self.definition, self.value(record), self.items)


def custom_list_columns(model: type[models.Model] | str, user: Any = None) -> list[CustomFieldColumn]:
    """Columns of the model's active custom fields (hidden ones left out when `user` is given)."""
    columns = [CustomFieldColumn.for_field(f) for f in custom_fields_for(model)]
    if user is not None and not isinstance(model, str):
        modes = field_modes(user, model)
        columns = [c for c in columns if modes.get(c.definition.key) != FieldMode.HIDDEN]
    return columns


# The name kehu.customers.tables imports.
custom_columns = custom_list_columns
