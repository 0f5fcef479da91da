"""More cards on the notification preferences page, from the apps that own those settings.

An app registers a card in its `AppConfig.ready()`; `render(request)` returns the card's HTML
(the app's own template, form and URL), so this app never imports the higher one::

    from kehu.notifications.sections import register_section
    register_section("activities.reminders", render_reminder_defaults, order=10)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PreferenceSection:
    key: str
    render: Callable[[Any], str]  # request -> HTML of one card
    order: int = 100


_sections: dict[str, PreferenceSection] = {}


def register_section(key: str, render: Callable[[Any], str], *, order: int = 100) -> PreferenceSection:
    """Register (or replace, idempotent) a card of the preferences page."""
    section = PreferenceSection(key=key, render=render, order=order)
    _sections[key] = section
    return section


def all_sections() -> list[PreferenceSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))
