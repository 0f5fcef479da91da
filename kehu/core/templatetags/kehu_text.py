"""Template filters of ``kehu.core.text``: lists and "label: value" pairs in the active language.

{% load kehu_text %}
{{ names|join_list }}              Name, Phone / Name、Phone (each item escaped)
{{ name|label_value:count }}       Contacts: 3 / Contacts：3
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from .. import text

register = template.Library()


def _escape(value: Any, autoescape: bool) -> str:
    return str(conditional_escape(value)) if autoescape else str(value)


@register.filter(needs_autoescape=True)
def join_list(items: Iterable[Any] | None, autoescape: bool = True) -> SafeString | str:
    if not items:
        return ""
    if isinstance(items, str):
        items = [items]
    joined = _escape(text.list_separator(), autoescape).join(_escape(item, autoescape) for item in items)
    return mark_safe(joined) if autoescape else joined  # noqa: S308 - every item is escaped above


@register.filter(needs_autoescape=True)
def label_value(label: Any, value: Any, autoescape: bool = True) -> SafeString | str:
    out = text.label_value(_escape(label, autoescape), _escape(value, autoescape))
    return mark_safe(out) if autoescape else out  # noqa: S308 - label and value are escaped above
