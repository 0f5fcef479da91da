"""Reads of the users app. Every user-facing list starts from `restrict()`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from allauth.mfa.models import Authenticator
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from kehu.core.choices import Action
from kehu.core.permissions import ManagedModel, managed_model, managed_models

from .models import ApiToken, Department, Role, User

# --- MFA ------------------------------------------------------------------------------------------


def user_requires_mfa(*, user: Any) -> bool:
    cached = getattr(user, "_kehu_requires_mfa", None)
    if cached is None:
        from .backends import user_roles

        cached = any(role[2] for role in user_roles(user))
        user._kehu_requires_mfa = cached
    return bool(cached)


def user_has_mfa(*, user: Any) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def user_must_enrol_mfa(*, user: Any) -> bool:
    return user_requires_mfa(user=user) and not user_has_mfa(user=user)


# --- users ----------------------------------------------------------------------------------------


def user_is_locked_out(*, user: Any) -> bool:
    """Whether django-axes currently refuses this user's sign-in (too many failures)."""
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.utils import timezone

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return AccessAttempt.objects.filter(
        username=user.username.lower(),
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=since,
    ).exists()


def user_list(
    *,
    user: Any,
    search: str = "",
    department: Department | None = None,
    include_subdepartments: bool = False,
    role: Role | None = None,
    is_active: bool | None = None,
) -> QuerySet[User]:
    qs = User.objects.restrict(user, Action.VIEW).select_related("department").prefetch_related("roles")
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(username__icontains=search)
            | Q(display_name__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(email__icontains=search)
            | Q(phone__icontains=search)
        )
    if department is not None:
        if include_subdepartments:
            qs = qs.filter(department__path__startswith=department.path)
        else:
            qs = qs.filter(department=department)
    if role is not None:
        qs = qs.filter(roles=role)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return qs.order_by("username")


def user_get(*, user: Any, pk: int, action: str = Action.VIEW) -> User:
    """A user within the acting user's scope for `action`; User.DoesNotExist otherwise."""
    return (
        User.objects.restrict(user, action).select_related("department").prefetch_related("roles").get(pk=pk)
    )


def user_choices(*, user: Any, search: str = "", limit: int = 20) -> QuerySet[User]:
    """Active users for pickers (department manager, owner)."""
    return user_list(user=user, search=search, is_active=True)[:limit]


# --- departments ----------------------------------------------------------------------------------


def department_list(*, user: Any) -> QuerySet[Department]:
    return Department.objects.restrict(user, Action.VIEW).select_related("parent", "manager")


def department_choices(*, user: Any) -> QuerySet[Department]:
    """Departments a user may pick when placing a user: those they may view, else their own
    department and below (a manager adding to their team)."""
    from kehu.core.permissions import can

    if can(user, Department, Action.VIEW):
        return department_list(user=user)
    department_id = getattr(user, "department_id", None)
    if not department_id:
        return Department.objects.none()
    own = Department.objects.filter(pk=department_id).values_list("path", flat=True).first() or "-"
    return Department.objects.filter(path__startswith=own).select_related("parent", "manager")


def department_tree(*, user: Any) -> list[Department]:
    """Departments in tree order (the materialized path sorts them), each with `member_count` and
    `child_count`."""
    return list(
        department_list(user=user)
        .annotate(
            member_count=Count("members", distinct=True),
            child_count=Count("children", distinct=True),
        )
        .order_by("path")
    )


def department_get(*, user: Any, pk: int, action: str = Action.VIEW) -> Department:
    return Department.objects.restrict(user, action).select_related("parent", "manager").get(pk=pk)


# --- roles ----------------------------------------------------------------------------------------


def role_list(*, user: Any) -> QuerySet[Role]:
    return (
        Role.objects.restrict(user, Action.VIEW)
        .annotate(user_count=Count("users", distinct=True))
        .prefetch_related("permissions")
        .order_by("name")
    )


def user_in_scope(*, user: Any, target: User, action: str) -> bool:
    return User.objects.restrict(user, action).filter(pk=target.pk).exists()


def role_get(*, user: Any, pk: int, action: str = Action.VIEW) -> Role:
    return Role.objects.restrict(user, action).get(pk=pk)


# Higher apps (custom fields) append callables `model label -> [(field name, label), ...]` in their
# AppConfig.ready(), so their fields can be restricted by field permissions too.
field_providers: list[Callable[[str], Iterable[tuple[str, str | Promise]]]] = []


def restrictable_fields(label: str) -> list[tuple[str, str]]:
    """(field name, label) a field permission may restrict on a model: the fields its registration
    lists, plus fields other apps add through `field_providers` (custom fields)."""
    managed = managed_model(label)
    if managed is None:
        return []
    out: list[tuple[str, str]] = []
    meta = managed.model._meta
    for name in managed.fields:
        try:
            verbose = str(getattr(meta.get_field(name), "verbose_name", name))
        except FieldDoesNotExist:
            verbose = name
        out.append((name, verbose))
    seen = {name for name, _label in out}
    for provider in field_providers:
        for name, extra_label in provider(label):
            if name not in seen:
                seen.add(name)
                out.append((name, str(extra_label)))
    return out


@dataclass
class MatrixCell:
    action: str
    supported: bool
    scope: str  # "" when not granted
    input_name: str = ""  # set by the editor form
    value: str = ""


@dataclass
class MatrixField:
    field: str
    label: str
    mode: str  # "" when not restricted
    input_name: str = ""
    value: str = ""


@dataclass
class MatrixRow:
    managed: ManagedModel
    label: str
    name: str
    cells: list[MatrixCell]
    fields: list[MatrixField] = field(default_factory=list)


@dataclass
class MatrixGroup:
    name: str
    rows: list[MatrixRow]


def role_matrix(*, role: Role) -> tuple[list[str], list[MatrixGroup]]:
    """The role editor: every registered model, grouped, with the role's scope per action and mode
    per restrictable field. Returns (the columns: every action some model supports, groups)."""
    grants = {(p.model, p.action): p.scope for p in role.permissions.all()}
    modes = {(p.model, p.field): p.mode for p in role.field_permissions.all()}
    # Business records first, the administration group (users, roles, ...) last.
    admin_group = str(_("Administration"))
    registered = sorted(
        managed_models(), key=lambda m: (str(m.group) == admin_group, str(m.group), m.verbose_name)
    )
    used = {action for managed in registered for action in managed.actions}
    order = [str(a) for a in Action.values]
    actions = [a for a in order if a in used] + sorted(used - set(order))
    groups: dict[str, list[MatrixRow]] = {}
    for managed in registered:
        label = managed.label
        row = MatrixRow(
            managed=managed,
            label=label,
            name=str(managed.model._meta.verbose_name_plural).capitalize(),
            cells=[
                MatrixCell(action, action in managed.actions, grants.get((label, action), ""))
                for action in actions
            ],
            fields=[
                MatrixField(name, verbose, modes.get((label, name), ""))
                for name, verbose in restrictable_fields(label)
            ],
        )
        groups.setdefault(str(managed.group), []).append(row)
    return actions, [MatrixGroup(name, rows) for name, rows in groups.items()]


# --- API tokens -----------------------------------------------------------------------------------


def api_token_list(*, user: Any) -> QuerySet[ApiToken]:
    """The signed-in user's own tokens, newest first."""
    if not getattr(user, "is_authenticated", False):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def api_token_get(*, user: Any, pk: int) -> ApiToken:
    return api_token_list(user=user).get(pk=pk)


def assignable_users() -> QuerySet[User]:
    """Users a record may be given to (any active user; whether the acting user may give it away is
    the `assign` permission, checked by the owning service)."""
    return User.objects.filter(is_active=True)


def users_by_language(user_ids: Iterable[int], *, active_only: bool = True) -> dict[str, list[int]]:
    """The (active) users among `user_ids` grouped by the language they read in (theirs, else the
    installation's), in the order given: what is written for each of them — a notification, an
    e-mail — is written once per group under ``translation.override(language)``."""
    from django.conf import settings

    ids = list(dict.fromkeys(pk for pk in user_ids if pk))
    users = User.objects.filter(pk__in=ids)
    if active_only:
        users = users.filter(is_active=True)
    languages = dict(users.values_list("pk", "language"))
    groups: dict[str, list[int]] = {}
    for pk in ids:
        if pk in languages:
            groups.setdefault(languages[pk] or settings.LANGUAGE_CODE, []).append(pk)
    return groups
