"""The bell's unread count and the level colours of notifications."""

from __future__ import annotations

from typing import Any

from django import template

from kehu.notifications import selectors

register = template.Library()

_COLORS = {"info": "blue", "success": "green", "warning": "yellow", "error": "red"}
_ICONS = {
    "info": "info-circle",
    "success": "circle-check",
    "warning": "alert-triangle",
    "error": "alert-circle",
}


@register.simple_tag(takes_context=True)
def unread_notifications(context: dict[str, Any]) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return selectors.unread_count(user=user)


@register.filter
def notification_color(level: str) -> str:
    return _COLORS.get(level, "blue")


@register.filter
def notification_icon(level: str) -> str:
    return _ICONS.get(level, "bell")


@register.filter
def badge_count(count: int) -> str:
    return "99+" if count > 99 else str(count)
