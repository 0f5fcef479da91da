"""Showing a model field's value in HTML: formatted by type, masked or hidden by field permissions.

The one place templates (``{% field_value obj "phone" %}``, ``{% field_row obj "phone" %}``) and the
reveal endpoint get their markup from, so a phone looks the same on every page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .choices import FieldMode
from .masking import guess_kind, mask_value
from .permissions import field_modes
from .validators import format_phone

EMPTY = '<span class="text-secondary">—</span>'


def model_field(obj: Any, name: str) -> models.Field | None:
    try:
        f = obj._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return f if isinstance(f, models.Field) else None


def field_label(obj: Any, name: str) -> str:
    f = model_field(obj, name)
    if f is None:
        return name.replace("_", " ").capitalize()
    return str(f.verbose_name[:1].upper() + f.verbose_name[1:]) if f.verbose_name else name


def field_mode(user: Any, obj: Any, name: str) -> str | None:
    return field_modes(user, type(obj)).get(name)


def kind_of(obj: Any, name: str) -> str:
    f = model_field(obj, name)
    if isinstance(f, models.EmailField):
        return "email"
    return guess_kind(name)


def render_plain(obj: Any, name: str) -> SafeString:
    """The value formatted by its field type (no permission checks)."""
    f = model_field(obj, name)
    if f is not None and f.choices:
        value: Any = getattr(obj, f"get_{name}_display")()
        raw: Any = getattr(obj, name)
    else:
        value = raw = getattr(obj, name, None)
    if raw is None or (not isinstance(raw, bool) and raw in ("", [], {})):
        return mark_safe(EMPTY)  # noqa: S308 - a constant
    if isinstance(f, models.BooleanField):
        return format_html("{}", _("Yes") if raw else _("No"))
    kind = kind_of(obj, name)
    if kind == "phone":
        return format_html('<a href="tel:{}" class="text-nowrap">{}</a>', raw, format_phone(raw))
    if kind == "email":
        return format_html('<a href="mailto:{}">{}</a>', raw, raw)
    if isinstance(f, models.URLField):
        return format_html('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', raw, raw)
    if isinstance(raw, dt.datetime):
        return format_html("{}", formats.date_format(timezone.localtime(raw), "DATETIME_FORMAT"))
    if isinstance(raw, dt.date):
        return format_html("{}", formats.date_format(raw, "DATE_FORMAT"))
    if isinstance(f, models.TextField):
        return mark_safe(linebreaks(str(value), autoescape=True))  # noqa: S308 - escaped by linebreaks
    return format_html("{}", value)


def reveal_url(obj: Any, name: str) -> str:
    return reverse("core:reveal", args=[obj._meta.label_lower, obj.pk, name])


def render_field(
    user: Any, obj: Any, name: str, *, mode: str | None = None, reveal: bool = True
) -> SafeString:
    """The value as HTML for `user`: empty when hidden, masked (with a "show" button) when masked."""
    mode = mode if mode is not None else field_mode(user, obj, name)
    if mode == FieldMode.HIDDEN:
        return mark_safe("")
    if mode == FieldMode.MASKED:
        raw = getattr(obj, name, None)
        if raw in (None, ""):
            return mark_safe(EMPTY)  # noqa: S308 - a constant
        masked = mask_value(str(raw), kind_of(obj, name))
        if not reveal or obj.pk is None:
            return format_html('<span class="kehu-masked">{}</span>', masked)
        return format_html(
            '<span class="kehu-masked text-nowrap">{} '
            '<button type="button" class="btn btn-sm btn-ghost-secondary py-0 px-1" hx-post="{}" '
            'hx-target="closest .kehu-masked" hx-swap="outerHTML" title="{}" aria-label="{}">'
            '<i class="ti ti-eye"></i></button></span>',
            masked,
            reveal_url(obj, name),
            _("Show the full value (recorded in the operation log)"),
            _("Show"),
        )
    return render_plain(obj, name)
