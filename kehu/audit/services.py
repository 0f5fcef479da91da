"""Writes of the audit app. There is no update or delete service: the log is append-only.

* `object_change_record`: one explicit event (an export, the reveal of a masked value, or a change
  a service made without a signal, e.g. through ``QuerySet.update``).
* `object_changes_record_bulk`: many rows in one ``bulk_create``, for bulk writes (imports, bulk
  edits, merges), which fire no signals.
* `timeline_record`: a semantic timeline event (动态).

Who acted, from which request, IP and source comes from `kehu.core.context.current()`; an explicit
``by`` overrides the user.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone

from kehu.core.context import ActorContext, current

from . import values
from .choices import ChangeAction, ChangeSource
from .models import ObjectChange, TimelineEvent

BULK_BATCH_SIZE = 500
_SOURCES = set(ChangeSource.values)
_ACTIONS = set(ChangeAction.values)

# Display names of acting users, per request id (request ids are unique, so nothing goes stale).
_name_cache: dict[tuple[str, int], str] = {}


def _user_name(user_id: int, request_id: str) -> str:
    key = (request_id, user_id)
    if request_id and key in _name_cache:
        return _name_cache[key]
    user = get_user_model()._base_manager.filter(pk=user_id).first()
    name = values.short_repr(user)[:150] if user is not None else f"#{user_id}"
    if request_id:
        if len(_name_cache) > 1000:
            _name_cache.clear()
        _name_cache[key] = name
    return name


def _actor(by: Any, ctx: ActorContext) -> tuple[int | None, str]:
    if by is not None and getattr(by, "is_authenticated", False) and by.pk is not None:
        return by.pk, values.short_repr(by)[:150]
    if ctx.user_id is not None:
        return ctx.user_id, _user_name(ctx.user_id, ctx.request_id)
    return None, ""


def _ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _int_or_none(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -(2**63) <= number < 2**63 else None


def _check_action(action: str) -> str:
    if action not in _ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return str(action)


def _parent(parent: Any) -> tuple[str, int | None]:
    if parent is None:
        return "", None
    if isinstance(parent, models.Model):
        return parent._meta.label_lower, _int_or_none(parent.pk)
    label, pk = parent
    return str(label).lower(), _int_or_none(pk)


def new_object_change(
    *,
    model_label: str,
    object_id: Any,
    object_repr: str,
    action: str,
    changes: dict[str, Any] | None,
    by: Any = None,
    parent: Any = None,
    bulk: bool = False,
    time: dt.datetime | None = None,
    ctx: ActorContext | None = None,
) -> ObjectChange:
    """An unsaved `ObjectChange` filled from the acting context (shared by every writer)."""
    ctx = ctx or current()
    user_id, user_name = _actor(by, ctx)
    parent_model, parent_id = _parent(parent)
    return ObjectChange(
        time=time or timezone.now(),
        user_id=user_id,
        user_name=user_name,
        request_id=(ctx.request_id or "")[:64],
        ip=_ip(ctx.ip),
        source=ctx.source if ctx.source in _SOURCES else ChangeSource.WEB,
        model=model_label.lower(),
        object_id=_int_or_none(object_id),
        object_repr=values.clean_text(object_repr or "")[: values.REPR_MAX],
        action=_check_action(action),
        bulk=bulk,
        changes=values.json_safe(changes or {}),
        parent_model=parent_model,
        parent_id=parent_id,
    )


@transaction.atomic
def object_change_record(
    *,
    obj: models.Model | type[models.Model],
    action: str,
    changes: dict[str, Any] | None = None,
    by: Any = None,
    parent: models.Model | tuple[str, int] | None = None,
) -> ObjectChange:
    """Record one explicit event on `obj` (an instance, or a model class for events on a whole
    model such as an export). Conventions for `changes`: export ``{"rows": n, "params": {...}}``;
    reveal ``{"revealed": ["phone"]}`` (never the revealed value itself)."""
    parent_ref: Any = parent
    if isinstance(obj, type):
        label, object_id, text = obj._meta.label_lower, None, str(obj._meta.verbose_name_plural)
    else:
        label, object_id, text = obj._meta.label_lower, obj.pk, values.short_repr(obj)
        if parent_ref is None:
            from . import registry

            entry = registry.get(type(obj))
            if entry is not None:
                parent_label, parent_id = entry.parent_of(obj)
                parent_ref = (parent_label, parent_id) if parent_label else None
    change = new_object_change(
        model_label=label,
        object_id=object_id,
        object_repr=text,
        action=action,
        changes=changes,
        by=by,
        parent=parent_ref,
    )
    change.save()
    return change


RowSpec = tuple[Any, str, dict[str, Any] | None] | tuple[Any, str, dict[str, Any] | None, Any]


@transaction.atomic
def object_changes_record_bulk(
    *,
    model: type[models.Model] | str,
    action: str,
    rows: Sequence[RowSpec] | Iterable[RowSpec],
    by: Any = None,
) -> int:
    """Record a bulk write: one row per object, ``(pk, repr, changes)`` or ``(pk, repr, changes,
    parent)`` where parent is a model instance or ``(label, id)``. Written with ``bulk_create`` in
    batches and marked `bulk`. Returns the number of rows written."""
    label = model if isinstance(model, str) else model._meta.label_lower
    action = _check_action(action)
    ctx = current()
    now = timezone.now()
    user_id, user_name = _actor(by, ctx)
    written = 0
    batch: list[ObjectChange] = []
    for row in rows:
        pk, text, changes = row[0], row[1], row[2]
        parent = row[3] if len(row) > 3 else None
        change = new_object_change(
            model_label=label,
            object_id=pk,
            object_repr=text,
            action=action,
            changes=changes,
            parent=parent,
            bulk=True,
            time=now,
            ctx=ctx,
        )
        change.user_id, change.user_name = user_id, user_name
        batch.append(change)
        if len(batch) >= BULK_BATCH_SIZE:
            ObjectChange.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    if batch:
        ObjectChange.objects.bulk_create(batch)
        written += len(batch)
    return written


@transaction.atomic
def timeline_record(
    *,
    event: str,
    obj: models.Model,
    by: Any,
    data: dict[str, Any] | None = None,
    account_id: int | None = None,
    contact_id: int | None = None,
    occurred_at: dt.datetime | None = None,
) -> TimelineEvent:
    """Write a timeline event ("lead.converted", "opportunity.stage_moved" ...) on `obj`, with
    its old/new values in `data`. `account_id` also puts it on that account's 360° timeline,
    `contact_id` on that contact's.

    `data` conventions the timeline shows: ``title`` (a subject line), ``body`` (plain text),
    ``changes`` (``{field of obj's model: [before, after]}``, shown as a diff with labels).
    Keys named like fields of obj's model follow the viewer's field permissions."""
    ctx = current()
    user_id, user_name = _actor(by, ctx)
    return TimelineEvent.objects.create(
        occurred_at=occurred_at or timezone.now(),
        event=event[:64],
        model=obj._meta.label_lower,
        object_id=obj.pk,
        object_repr=values.short_repr(obj),
        account_id=account_id,
        contact_id=contact_id,
        actor_id=user_id,
        actor_name=user_name,
        data=values.json_safe(data or {}),
        request_id=(ctx.request_id or "")[:64],
    )
