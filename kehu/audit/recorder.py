"""The generic change recorder: signal receivers for the models in `registry`.

* ``pre_save`` of an existing row loads the row as the database holds it (only the fields in
  ``update_fields`` when given); ``post_save`` writes the fields that really changed, or nothing.
* ``post_save`` of a new row writes every non-empty value; ``post_delete`` writes the values the
  row had.
* ``m2m_changed`` records many-to-many changes from either side (``user.roles.add(role)`` and
  ``role.users.add(user)`` both land on the user). Several many-to-many steps on the same
  instance within one request and transaction (``roles.set()`` is a remove and an add, and a
  service often saves a record and then sets its roles) are folded into the row already written
  for that instance, so one save shows as one entry.

``raw`` saves (fixture loading) and saves inside `registry.paused()` are not recorded.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from kehu.core.context import current

from . import registry, values
from .choices import ChangeAction
from .models import ObjectChange

_BEFORE = "_kehu_audit_before"
_LAST = "_kehu_audit_last"
_M2M_BEFORE = "_kehu_audit_m2m_before"

# through model -> (audited model entry, many-to-many field)
_through: dict[type[models.Model], tuple[registry.AuditedModel, models.ManyToManyField]] = {}


def connect(entry: registry.AuditedModel) -> None:
    model, uid = entry.model, entry.label
    pre_save.connect(_pre_save, sender=model, weak=False, dispatch_uid=f"kehu-audit-pre-save-{uid}")
    post_save.connect(_post_save, sender=model, weak=False, dispatch_uid=f"kehu-audit-post-save-{uid}")
    post_delete.connect(_post_delete, sender=model, weak=False, dispatch_uid=f"kehu-audit-post-delete-{uid}")
    for field in entry.m2m_fields():
        through: type[models.Model] = field.remote_field.through  # type: ignore[assignment]
        _through[through] = (entry, field)
        m2m_changed.connect(
            _m2m_changed, sender=through, weak=False, dispatch_uid=f"kehu-audit-m2m-{uid}-{field.name}"
        )


# --- writing ---------------------------------------------------------------------------------


def _build(
    entry: registry.AuditedModel, instance: models.Model, action: str, changes: dict[str, Any]
) -> ObjectChange:
    from .services import new_object_change

    parent_label, parent_id = entry.parent_of(instance)
    change = new_object_change(
        model_label=entry.label,
        object_id=instance.pk,
        object_repr=values.short_repr(instance),
        action=action,
        changes=changes,
        parent=(parent_label, parent_id) if parent_label else None,
    )
    if (
        action == ChangeAction.DELETE
        and entry.model._meta.label == settings.AUTH_USER_MODEL
        and change.user_id == instance.pk
    ):
        # A user deleting themself: the row must not point at the deleted user.
        change.user_id = None
        change.user_name = values.short_repr(instance)[:150]
    return change


def _write(
    entry: registry.AuditedModel, instance: models.Model, action: str, changes: dict[str, Any]
) -> ObjectChange:
    change = _build(entry, instance, action, changes)
    change.save()
    _remember(instance, change)
    return change


def _remember(instance: models.Model, change: ObjectChange) -> None:
    """Keep the row just written on the instance until the transaction ends, so that following
    many-to-many steps can be folded into it."""
    marker = {
        "id": change.pk,
        "action": change.action,
        "request_id": change.request_id,
        "changes": dict(change.changes),
    }
    instance.__dict__[_LAST] = marker

    def forget() -> None:
        if instance.__dict__.get(_LAST) is marker:
            instance.__dict__.pop(_LAST, None)

    transaction.on_commit(forget)


def _fold(instance: models.Model, name: str, before: Any, after: Any) -> bool:
    """Fold a many-to-many change into the row last written for `instance`; False if there is
    none to fold into."""
    marker = instance.__dict__.get(_LAST)
    if marker is None or marker["request_id"] != (current().request_id or ""):
        return False
    changes = dict(marker["changes"])
    if name in changes:
        before = changes[name][0]
    if before == after:
        changes.pop(name, None)
    else:
        changes[name] = [before, after]
    # The row was written moments ago by this same operation; completing it is not an edit of
    # the log. (A queryset update on purpose: the model refuses save() on existing rows.) None
    # updated: the row went with a rolled-back savepoint, so a row of its own is written.
    row = ObjectChange.objects.filter(pk=marker["id"])
    if not changes and marker["action"] == ChangeAction.UPDATE:
        # e.g. a role removed and added back within one operation: nothing changed after all.
        found = row.exists()
        row.delete()
        instance.__dict__.pop(_LAST, None)
        return found
    if not row.update(changes=changes):
        instance.__dict__.pop(_LAST, None)
        return False
    marker["changes"] = changes
    return True


# --- save and delete -------------------------------------------------------------------------


def _pre_save(sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    instance.__dict__.pop(_BEFORE, None)
    if raw or registry.is_paused() or instance._state.adding or instance.pk is None:
        return
    entry = registry.get(sender)
    if entry is None:
        return
    fields = entry.tracked_fields()
    update_fields = kwargs.get("update_fields")
    if update_fields is not None:
        names = set(update_fields)
        fields = [f for f in fields if f.name in names or f.attname in names]
        if not fields:
            return
    old = sender._base_manager.filter(pk=instance.pk).first()
    if old is None:
        return
    instance.__dict__[_BEFORE] = (old, {f.name: values.raw_value(old, f) for f in fields})


def _post_save(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    before = instance.__dict__.pop(_BEFORE, None)
    if raw or registry.is_paused():
        return
    entry = registry.get(sender)
    if entry is None:
        return
    if created:
        _write(entry, instance, ChangeAction.CREATE, registry.full_values(entry, instance, created=True))
        return
    if before is None:
        return
    old, snapshot = before
    changes = registry.changed_values(entry, instance, snapshot, instance_before=old)
    if changes:
        _write(entry, instance, ChangeAction.UPDATE, changes)


def _post_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if registry.is_paused():
        return
    entry = registry.get(sender)
    if entry is None:
        return
    _write(entry, instance, ChangeAction.DELETE, registry.full_values(entry, instance, created=False))


# --- many-to-many ----------------------------------------------------------------------------


def _ids_of(
    through: type[models.Model], field: models.ManyToManyField, source_ids: list[Any]
) -> dict[Any, set[Any]]:
    """Related target ids per source id, read from the through table."""
    src = through._meta.get_field(field.m2m_field_name()).attname  # type: ignore[union-attr]
    dst = through._meta.get_field(field.m2m_reverse_field_name()).attname  # type: ignore[union-attr]
    out: dict[Any, set[Any]] = {pk: set() for pk in source_ids}
    for source_id, target_id in through._base_manager.filter(**{f"{src}__in": source_ids}).values_list(
        src, dst
    ):
        out[source_id].add(target_id)
    return out


def _sources_of(through: type[models.Model], field: models.ManyToManyField, target_id: Any) -> set[Any]:
    src = through._meta.get_field(field.m2m_field_name()).attname  # type: ignore[union-attr]
    dst = through._meta.get_field(field.m2m_reverse_field_name()).attname  # type: ignore[union-attr]
    return set(through._base_manager.filter(**{dst: target_id}).values_list(src, flat=True))


def _as_list(ids: set[Any], reprs: dict[Any, str]) -> list[dict[str, Any]]:
    try:
        ordered = sorted(ids)
    except TypeError:
        ordered = sorted(ids, key=str)
    return [{"id": values.json_safe(pk), "repr": reprs.get(pk, f"#{pk}")} for pk in ordered]


def _reprs(field: models.ManyToManyField, ids: set[Any]) -> dict[Any, str]:
    if not ids:
        return {}
    related = field.related_model._base_manager.filter(pk__in=ids)  # type: ignore[union-attr]
    return {obj.pk: values.short_repr(obj) for obj in related}


def _m2m_changed(
    sender: type[models.Model],
    instance: models.Model,
    action: str,
    reverse: bool,
    pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:
    if registry.is_paused() or sender not in _through:
        return
    entry, field = _through[sender]
    if reverse:
        _m2m_reverse(entry, field, sender, instance, action, pk_set)
        return
    if action in ("pre_add", "pre_remove", "pre_clear"):
        instance.__dict__.setdefault(_M2M_BEFORE, {})[field.name] = _ids_of(sender, field, [instance.pk])[
            instance.pk
        ]
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    before_ids = instance.__dict__.get(_M2M_BEFORE, {}).pop(field.name, None)
    if before_ids is None:
        return
    after_ids = _ids_of(sender, field, [instance.pk])[instance.pk]
    if before_ids == after_ids:
        return
    reprs = _reprs(field, before_ids | after_ids)
    before, after = _as_list(before_ids, reprs), _as_list(after_ids, reprs)
    if not _fold(instance, field.name, before, after):
        _write(entry, instance, ChangeAction.UPDATE, {field.name: [before, after]})


def _m2m_reverse(
    entry: registry.AuditedModel,
    field: models.ManyToManyField,
    through: type[models.Model],
    target: models.Model,
    action: str,
    pk_set: set[Any] | None,
) -> None:
    """`target.<related name>.add/remove/clear(...)`: the change lands on each source object."""
    pending = target.__dict__.setdefault(_M2M_BEFORE, {})
    key = f"reverse:{entry.label}.{field.name}"
    if action == "pre_remove":
        pending[key] = _sources_of(through, field, target.pk) & set(pk_set or ())
        return
    if action == "pre_clear":
        pending[key] = _sources_of(through, field, target.pk)
        return
    if action == "post_add":
        affected, added = set(pk_set or ()), True
    elif action in ("post_remove", "post_clear"):
        affected, added = pending.pop(key, set()), False
    else:
        return
    if not affected:
        return
    sources = {obj.pk: obj for obj in entry.model._base_manager.filter(pk__in=affected)}
    current_ids = _ids_of(through, field, list(sources))
    all_ids = set().union(*current_ids.values()) | {target.pk}
    reprs = _reprs(field, all_ids)
    reprs[target.pk] = values.short_repr(target)
    rows = []
    for pk, source in sources.items():
        after_ids = current_ids[pk]
        before_ids = after_ids - {target.pk} if added else after_ids | {target.pk}
        changes = {field.name: [_as_list(before_ids, reprs), _as_list(after_ids, reprs)]}
        rows.append(_build(entry, source, ChangeAction.UPDATE, changes))
    ObjectChange.objects.bulk_create(rows, batch_size=500)
