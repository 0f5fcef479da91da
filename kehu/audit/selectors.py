"""Reads of the audit app, always scoped to the viewer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Q, QuerySet

from kehu.core import permissions
from kehu.core.choices import Action

from . import registry
from .models import ObjectChange, TimelineEvent

# The model whose records have a 360° timeline gathering events by `account_id` (customers sits
# above audit, so it is named, not imported).
ACCOUNT_MODEL = "customers.account"


def can_view_log(user: Any) -> bool:
    """The operation log is for administrators and roles holding "view" on audit.objectchange."""
    return permissions.is_admin(user) or permissions.can(user, ObjectChange, Action.VIEW)


def object_change_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[ObjectChange]:
    """The operation log rows `user` may see (their role's data scope: own = changes they made,
    department = changes made by their department's users, ...)."""
    if not permissions.is_admin(user) and not permissions.can(user, ObjectChange, action):
        return ObjectChange.objects.none()
    return ObjectChange.objects.restrict(user, action)


def audited_model(label: str) -> type[models.Model] | None:
    """The audited model for "app_label.model", or None (unknown or not audited)."""
    entry = registry.get(label) if isinstance(label, str) and label.count(".") == 1 else None
    return entry.model if entry is not None else None


def resolve_model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def visible_object(*, user: Any, model: type[models.Model], pk: Any) -> models.Model | None:
    """The record if `user` may view it (through the model's `restrict()`), else None."""
    manager = model._default_manager
    if not hasattr(manager, "restrict"):
        return None
    try:
        return manager.restrict(user, Action.VIEW).filter(pk=pk).first()
    except (TypeError, ValueError):
        return None


# Earlier ids of a record: fn(label, pk) -> ids of records now part of it (kehu.dedup registers the
# records merged into it). Their change log stays under those ids (the log is append-only) and
# shows on the record's History and timeline.
FormerIds = Callable[[str, int], Iterable[int]]
_former_ids: list[FormerIds] = []


def register_former_ids(fn: FormerIds) -> None:
    """Add a provider of a record's earlier ids (idempotent)."""
    if fn not in _former_ids:
        _former_ids.append(fn)


def record_ids(label: str, pk: Any) -> list[int]:
    """`pk` and the ids its record had before (records merged into it), `pk` first."""
    out = [int(pk)]
    for fn in _former_ids:
        out += [int(i) for i in fn(label.lower(), int(pk)) if int(i) not in out]
    return out


def _ids(pk: Any) -> list[Any]:
    return list(pk) if isinstance(pk, list | tuple | set | frozenset) else [pk]


def _children_visible_q(user: Any, label: str, pk: Any) -> Q:
    """Changes of child records (e.g. a contact on its account's History tab) show when the viewer
    may view that child now, or the child no longer exists (its deletion stays visible). Children
    of a model the viewer may not view at all never show; children of a model without data scopes
    (a role's permission rows) show with their parent. `pk`: one parent id or several."""
    q = Q(pk__in=[])
    child_labels = (
        ObjectChange.objects.filter(parent_model=label, parent_id__in=_ids(pk))
        .order_by()
        .values_list("model", flat=True)
        .distinct()
    )
    for child_label in child_labels:
        child = resolve_model(child_label)
        if child is None:
            continue
        if not hasattr(child._default_manager, "restrict"):
            q |= Q(model=child_label)
            continue
        if not permissions.can(user, child, Action.VIEW):
            continue
        visible = child._default_manager.restrict(user, Action.VIEW).values("pk")
        existing = child._base_manager.values("pk")
        q |= Q(model=child_label) & (Q(object_id__in=visible) | ~Q(object_id__in=existing))
    return q


def history_q(*, user: Any, label: str, pk: Any) -> Q:
    """The change-log rows of record (`label`, `pk`) and of its child records the viewer may see,
    including those left under the ids of records merged into it (`record_ids`). The caller has
    checked the viewer may view the record."""
    label = label.lower()
    ids = record_ids(label, pk)
    own = Q(model=label, object_id__in=ids)
    children = Q(parent_model=label, parent_id__in=ids) & _children_visible_q(user, label, ids)
    return own | children


def object_history(*, user: Any, obj: models.Model) -> QuerySet[ObjectChange]:
    """Changes of `obj` and of its child records (and of the records merged into it), for its
    History tab. The caller has loaded `obj` through `restrict(user, "view")`."""
    return ObjectChange.objects.filter(history_q(user=user, label=obj._meta.label_lower, pk=obj.pk))


def timeline_for(*, user: Any, model: type[models.Model] | str, object_id: Any) -> QuerySet[TimelineEvent]:
    """Timeline events (动态) of a record the user may view, newest first; none when the record is
    out of the user's scope. An account's timeline also gathers every event tagged with it."""
    model_cls = resolve_model(model) if isinstance(model, str) else model
    if model_cls is None or visible_object(user=user, model=model_cls, pk=object_id) is None:
        return TimelineEvent.objects.none()
    label = model_cls._meta.label_lower
    q = Q(model=label, object_id=object_id)
    if label == ACCOUNT_MODEL:
        q |= Q(account_id=object_id)
    return TimelineEvent.objects.filter(q).order_by("-occurred_at", "-id")


# The 360° timelines live in `timeline` (they present rows through `display`, which imports this
# module); these wrappers are the documented entry points.


def account_timeline(
    *, user: Any, account_id: int, types: set[str] | None = None, before: Any = None, limit: int = 50
) -> Any:
    """An account's 360° timeline page (`kehu.audit.timeline.TimelinePage`): newest first, events
    and field changes merged; `before` is a `timeline.Cursor` (or None for the first page)."""
    from .timeline import account_timeline as impl

    return impl(user=user, account_id=account_id, types=types, before=before, limit=limit)


def contact_timeline(
    *, user: Any, contact_id: int, types: set[str] | None = None, before: Any = None, limit: int = 50
) -> Any:
    """A contact's timeline page (see `account_timeline`)."""
    from .timeline import contact_timeline as impl

    return impl(user=user, contact_id=contact_id, types=types, before=before, limit=limit)
