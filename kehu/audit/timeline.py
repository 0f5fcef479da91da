"""The 360° timelines of accounts and contacts (动态 / 时间线): what happened to a customer, newest
first, from two sources merged in Python:

* ``event``: `TimelineEvent` rows tagged with the record (``account_id`` / ``contact_id``) or on
  the record itself: interactions, tasks, lifecycle changes ... written by services of any app
  through `kehu.audit.services.timeline_record`;
* ``change``: `ObjectChange` field changes (create / update / delete) of the record and of its
  child records (a contact on its account: the audit registry's ``parent=``) that the viewer may
  see.

One query per source (plus one to list the child models that have changes, and one per model to
check which linked records the viewer may open); each source fetches ``limit + 1`` rows after the
cursor, the merge keeps the newest ``limit``. The cursor is the composite key of the last entry,
(occurred_at, source, id), so paging is stable when two rows share a timestamp.

Field permissions apply to both sources: a field hidden from the viewer is left out, a masked one
is masked, in operation-log diffs (`display.present`) and in event data (`display.visible_event_data`)
alike; an update that only touched hidden fields is not shown at all.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from kehu.core.choices import Action

from . import events
from .display import FIELD_ACTIONS, FieldChange, ModesCache, event_field_changes, present, visible_event_data
from .models import ObjectChange, TimelineEvent
from .selectors import history_q, resolve_model, visible_object

ACCOUNT_MODEL = "customers.account"
CONTACT_MODEL = "customers.contact"

EVENT = "event"
CHANGE = "change"
# Order of the sources at the same instant (newest first: a higher rank comes first).
SOURCE_RANK = {CHANGE: 0, EVENT: 1}
MAX_LIMIT = 200

CHANGE_ICONS = {"create": "plus", "update": "pencil", "delete": "trash"}
# Icon colours of event entries per timeline type (Tabler colour names).
TYPE_COLOURS = {"interactions": "blue", "tasks": "green", events.EVENTS: "purple"}
CHANGE_COLOURS = {"create": "green", "update": "blue", "delete": "red"}


class CursorError(ValueError):
    """A malformed timeline cursor."""


@dataclass(frozen=True)
class Cursor:
    occurred_at: dt.datetime
    source: str
    id: int

    def encode(self) -> str:
        raw = f"{self.occurred_at.isoformat()}|{self.source}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        if not token or len(token) > 200:
            raise CursorError(token)
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            time_text, source, pk_text = raw.split("|")
            time = parse_datetime(time_text)
            pk = int(pk_text)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise CursorError(token) from exc
        if time is None or time.tzinfo is None or source not in SOURCE_RANK or not 0 < pk < 2**63:
            raise CursorError(token)
        return cls(time, source, pk)


def parse_cursor(token: str | None) -> Cursor | None:
    """The cursor in a query parameter (None when empty); `CursorError` when malformed."""
    return Cursor.decode(token) if token else None


@dataclass
class TimelineEntry:
    """One row of a timeline, the same shape for both sources."""

    source: str  # "event" | "change"
    id: int
    kind: str  # the timeline type (filter chip): "interactions", "tasks", "events", "changes" ...
    code: str  # the event code ("interaction.logged") or the change action ("update")
    occurred_at: dt.datetime
    actor: str
    actor_id: int | None
    title: str
    subject: str = ""
    body: str = ""
    fields: list[FieldChange] = field(default_factory=list)
    url: str | None = None
    icon: str = "point"
    colour: str = "secondary"
    model: str = ""
    object_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)  # event data as the viewer may see it

    @property
    def key(self) -> tuple[dt.datetime, int, int]:
        return (self.occurred_at, SOURCE_RANK[self.source], self.id)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.occurred_at, self.source, self.id)


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: Cursor | None = None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def _after(cursor: Cursor | None, source: str, time_field: str) -> Q:
    """Rows of `source` that come after `cursor` in (time desc, source rank desc, id desc)."""
    if cursor is None:
        return Q()
    rank, cursor_rank = SOURCE_RANK[source], SOURCE_RANK[cursor.source]
    older = Q(**{f"{time_field}__lt": cursor.occurred_at})
    if rank < cursor_rank:  # at the same instant this source comes after the cursor's
        return older | Q(**{time_field: cursor.occurred_at})
    if rank > cursor_rank:
        return older
    return older | Q(**{time_field: cursor.occurred_at, "id__lt": cursor.id})


def _wanted(types: set[str] | None) -> tuple[bool, Q | None, bool]:
    """(fetch events?, their extra filter, fetch changes?)."""
    if types is None:
        return True, None, True
    event_keys = {t for t in types if t != events.CHANGES}
    known = {t.key for t in events.timeline_types()}
    event_keys &= known
    return (
        bool(event_keys),
        events.event_filter_q(event_keys) if event_keys else None,
        events.CHANGES in types,
    )


def _event_entries(rows: list[TimelineEvent], modes: ModesCache) -> list[TimelineEntry]:
    out = []
    for ev in rows:
        etype = events.event_type(ev.event)
        model_modes = modes.for_label(ev.model)
        data = visible_event_data(ev.data, model_modes)
        model = resolve_model(ev.model)
        title_value = data.get("title")
        body_value = data.get("body")
        kind = events.group_of(ev.event)
        out.append(
            TimelineEntry(
                source=EVENT,
                id=ev.pk,
                kind=kind,
                code=ev.event,
                occurred_at=ev.occurred_at,
                actor=ev.actor_name,
                actor_id=ev.actor_id,
                title=str(etype.label),
                subject=str(title_value) if title_value not in (None, "") else ev.object_repr,
                body=str(body_value) if body_value not in (None, "") else "",
                fields=event_field_changes(model, data, model_modes),
                icon=etype.icon,
                colour=TYPE_COLOURS.get(kind, "azure"),
                model=ev.model,
                object_id=ev.object_id,
                data=data,
            )
        )
        # An app's renderer writes the text from the data in the reader's language.
        rendered = events.render_text(ev.event, out[-1])
        if rendered is not None:
            out[-1].body = rendered
    return out


def _change_entries(
    rows: list[ObjectChange], modes: ModesCache, label: str, pk: Any = None
) -> list[TimelineEntry]:
    out = []
    for change in rows:
        view = present(change, modes, parent_label=label, parent_pk=pk)
        if view is None:
            continue
        title = _("%(model)s · %(action)s") % {
            "model": view.model_name,
            "action": change.get_action_display(),
        }
        out.append(
            TimelineEntry(
                source=CHANGE,
                id=change.pk,
                kind=events.CHANGES,
                code=change.action,
                occurred_at=change.time,
                actor=change.user_name,
                actor_id=change.user_id,
                title=title,
                subject=view.object_repr if view.is_child else "",
                fields=view.fields,
                icon=CHANGE_ICONS.get(change.action, "pencil"),
                colour=CHANGE_COLOURS.get(change.action, "secondary"),
                model=change.model,
                object_id=change.object_id,
            )
        )
    return out


def _detail_url(model: Any, pk: int) -> str | None:
    """The record's page by the URL naming convention ``<app>:<model>_detail`` (None without)."""
    try:
        return reverse(f"{model._meta.app_label}:{model._meta.model_name}_detail", args=[pk])
    except NoReverseMatch:
        return None


def _link(user: Any, entries: list[TimelineEntry], own: tuple[str, int]) -> None:
    """Set `url` on entries whose record the viewer may open (one query per model)."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for e in entries:
        if e.object_id is not None and (e.model, e.object_id) != own:
            wanted[e.model].add(e.object_id)
    urls: dict[tuple[str, int], str | None] = {}
    for label, ids in wanted.items():
        model = resolve_model(label)
        manager = getattr(model, "_default_manager", None) if model is not None else None
        if model is None or manager is None or not hasattr(manager, "restrict"):
            continue
        for pk in manager.restrict(user, Action.VIEW).filter(pk__in=ids).values_list("pk", flat=True):
            urls[(label, pk)] = _detail_url(model, pk)
    for e in entries:
        if e.object_id is not None:
            e.url = urls.get((e.model, e.object_id))


def record_timeline(
    *,
    user: Any,
    label: str,
    pk: int,
    event_q: Q,
    types: set[str] | None = None,
    before: Cursor | None = None,
    limit: int = 50,
) -> TimelinePage:
    """The merged timeline of record (`label`, `pk`), which the caller has checked the viewer may
    view: events matching `event_q` and the operation-log field changes of the record and of its
    visible child records."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    fetch_events, event_filter, fetch_changes = _wanted(types)
    modes = ModesCache(user)
    entries: list[TimelineEntry] = []
    # A source that has more rows than fetched is complete only down to its last fetched row (its
    # "horizon"); entries older than the newest horizon wait for the next page.
    horizons: list[Cursor] = []
    if fetch_events:
        qs = TimelineEvent.objects.filter(event_q).filter(_after(before, EVENT, "occurred_at"))
        if event_filter is not None:
            qs = qs.filter(event_filter)
        rows = list(qs.order_by("-occurred_at", "-id")[: limit + 1])
        if len(rows) > limit:
            horizons.append(Cursor(rows[limit - 1].occurred_at, EVENT, rows[limit - 1].pk))
        entries += _event_entries(rows[:limit], modes)
    if fetch_changes:
        qs_changes = (
            ObjectChange.objects.filter(history_q(user=user, label=label, pk=pk))
            .filter(action__in=FIELD_ACTIONS)
            .filter(_after(before, CHANGE, "time"))
        )
        changes = list(qs_changes.order_by("-time", "-id")[: limit + 1])
        if len(changes) > limit:
            horizons.append(Cursor(changes[limit - 1].time, CHANGE, changes[limit - 1].pk))
        # Updates of fields hidden from the viewer drop out here.
        entries += _change_entries(changes[:limit], modes, label, pk)
    entries.sort(key=lambda e: e.key, reverse=True)
    cutoff = max(horizons, key=_cursor_key) if horizons else None
    if cutoff is not None:
        entries = [e for e in entries if e.key >= _cursor_key(cutoff)]
    page_entries = entries[:limit]
    next_cursor: Cursor | None = None
    if len(entries) > limit:
        next_cursor = page_entries[-1].cursor
    elif cutoff is not None:
        next_cursor = cutoff
    _link(user, page_entries, (label, pk))
    return TimelinePage(entries=page_entries, next_cursor=next_cursor)


def _cursor_key(cursor: Cursor) -> tuple[dt.datetime, int, int]:
    return (cursor.occurred_at, SOURCE_RANK[cursor.source], cursor.id)


def account_timeline(
    *,
    user: Any,
    account_id: int,
    types: set[str] | None = None,
    before: Cursor | None = None,
    limit: int = 50,
) -> TimelinePage:
    """An account's 360° timeline: events tagged with the account (or on it) and the field changes
    of the account and of its contacts the viewer may see. Empty when the account is outside the
    viewer's scope."""
    model = resolve_model(ACCOUNT_MODEL)
    if model is None or visible_object(user=user, model=model, pk=account_id) is None:
        return TimelinePage(entries=[])
    event_q = Q(account_id=account_id) | Q(model=ACCOUNT_MODEL, object_id=account_id)
    return record_timeline(
        user=user,
        label=ACCOUNT_MODEL,
        pk=account_id,
        event_q=event_q,
        types=types,
        before=before,
        limit=limit,
    )


def contact_timeline(
    *,
    user: Any,
    contact_id: int,
    types: set[str] | None = None,
    before: Cursor | None = None,
    limit: int = 50,
) -> TimelinePage:
    """A contact's timeline: events tagged with the contact (or on it) and its field changes."""
    model = resolve_model(CONTACT_MODEL)
    if model is None or visible_object(user=user, model=model, pk=contact_id) is None:
        return TimelinePage(entries=[])
    event_q = Q(contact_id=contact_id) | Q(model=CONTACT_MODEL, object_id=contact_id)
    return record_timeline(
        user=user,
        label=CONTACT_MODEL,
        pk=contact_id,
        event_q=event_q,
        types=types,
        before=before,
        limit=limit,
    )


def type_choices() -> list[tuple[str, str]]:
    """(key, label) of the timeline types, for filter chips and API validation."""
    return [(t.key, str(capfirst(str(t.label)))) for t in events.timeline_types()]


# --- records with a timeline ---------------------------------------------------------------------
# {model label: fn(pk) -> Q of the timeline events shown on that record}. Accounts and contacts
# also show the events tagged with them; other apps register theirs (leads, opportunities ...).
EventQ = Callable[[int], Q]
_timeline_models: dict[str, EventQ] = {
    ACCOUNT_MODEL: lambda pk: Q(account_id=pk) | Q(model=ACCOUNT_MODEL, object_id=pk),
    CONTACT_MODEL: lambda pk: Q(contact_id=pk) | Q(model=CONTACT_MODEL, object_id=pk),
}


def register_timeline_model(label: str, event_q: EventQ | None = None) -> None:
    """Give records of `label` a Timeline tab: the events written on them (or those `event_q`
    selects) and their field changes."""
    label = label.lower()
    _timeline_models[label] = event_q or (lambda pk: Q(model=label, object_id=pk))


def has_timeline(label: str) -> bool:
    return label.lower() in _timeline_models


def timeline_of(
    *,
    user: Any,
    label: str,
    pk: int,
    types: set[str] | None = None,
    before: Cursor | None = None,
    limit: int = 50,
) -> TimelinePage:
    """The timeline of any registered record (empty when it is outside the viewer's scope)."""
    label = label.lower()
    model = resolve_model(label)
    if (
        model is None
        or label not in _timeline_models
        or visible_object(user=user, model=model, pk=pk) is None
    ):
        return TimelinePage(entries=[])
    return record_timeline(
        user=user,
        label=label,
        pk=pk,
        event_q=_timeline_models[label](pk),
        types=types,
        before=before,
        limit=limit,
    )
