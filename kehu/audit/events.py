"""Timeline event codes and their labels. Apps register the events their services write::

    from kehu.audit import events
    events.register_event("lead.converted", _("Lead converted"), icon="arrows-exchange")

Unregistered codes still work; they show as the code itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class EventType:
    code: str
    label: str | Promise
    icon: str = "point"


_events: dict[str, EventType] = {}


def register_event(code: str, label: str | Promise, *, icon: str = "point") -> None:
    _events[code] = EventType(code, label, icon)


def event_type(code: str) -> EventType:
    return _events.get(code) or EventType(code, code)


def event_types() -> list[EventType]:
    return sorted(_events.values(), key=lambda e: e.code)
