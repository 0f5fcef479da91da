"""Template filters of the catalog: ``{% load kehu_catalog %}``."""

from __future__ import annotations

from typing import Any

from django import template

from ..selectors import price_source_text

register = template.Library()


@register.filter
def price_source(stored: Any) -> str:
    """A line's stored ``price_source`` in the reader's language:
    ``{{ line.price_source|price_source }}``."""
    return price_source_text(stored)
