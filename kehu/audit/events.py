"""Timeline event codes and their labels. Apps register the events their services write::

    from kehu.audit import events
    events.register_event("lead.converted", _("Lead converted"), icon="arrows-exchange")

Unregistered codes still work; they show as the code itself.

Timeline types: every event belongs to one type of the 360° timeline's filter chips
("interactions", "tasks", "events", ...): the `group` given to `register_event`, else the first
type whose `prefixes` match the code ("interaction.logged" is an interaction), else "events".
Field changes from the operation log are the type "changes". Apps may add types with
`register_type`.

Text in the reader's language: an event that keeps its details as data (not as a sentence in the
writer's language) registers a renderer with `register_renderer`; the timeline calls it on each
such entry as it is built and shows what it returns as the entry's text, else the stored body::

    events.register_renderer("quote.submitted", lambda entry: ...)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

# The catch-all type of semantic events, and the type of operation-log field changes.
EVENTS = "events"
CHANGES = "changes"


@dataclass(frozen=True)
class EventType:
    code: str
    label: str | Promise
    icon: str = "point"
    group: str = ""


@dataclass(frozen=True)
class TimelineType:
    """A filter chip of the timeline. `prefixes` claim event codes by their beginning."""

    key: str
    label: str | Promise
    icon: str = "point"
    order: int = 100
    prefixes: tuple[str, ...] = field(default_factory=tuple)


_events: dict[str, EventType] = {}
_types: dict[str, TimelineType] = {}


def register_event(code: str, label: str | Promise, *, icon: str = "point", group: str = "") -> None:
    """Name an event code; `group` puts it under a timeline type (default: by its prefix)."""
    _events[code] = EventType(code, label, icon, group)


# {event code: fn(entry) -> the entry's text in the active language, or None to keep the stored
# body}. `entry` is a `kehu.audit.timeline.TimelineEntry`: its `data` is the event data as the
# viewer may see it. Renderers run once per entry while the timeline is built: no queries.
Renderer = Callable[[Any], "str | None"]
_renderers: dict[str, Renderer] = {}


def register_renderer(code: str, renderer: Renderer) -> None:
    """Render the text of `code` events in the reader's language (see the module's docstring)."""
    _renderers[code] = renderer


def render_text(code: str, entry: Any) -> str | None:
    """The text the renderer of `code` gives `entry` (None: no renderer, it gave nothing, or it
    failed — the stored body then shows; a failure is logged, never a broken timeline)."""
    renderer = _renderers.get(code)
    if renderer is None:
        return None
    try:
        text = renderer(entry)
    except Exception:
        logger.exception("Timeline renderer of %s failed", code)
        return None
    return str(text) if text not in (None, "") else None


def event_type(code: str) -> EventType:
    return _events.get(code) or EventType(code, code)


def event_types() -> list[EventType]:
    return sorted(_events.values(), key=lambda e: e.code)


def register_type(
    key: str, label: str | Promise, *, icon: str = "point", order: int = 100, prefixes: tuple[str, ...] = ()
) -> None:
    """Add (or replace) a timeline type (a filter chip)."""
    _types[key] = TimelineType(key, label, icon, order, tuple(prefixes))


def timeline_types() -> list[TimelineType]:
    return sorted(_types.values(), key=lambda t: (t.order, t.key))


def timeline_type(key: str) -> TimelineType | None:
    return _types.get(key)


def group_of(code: str) -> str:
    """The timeline type of an event code."""
    registered = _events.get(code)
    if registered is not None and registered.group and registered.group in _types:
        return registered.group
    for t in timeline_types():
        if t.key not in (EVENTS, CHANGES) and any(code.startswith(p) for p in t.prefixes):
            return t.key
    return EVENTS


def _claim_q(key: str) -> Q:
    """Event codes claimed by type `key` (its registered codes and prefixes)."""
    t = _types.get(key)
    q = Q(pk__in=[])
    codes = [e.code for e in _events.values() if e.group == key]
    if codes:
        q |= Q(event__in=codes)
    for prefix in t.prefixes if t is not None else ():
        q |= Q(event__startswith=prefix)
    return q


def event_filter_q(keys: set[str]) -> Q | None:
    """The `TimelineEvent` filter for the wanted types (None: all of them). "events" (the catch-all)
    is every code that no other type claims."""
    event_keys = {k for k in keys if k != CHANGES}
    others = [t.key for t in timeline_types() if t.key not in (EVENTS, CHANGES)]
    if set(others) <= event_keys and EVENTS in event_keys:
        return None
    q = Q(pk__in=[])
    for key in event_keys - {EVENTS}:
        q |= _claim_q(key)
    if EVENTS in event_keys:
        claimed = Q(pk__in=[])
        for key in others:
            claimed |= _claim_q(key)
        # Codes with an explicit group of another type are claimed too; codes explicitly grouped
        # as "events" stay (their prefix may belong to another type).
        explicit = [e.code for e in _events.values() if e.group == EVENTS]
        q |= ~claimed | (Q(event__in=explicit) if explicit else Q(pk__in=[]))
    return q


register_type("interactions", _("Interactions"), icon="message-circle", order=10, prefixes=("interaction.",))
register_type("tasks", _("Tasks"), icon="checkbox", order=20, prefixes=("task.",))
register_type(EVENTS, _("Events"), icon="bolt", order=30)
register_type(CHANGES, _("Field changes"), icon="pencil", order=40)
