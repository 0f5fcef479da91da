"""Which models the generic change recorder audits.

Apps register their models in their ``AppConfig.ready()``::

    from kehu.audit import registry
    registry.register(Contact, exclude=("search_tokens",), parent="account")

`parent` ties a record's changes to another record's History tab too (a contact's changes show on
its account): the name of a foreign key (no query needed), or a callable returning the parent
object or None. `created_at`, `updated_at` and `version` are never recorded.

Single-row writes (``save()``, ``delete()``, many-to-many ``add/remove/set/clear``) are then
recorded by signals (see `recorder`). Bulk writes (``bulk_create``, ``QuerySet.update``, ``delete``
on large sets through raw SQL) fire no signals: their services call
`kehu.audit.services.object_changes_record_bulk` themselves, and may use `snapshot` and `diff`
here to compute the same `changes` the recorder would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from . import values

DEFAULT_EXCLUDE = frozenset({"created_at", "updated_at", "version"})

ParentSpec = str | Callable[[Any], Any] | None


@dataclass
class AuditedModel:
    model: type[models.Model]
    exclude: frozenset[str]
    parent: ParentSpec = None
    _fields: list[models.Field] | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def verbose_name(self) -> str:
        return str(self.model._meta.verbose_name)

    def tracked_fields(self) -> list[models.Field]:
        """Concrete, non-primary-key, non-generated fields that are not excluded."""
        if self._fields is None:
            self._fields = [
                f
                for f in self.model._meta.concrete_fields
                if not f.primary_key and f.name not in self.exclude and not getattr(f, "generated", False)
            ]
        return self._fields

    def m2m_fields(self) -> list[models.ManyToManyField]:
        return [f for f in self.model._meta.local_many_to_many if f.name not in self.exclude]

    def parent_of(self, instance: models.Model) -> tuple[str, int | None]:
        """(parent model label, parent id) or ("", None)."""
        spec = self.parent
        if spec is None:
            return "", None
        if isinstance(spec, str):
            fk = self.model._meta.get_field(spec)
            parent_id = getattr(instance, fk.attname)  # type: ignore[union-attr]
            if parent_id is None:
                return "", None
            return fk.related_model._meta.label_lower, parent_id  # type: ignore[union-attr]
        try:
            parent = spec(instance)
        except ObjectDoesNotExist:
            return "", None
        if parent is None or parent.pk is None:
            return "", None
        return parent._meta.label_lower, parent.pk


_registry: dict[str, AuditedModel] = {}


def register(
    model: type[models.Model],
    *,
    exclude: Iterable[str] = (),
    parent: ParentSpec = None,
) -> AuditedModel:
    """Audit every single-row create/update/delete (and many-to-many change) of `model`."""
    from . import recorder

    entry = AuditedModel(model=model, exclude=DEFAULT_EXCLUDE | frozenset(exclude), parent=parent)
    _registry[entry.label] = entry
    recorder.connect(entry)
    return entry


def get(model: type[models.Model] | str) -> AuditedModel | None:
    label = model if isinstance(model, str) else model._meta.label_lower
    return _registry.get(label.lower())


def registered_models() -> list[AuditedModel]:
    return sorted(_registry.values(), key=lambda e: e.label)


# --- pausing ---------------------------------------------------------------------------------

_paused: ContextVar[bool] = ContextVar("kehu_audit_paused", default=False)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Record nothing through signals inside this block (e.g. a bulk service that calls the bulk
    writer itself, or the demo data loader)."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


def is_paused() -> bool:
    return _paused.get()


# --- helpers for bulk services ---------------------------------------------------------------


def snapshot(instance: models.Model) -> dict[str, Any]:
    """Raw values of the audited fields of `instance` (foreign keys as ids), for `diff` later."""
    entry = get(type(instance))
    if entry is None:
        raise LookupError(f"{type(instance)._meta.label_lower} is not audited")
    return {f.name: values.raw_value(instance, f) for f in entry.tracked_fields()}


def diff(instance: models.Model, before: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` (JSON-safe) between a `snapshot` and `instance` now."""
    entry = get(type(instance))
    if entry is None:
        raise LookupError(f"{type(instance)._meta.label_lower} is not audited")
    return changed_values(entry, instance, before, instance_before=None)


def changed_values(
    entry: AuditedModel,
    instance: models.Model,
    before: dict[str, Any],
    *,
    instance_before: models.Model | None,
    only: Iterable[str] | None = None,
) -> dict[str, list[Any]]:
    only_set = set(only) if only is not None else None
    changes: dict[str, list[Any]] = {}
    for f in entry.tracked_fields():
        if only_set is not None and f.name not in only_set and f.attname not in only_set:
            continue
        if f.name not in before:
            continue
        old_raw = before[f.name]
        new_raw = values.raw_value(instance, f)
        if values.same_value(f, old_raw, new_raw):
            continue
        if f.is_relation:
            old = (
                values.display_value(instance_before, f, old_raw)
                if instance_before is not None
                else _fk_display(f, old_raw)
            )
            new = values.display_value(instance, f, new_raw)
            changes[f.name] = [old, new]
        elif isinstance(f, models.JSONField):
            changes.update(values.diff_json(f.name, values.json_safe(old_raw), values.json_safe(new_raw)))
        else:
            changes[f.name] = [values.json_safe(old_raw), values.json_safe(new_raw)]
    return changes


def _fk_display(f: models.Field, raw: Any) -> Any:
    if raw is None:
        return None
    related = f.related_model._base_manager.filter(pk=raw).first()  # type: ignore[union-attr]
    return {"id": values.json_safe(raw), "repr": values.short_repr(related) if related else f"#{raw}"}


def full_values(entry: AuditedModel, instance: models.Model, *, created: bool) -> dict[str, list[Any]]:
    """Every non-empty audited value, as [None, value] for a create or [value, None] for a delete."""
    changes: dict[str, list[Any]] = {}
    for f in entry.tracked_fields():
        raw = values.raw_value(instance, f)
        if values.is_empty(raw):
            continue
        if isinstance(f, models.JSONField):
            value = values.json_safe(raw)
            part = values.diff_json(f.name, None, value) if created else values.diff_json(f.name, value, None)
            changes.update(part)
            continue
        value = values.display_value(instance, f, raw)
        changes[f.name] = [None, value] if created else [value, None]
    return changes


# --- field permissions of detail records ------------------------------------------------------


@dataclass(frozen=True)
class ModesFrom:
    """A detail model whose values follow another model's field permissions (an account's phone
    list follows the account's "phone" permission): `fields` maps its field names to the other
    model's (a tuple: the strictest of them), `repr_field` is the field its ``str()`` shows (so
    the recorded ``object_repr`` is masked or hidden with it)."""

    model: str
    fields: dict[str, str | tuple[str, ...]]
    repr_field: str = ""


_modes_from: dict[str, ModesFrom] = {}


def field_modes_from(
    model: type[models.Model] | str,
    other: type[models.Model] | str,
    fields: dict[str, str | tuple[str, ...]],
    *,
    repr_field: str = "",
) -> None:
    """Apply `other`'s field permissions to `model`'s recorded values in the History tab, the
    operation log and the timelines (e.g. ``field_modes_from(AccountPhone, Account, {"number":
    "phone"}, repr_field="number")``)."""
    label = model if isinstance(model, str) else model._meta.label_lower
    other_label = other if isinstance(other, str) else other._meta.label_lower
    _modes_from[label.lower()] = ModesFrom(other_label.lower(), dict(fields), repr_field)


def modes_from(label: str) -> ModesFrom | None:
    return _modes_from.get(label.lower())
