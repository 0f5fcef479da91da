"""Showing custom values as HTML: one value (choice badges, links, masking) and detail-page rows.

Field permissions are keyed ``custom.<name>`` (hidden: left out; masked: shown masked). List columns
are in ``tables.py``, export/import/report columns in ``exporting.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.html import format_html, format_html_join, linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from kehu.core.choices import FieldMode
from kehu.core.masking import mask_value
from kehu.core.permissions import field_modes
from kehu.core.validators import format_phone

from .choices import MASKABLE_TYPES, FieldType
from .models import CustomField, PicklistItem
from .selectors import custom_fields_for
from .validation import display_text, field_items, is_empty

EMPTY = '<span class="text-secondary">—</span>'


def mask_kind(field: CustomField) -> str:
    if field.type == FieldType.PHONE:
        return "phone"
    if field.type == FieldType.EMAIL:
        return "email"
    return "text"


def item_map(field: CustomField) -> dict[str, PicklistItem]:
    return {i.value: i for i in field_items(field)}


def badge(item: PicklistItem | None, value: str) -> SafeString:
    if item is None:
        return format_html('<span class="badge bg-secondary-lt">{}</span>', value)
    return format_html(
        '<span class="{}"{}>{}</span>',
        item.badge_class,
        format_html(' style="{}"', item.badge_style) if item.badge_style else "",
        item.display_label,
    )


def render_value(
    field: CustomField, stored: Any, *, mode: str | None = None, items: dict[str, PicklistItem] | None = None
) -> SafeString:
    """A stored value as HTML for the viewer's field mode (None: full access)."""
    if mode == FieldMode.HIDDEN:
        return mark_safe("")
    if is_empty(stored):
        return mark_safe(EMPTY)  # noqa: S308 - a constant
    if mode == FieldMode.MASKED:
        shown = mask_value(str(stored), mask_kind(field)) if field.type in MASKABLE_TYPES else "****"
        return format_html('<span class="kehu-masked" title="{}">{}</span>', _("Masked"), shown)
    if field.type in (FieldType.SINGLE_CHOICE, FieldType.MULTI_CHOICE):
        if items is None:
            items = item_map(field)
        values = stored if isinstance(stored, list) else [stored]
        return format_html_join(" ", "{}", ((badge(items.get(str(v)), str(v)),) for v in values))
    if field.type == FieldType.BOOLEAN:
        if stored:
            return format_html('<i class="ti ti-check text-success me-1"></i>{}', _("Yes"))
        return format_html('<i class="ti ti-minus text-secondary me-1"></i>{}', _("No"))
    if field.type == FieldType.URL:
        return format_html('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', stored, stored)
    if field.type == FieldType.EMAIL:
        return format_html('<a href="mailto:{}">{}</a>', stored, stored)
    if field.type == FieldType.PHONE:
        return format_html('<a href="tel:{}" class="text-nowrap">{}</a>', stored, format_phone(str(stored)))
    if field.type == FieldType.LONG_TEXT:
        return mark_safe(linebreaks(str(stored), autoescape=True))  # noqa: S308 - escaped by linebreaks
    return format_html("{}", display_text(field, stored))


@dataclass
class DisplayRow:
    field: CustomField
    label: str
    html: SafeString
    name: str
    key: str


def custom_rows(obj: Any, user: Any = None) -> list[DisplayRow]:
    """Label/value rows of `obj`'s active custom fields for a detail page, without hidden ones."""
    modes = field_modes(user, type(obj)) if user is not None else {}
    values = getattr(obj, "custom", None) or {}
    rows = []
    for field in custom_fields_for(type(obj)):
        mode = modes.get(field.key)
        if mode == FieldMode.HIDDEN:
            continue
        rows.append(
            DisplayRow(
                field,
                field.display_label,
                render_value(field, values.get(field.name), mode=mode),
                field.name,
                field.key,
            )
        )
    return rows
