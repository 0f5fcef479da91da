"""The permission core: data scopes, model actions and field modes.

`core` does not import `users`: it asks the authentication backends, which may implement

* ``get_scope_q(user, model, action) -> Q | None``: the rows the user may act on (None: none);
* ``has_model_action(user, model, action) -> bool``: whether the user holds the action at all;
* ``get_field_modes(user, model) -> dict[str, str]``: hidden / masked / read_only per field.

Models take part by inheriting ``RestrictedQuerySet`` (``Model.objects.restrict(user, action)``) and
by being registered here with the actions a role editor may grant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import auth
from django.db import models
from django.db.models import Q
from django.utils.functional import Promise

from .choices import Action, FieldMode

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


@dataclass
class ManagedModel:
    """A model whose access is granted by roles (shown in the role editor)."""

    model: type[models.Model]
    actions: list[str]
    group: str | Promise = ""
    # Field names a FieldPermission may restrict (hide, mask, make read-only).
    fields: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def verbose_name(self) -> str:
        return str(self.model._meta.verbose_name)


_registry: dict[str, ManagedModel] = {}


def register(
    model: type[models.Model],
    *,
    actions: Iterable[str] = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE),
    group: str | Promise = "",
    fields: Iterable[str] = (),
) -> None:
    _registry[model._meta.label_lower] = ManagedModel(model, [str(a) for a in actions], group, list(fields))


def managed_models() -> list[ManagedModel]:
    return list(_registry.values())


def managed_model(label: str) -> ManagedModel | None:
    return _registry.get(label.lower())


def _is_active_user(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


# Extra rows a user may act on beyond their data scope, offered by higher apps: e.g. the sales app
# lets pool members see the unowned leads and accounts in their pools (公海). {model label: [fn]}.
ScopeExtension = Callable[[Any, str], "Q | None"]
_scope_extensions: dict[str, list[ScopeExtension]] = {}


def register_scope_extension(model_label: str, fn: ScopeExtension) -> None:
    """`fn(user, action)` returns a Q of further rows of `model_label` the user may `action`, or None.

    It is consulted only for users who hold the action in some scope (a user without "view" on
    leads sees no pool either), and ORed with that scope."""
    fns = _scope_extensions.setdefault(model_label.lower(), [])
    if fn not in fns:
        fns.append(fn)


# {AUTHENTICATION_BACKENDS: their instances}: `auth.get_backends()` imports and instantiates every
# backend at each call (≈ 35 µs), and a page asks dozens of times (the sidebar alone, thirty).
_backend_instances: dict[tuple[str, ...], list[Any]] = {}


def _backends() -> list[Any]:
    paths = tuple(settings.AUTHENTICATION_BACKENDS)
    found = _backend_instances.get(paths)
    if found is None:
        found = _backend_instances[paths] = auth.get_backends()
    return found


def scope_q(user: Any, model: type[models.Model], action: str) -> Q | None:
    """The Q that selects the rows `user` may `action`, or None when they may touch none."""
    if not _is_active_user(user):
        return None
    result: Q | None = None
    for backend in _backends():
        fn = getattr(backend, "get_scope_q", None)
        if fn is None:
            continue
        q = fn(user, model, str(action))
        if q is None:
            continue
        if not q:  # an empty Q: everything
            return Q()
        result = q if result is None else result | q
    if result is not None:
        for extension in _scope_extensions.get(model._meta.label_lower, ()):
            extra = extension(user, str(action))
            if extra is not None:
                result = result | extra
    return result


def can(user: Any, model: type[models.Model], action: str) -> bool:
    """Whether the user holds `action` on `model` in any scope (e.g. may open the "add" form)."""
    if not _is_active_user(user):
        return False
    for backend in _backends():
        fn = getattr(backend, "has_model_action", None)
        if fn is not None and fn(user, model, str(action)):
            return True
    return False


def permission_key(user: Any) -> tuple[Any, ...] | None:
    """A key that is equal for users with equal answers from `can` and `is_admin` (under one
    configuration token), to cache what depends only on those (the sidebar); None when a backend
    that answers them cannot say."""
    if not _is_active_user(user):
        return None
    keys: list[Any] = [getattr(user, "is_superuser", False)]
    for backend in _backends():
        if getattr(backend, "has_model_action", None) is None and getattr(backend, "is_admin", None) is None:
            continue
        fn = getattr(backend, "permission_key", None)
        if fn is None:
            return None
        keys.append(fn(user))
    return tuple(keys)


def field_modes(user: Any, model: type[models.Model]) -> dict[str, str]:
    """Restricted fields of `model` for `user`: {field name: hidden | masked | read_only}."""
    if not _is_active_user(user):
        return {}
    modes: dict[str, str] = {}
    for backend in _backends():
        fn = getattr(backend, "get_field_modes", None)
        if fn is not None:
            modes.update(fn(user, model))
    return modes


def hidden_fields(user: Any, model: type[models.Model]) -> set[str]:
    return {f for f, m in field_modes(user, model).items() if m == FieldMode.HIDDEN}


def readonly_fields(user: Any, model: type[models.Model]) -> set[str]:
    """Fields the user may not edit: read-only, masked and hidden ones alike."""
    return set(field_modes(user, model))


class RestrictedQuerySet(models.QuerySet):
    """Every user-facing read starts here: ``Model.objects.restrict(user, "view")``."""

    def restrict(self, user: Any, action: str = Action.VIEW) -> RestrictedQuerySet:
        q = scope_q(user, self.model, action)
        if q is None:
            return self.none()
        return self.filter(q) if q else self.all()


RestrictedManager = models.Manager.from_queryset(RestrictedQuerySet)


def is_admin(user: Any) -> bool:
    """A system administrator (superuser or a role marked as administrator), asked of the backends."""
    if not _is_active_user(user):
        return False
    if getattr(user, "is_superuser", False):
        return True
    for backend in _backends():
        fn = getattr(backend, "is_admin", None)
        if fn is not None and fn(user):
            return True
    return False
