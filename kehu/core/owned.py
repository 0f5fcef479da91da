"""Rules every service writing an owned record (`OwnedModel`) applies, in one place.

Used inside the app's ``*_create`` / ``*_update`` / ``*_delete`` services (which own the
transaction)::

    check_action(by, Account, "change", obj=account)          # the record is in the user's scope
    check_version(account, version)                           # optimistic lock (409 when stale)
    check_locked_fields(by, Account, data, current=account)   # field permissions
    owner = resolve_owner(by, Account, data.get("owner"), obj=account)
    set_owner(account, owner)                                 # + the owner's department
    ...
    recheck_scope(by, account, "change", transfer=owner_changed)

Decisions (documented for every app):

* The owner defaults to the acting user. Giving a record to someone else (on create or later)
  needs the ``assign`` action; without it the owner field may not change.
* `department` is the owner's department at write time (never edited directly; every write
  re-syncs it, so a record follows an owner who moved to another department).
* After a write the record must still be within the user's scope (``view`` after a create,
  ``change`` after an update); otherwise `OutOfScopeError` and the transaction rolls back.
  The one exception is an explicit transfer: a user holding ``assign`` who changes the owner may
  hand the record to someone outside their own reach (the UI then says so).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from .choices import Action
from .errors import DomainError, OutOfScopeError, PermissionDeniedError, StaleObjectError
from .permissions import can, readonly_fields


def _restricted(model: type[models.Model], user: Any, action: str) -> models.QuerySet[Any]:
    return model._default_manager.restrict(user, action)  # type: ignore[attr-defined]


def _name(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name)


def check_action(by: Any, model: type[models.Model], action: str, *, obj: models.Model | None = None) -> None:
    """The user holds `action` on the model (and, with `obj`, the record is within that scope)."""
    if obj is None:
        allowed = can(by, model, action)
    else:
        allowed = _restricted(model, by, action).filter(pk=obj.pk).exists()
    if not allowed:
        raise PermissionDeniedError(
            _("You may not %(action)s this %(model)s.")
            % {"action": Action(action).label.lower(), "model": _name(model)}
        )


def check_version(obj: Any, version: int | None) -> None:
    """Optimistic locking: `version` is the one the user's form/request started from (None: no check)."""
    if version is not None and int(version) != obj.version:
        raise StaleObjectError(
            _(
                "Someone else changed this %(model)s after you opened it. Your changes were not saved: "
                "reload to see the current values, then make your changes again."
            )
            % {"model": _name(type(obj))},
            fields={},
        )


def check_locked_fields(
    by: Any, model: type[models.Model], data: Mapping[str, Any], *, current: models.Model | None = None
) -> None:
    """Refuse values for fields the user's field permissions make hidden, masked or read-only.

    On update, sending a locked field's unchanged value is accepted."""
    errors: dict[str, list[str]] = {}
    for name in readonly_fields(by, model):
        if name not in data:
            continue
        value = data[name]
        if current is not None and getattr(current, name, None) == value:
            continue
        if current is None and value in (None, "", [], {}):
            continue
        errors[name] = [_("You may not change this field.")]
    if errors:
        raise PermissionDeniedError(_("Some fields may not be changed by you."), fields=errors, status=400)


def resolve_owner(
    by: Any, model: type[models.Model], requested: Any, *, obj: models.Model | None = None
) -> Any:
    """The owner after this write: unchanged (or `by` on create) unless another is requested, which
    needs ``assign`` on the record and an active user."""
    current = getattr(obj, "owner", None) if obj is not None else by
    if requested is None or requested.pk == getattr(current, "pk", None):
        return current
    if obj is None:
        allowed = can(by, model, Action.ASSIGN)
    else:
        allowed = _restricted(model, by, Action.ASSIGN).filter(pk=obj.pk).exists()
    if not allowed:
        raise PermissionDeniedError(
            _("You may not assign this %(model)s to someone else.") % {"model": _name(model)},
            fields={"owner": [_("You may not assign records to other users.")]},
        )
    if not getattr(requested, "is_active", False):
        raise DomainError(
            _("The owner must be an active user."),
            code="inactive_owner",
            fields={"owner": [_("Not an active user.")]},
        )
    return requested


def set_owner(obj: Any, owner: Any) -> list[str]:
    """Owner and the owner's CURRENT department (denormalised for data scopes, re-synced on every
    write); returns the names that changed."""
    changed = []
    if obj.owner_id != getattr(owner, "pk", None):
        obj.owner = owner
        changed.append("owner")
    department_id = getattr(owner, "department_id", None) if owner is not None else None
    if obj.department_id != department_id:
        obj.department_id = department_id
        changed.append("department")
    return changed


def recheck_scope(by: Any, obj: models.Model, action: str, *, transfer: bool = False) -> None:
    """After the write: the record must still be within the user's `action` scope, unless it was an
    explicit transfer (owner changed by a user holding assign)."""
    if transfer:
        return
    if not _restricted(type(obj), by, action).filter(pk=obj.pk).exists():
        raise OutOfScopeError(
            _("This change would move the %(model)s outside your data scope, so it was not saved.")
            % {"model": _name(type(obj))}
        )


def full_clean_or_raise(obj: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Model validation (lengths, choices, formats) as a DomainError with field messages."""
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise DomainError(
            _("Some fields are not valid."),
            code="invalid",
            fields={k: [str(m) for m in v] for k, v in exc.message_dict.items()},
        ) from exc


# --- external IDs -------------------------------------------------------------------------------

DUPLICATE_EXTERNAL_ID = "duplicate_external_id"


def _advisory_lock(key: str) -> None:
    """PostgreSQL: a transaction-level advisory lock on `key` (released at commit/rollback)."""
    number = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


def check_external_id(model: type[models.Model], value: Any, *, exclude_pk: int | None = None) -> None:
    """Refuse an `external_id` (the record's id in another system: the key imports and integrations
    match on) that another record of `model` already has. Every service writing one calls this
    inside its transaction with the trimmed value, so forms, the API and imports refuse alike with
    the same field error (code ``duplicate_external_id``); `exclude_pk`: the record being updated
    (call only when the value changes). Empty values never clash. The database's partial unique
    constraint is the last line; on PostgreSQL an advisory lock on (model, value) makes two writers
    of one value run one after the other, so the second gets this error, not an IntegrityError."""
    value = str(value or "")
    if not value:
        return
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        _advisory_lock(f"kehu.external_id:{model._meta.label_lower}:{value}")
    qs = model._default_manager.filter(external_id=value)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise DomainError(
            _("Some fields are not valid."),
            code=DUPLICATE_EXTERNAL_ID,
            fields={"external_id": [_("Another record already has this external ID.")]},
        )


def apply_values(obj: models.Model, data: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    """Set the allowed keys of `data` on `obj`; return the names whose value changed."""
    changed = []
    for name in allowed:
        if name in data and getattr(obj, name) != data[name]:
            setattr(obj, name, data[name])
            changed.append(name)
    return changed


# --- owner change cascades --------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerCascade:
    """Records of another app that follow a parent record when its owner changes ("change owner,
    with related records"): e.g. the activities app moves an account's open tasks, sales its open
    opportunities. `fn(*, parent_ids, owner, by)` re-points them in bulk (audited by the callee)
    and returns how many rows moved."""

    key: str
    label: str | Promise
    fn: Callable[..., int]


_owner_cascades: dict[str, dict[str, OwnerCascade]] = {}


def register_owner_cascade(model_label: str, cascade: OwnerCascade) -> None:
    """Called from a higher app's ``AppConfig.ready()``; the owning app never imports it."""
    _owner_cascades.setdefault(model_label.lower(), {})[cascade.key] = cascade


def owner_cascades(model_label: str) -> list[OwnerCascade]:
    return list(_owner_cascades.get(model_label.lower(), {}).values())
