"""``{% load kehu_tags %}``: ``{% tag_chips object %}`` (the record's tags as coloured chips, from
the page's prefetch when `tags_for` ran) and ``{% tag_chip tag %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from ..display import chip, chips
from ..models import Tag
from ..selectors import tags_of

register = template.Library()


@register.simple_tag
def tag_chips(obj: Any) -> SafeString:
    if obj is None or getattr(obj, "pk", None) is None:
        return SafeString("")
    return chips(tags_of(obj))


@register.simple_tag
def tag_chip(tag: Tag) -> SafeString:
    return chip(tag)


@register.simple_tag
def tags_of_record(obj: Any) -> list[Tag]:
    """``{% tags_of_record object as tags %}``."""
    return tags_of(obj) if obj is not None and getattr(obj, "pk", None) is not None else []
