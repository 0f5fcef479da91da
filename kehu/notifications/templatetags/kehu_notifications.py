"""The bell's unread count and the level colours of notifications."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from kehu.core.templatetags.kehu import static_fragment
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


def badge_html(count: int) -> SafeString:
    """The bell's badge (``notifications/_badge.html``, rendered once per language) for `count`
    unread notifications: the page's bell and the badge the bell polls."""
    inner = (
        format_html(
            '<span class="badge bg-red text-red-fg badge-notification badge-pill" style="top: .1rem; '
            'right: .1rem">{}<span class="visually-hidden"> {}</span></span>',
            badge_count(count),
            gettext("unread notifications"),
        )
        if count
        else ""
    )
    return static_fragment("notifications/_badge.html", count=count, inner=inner)


@register.simple_tag(takes_context=True)
def notification_bell(context: dict[str, Any]) -> SafeString:
    """The top bar's bell with the user's unread count (its markup rendered once per language)."""
    return static_fragment("notifications/_bell_shell.html", badge=badge_html(unread_notifications(context)))
