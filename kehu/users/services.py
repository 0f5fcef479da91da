"""Writes of the users app: users, departments, roles and their permissions, API tokens.

Every function is keyword-only, typed and atomic. `by` is the acting user (None for the system: the
demo loader, management commands, tests). When `by` is a user, the write is re-checked against their
data scope afterwards (you may not move a user out of your own reach by editing them), and the
changes only an administrator may make (granting the administrator role, touching an administrator
account) are refused to everyone else.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core.choices import Action, FieldMode, Scope
from kehu.core.errors import (
    ConflictError,
    DomainError,
    OutOfScopeError,
    PermissionDeniedError,
    StaleObjectError,
)
from kehu.core.permissions import is_admin, managed_model

from .backends import clear_cache
from .models import TIME_ZONE_CHOICES, ApiToken, Department, FieldPermission, Role, RolePermission, User
from .selectors import restrictable_fields
from .tokens import hash_key

PATH_STEP = 4  # "0001." per level: 9999 children per department
TOKEN_PREFIX = "kh_"
_TIME_ZONES = {tz for tz, _label in TIME_ZONE_CHOICES}
_LANGUAGES = {code for code, _label in User.Language.choices}

# Grants and field modes are written as plain tuples: (model label, action, scope) and
# (model label, field, mode).
Grant = tuple[str, str, str]
FieldGrant = tuple[str, str, str]


# --- helpers --------------------------------------------------------------------------------------


def _acting_admin(by: Any) -> bool:
    return by is None or is_admin(by)


def _require_admin(by: Any, message: str) -> None:
    if not _acting_admin(by):
        raise PermissionDeniedError(message, code="admin_required")


def _recheck_scope(*, user: User, by: Any, action: str) -> None:
    """After a write: the acting user must still reach the user they changed."""
    if by is None:
        return
    clear_cache(by)
    if not User.objects.restrict(by, action).filter(pk=user.pk).exists():
        raise OutOfScopeError(
            _("This change would move the user outside your data scope."),
            fields={"department": [_("Choose a department within your data scope.")]},
        )


def _target_is_admin(user: User) -> bool:
    return bool(user.is_superuser or user.roles.filter(is_admin=True).exists())


def _guard_admin_target(*, user: User, by: Any) -> None:
    if _target_is_admin(user):
        _require_admin(by, _("Only a system administrator may change an administrator's account."))


def _clean_language(language: str) -> str:
    if language and language not in _LANGUAGES:
        raise DomainError(
            _("Unknown language."), code="invalid_language", fields={"language": [_("Unknown language.")]}
        )
    return language


def _clean_time_zone(time_zone: str) -> str:
    if time_zone and time_zone not in _TIME_ZONES:
        raise DomainError(
            _("Unknown time zone."),
            code="invalid_time_zone",
            fields={"time_zone": [_("Unknown time zone.")]},
        )
    return time_zone


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(
            _("The password is not strong enough."),
            code="weak_password",
            fields={"password": list(exc.messages)},
        ) from None


def _check_username(username: str, *, exclude: int | None = None) -> str:
    username = username.strip()
    if not username:
        raise DomainError(
            _("A username is required."), code="invalid", fields={"username": [_("This field is required.")]}
        )
    validator = User.username_validator
    try:
        validator(username)
    except ValidationError as exc:
        raise DomainError(
            _("The username is not valid."), code="invalid_username", fields={"username": list(exc.messages)}
        ) from None
    qs = User.objects.filter(username__iexact=username)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ConflictError(
            _("A user with this username already exists."),
            code="username_taken",
            fields={"username": [_("A user with this username already exists.")]},
        )
    return username


def _check_email(email: str, *, exclude: int | None = None) -> str:
    """E-mail addresses are stored lower-cased and unique: they are a login name too."""
    email = email.strip().lower()
    if not email:
        return ""
    qs = User.objects.filter(email__iexact=email)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ConflictError(
            _("Another user already has this e-mail address."),
            code="email_taken",
            fields={"email": [_("Another user already has this e-mail address.")]},
        )
    return email


def _check_roles(roles: Iterable[Role], *, by: Any, current: Iterable[Role] = ()) -> list[Role]:
    roles = list(roles)
    before = {r.pk for r in current}
    changed_admin = [r for r in roles if r.is_admin and r.pk not in before]
    removed_admin = [r for r in current if r.is_admin and r.pk not in {x.pk for x in roles}]
    if changed_admin or removed_admin:
        _require_admin(by, _("Only a system administrator may grant or remove the administrator role."))
    return roles


def _admins_exist() -> bool:
    return User.objects.filter(is_active=True).filter(Q(is_superuser=True) | Q(roles__is_admin=True)).exists()


def _ensure_admin_remains(had_admins: bool) -> None:
    """Somebody must always be able to manage users and roles."""
    if had_admins and not _admins_exist():
        raise DomainError(
            _("This change would leave Kehu without an active administrator."), code="last_admin"
        )


def _forget_email_addresses(user: User) -> None:
    """allauth keeps its own e-mail table; an administrator's change of the address wins."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email or "-").delete()


# --- users ----------------------------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    by: User | None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    display_name: str = "",
    department: Department | None = None,
    roles: Iterable[Role] = (),
    language: str = "",
    time_zone: str = "",
    phone: str = "",
    title: str = "",
    is_active: bool = True,
) -> User:
    """Create a user. Without a password the account cannot sign in until one is set (e.g. by the
    password-reset e-mail)."""
    username = _check_username(username)
    email = _check_email(email)
    roles = _check_roles(roles, by=by)
    user = User(
        username=username,
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        display_name=display_name.strip(),
        department=department,
        language=_clean_language(language),
        time_zone=_clean_time_zone(time_zone),
        phone=phone.strip(),
        title=title.strip(),
        is_active=is_active,
    )
    if password:
        _check_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user.roles.set(roles)
    _recheck_scope(user=user, by=by, action=Action.ADD)
    return user


_UPDATABLE: tuple[str, ...] = (
    "email",
    "first_name",
    "last_name",
    "display_name",
    "department",
    "language",
    "time_zone",
    "phone",
    "title",
)


@transaction.atomic
def user_update(
    *,
    user: User,
    by: User | None,
    version: int | None = None,
    roles: Iterable[Role] | None = None,
    **changes: Any,
) -> User:
    """Change a user's profile fields (`username`, `email`, `first_name`, `last_name`,
    `display_name`, `department`, `language`, `time_zone`, `phone`, `title`) and roles.

    `version` is the version the editor started from; a different stored version means someone else
    saved in between, and the edit is refused with StaleObjectError."""
    allowed = {"username", *_UPDATABLE}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"user_update() got unexpected fields: {sorted(unknown)}")
    locked = User.objects.select_for_update().get(pk=user.pk)
    if version is not None and locked.version != version:
        raise StaleObjectError(
            _("Someone else changed this user while you were editing. Reload the page and try again."),
        )
    if by is not None and by.pk != locked.pk:
        _guard_admin_target(user=locked, by=by)
    if "username" in changes:
        changes["username"] = _check_username(changes["username"], exclude=locked.pk)
    if "email" in changes:
        changes["email"] = _check_email(changes["email"] or "", exclude=locked.pk)
    if "language" in changes:
        changes["language"] = _clean_language(changes["language"] or "")
    if "time_zone" in changes:
        changes["time_zone"] = _clean_time_zone(changes["time_zone"] or "")
    for key in ("first_name", "last_name", "display_name", "phone", "title"):
        if key in changes:
            changes[key] = (changes[key] or "").strip()
    email_changed = "email" in changes and changes["email"] != locked.email
    for key, value in changes.items():
        setattr(locked, key, value)
    locked.version += 1
    locked.save(update_fields=[*changes, "version"])
    if roles is not None:
        roles = _check_roles(roles, by=by, current=list(locked.roles.all()))
        had_admins = _admins_exist()
        locked.roles.set(roles)
        clear_cache(locked)
        _ensure_admin_remains(had_admins)
    if email_changed:
        _forget_email_addresses(locked)
    if by is not None and by.pk != locked.pk:
        _recheck_scope(user=locked, by=by, action=Action.CHANGE)
    elif by is not None:
        clear_cache(by)
    # Keep the caller's object in step (the request user may be the edited user).
    for key in ("version", *changes):
        setattr(user, key, getattr(locked, key))
    return locked


@transaction.atomic
def user_update_profile(
    *,
    user: User,
    display_name: str,
    phone: str,
    language: str,
    time_zone: str,
    version: int | None = None,
) -> User:
    """A user's own settings: display name, phone, language and time zone."""
    return user_update(
        user=user,
        by=user,
        version=version,
        display_name=display_name,
        phone=phone,
        language=language,
        time_zone=time_zone,
    )


@transaction.atomic
def user_set_language(*, user: User, language: str) -> User:
    """The language switch in the top bar: remembered for a signed-in user."""
    language = _clean_language(language)
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str, by: User | None) -> User:
    """An administrator sets a new password for a user (the user's sessions elsewhere end)."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if by is not None and by.pk != locked.pk:
        _guard_admin_target(user=locked, by=by)
    _check_password(password, locked)
    locked.set_password(password)
    locked.version += 1
    locked.save(update_fields=["password", "version"])
    user_unlock(user=locked, by=None)
    user.password = locked.password
    user.version = locked.version
    return locked


@transaction.atomic
def user_unlock(*, user: User, by: User | None) -> int:
    """Lift a sign-in lockout (django-axes) before its cool-off ends. Returns the attempts cleared."""
    from axes.utils import reset

    if by is not None and by.pk != user.pk:
        _guard_admin_target(user=user, by=by)
    return int(reset(username=user.username.lower()) or 0)


@transaction.atomic
def user_deactivate(*, user: User, by: User | None) -> User:
    """Users are never deleted (they own records and appear in the operation log): deactivating
    stops sign-in and API access, and revokes the user's API tokens."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if by is not None and by.pk == locked.pk:
        raise DomainError(_("You cannot deactivate your own account."), code="cannot_deactivate_self")
    if by is not None:
        _guard_admin_target(user=locked, by=by)
    if locked.is_active:
        had_admins = _admins_exist()
        locked.is_active = False
        locked.version += 1
        locked.save(update_fields=["is_active", "version"])
        _ensure_admin_remains(had_admins)
        ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(revoked_at=timezone.now())
    user.is_active = locked.is_active
    user.version = locked.version
    return locked


@transaction.atomic
def user_activate(*, user: User, by: User | None) -> User:
    locked = User.objects.select_for_update().get(pk=user.pk)
    if by is not None:
        _guard_admin_target(user=locked, by=by)
    if not locked.is_active:
        locked.is_active = True
        locked.version += 1
        locked.save(update_fields=["is_active", "version"])
    user.is_active = locked.is_active
    user.version = locked.version
    return locked


# --- departments ----------------------------------------------------------------------------------


def _child_path(parent: Department | None) -> str:
    siblings = Department.objects.filter(parent=parent)
    prefix = parent.path if parent else ""
    last = siblings.aggregate(m=Max("path"))["m"]
    number = int(last[len(prefix) : len(prefix) + PATH_STEP]) + 1 if last else 1
    if number >= 10**PATH_STEP:
        raise DomainError(_("This department has too many sub-departments."), code="department_full")
    return f"{prefix}{number:0{PATH_STEP}d}."


def _check_department_name(name: str, *, parent: Department | None, exclude: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise DomainError(
            _("A department needs a name."), code="invalid", fields={"name": [_("This field is required.")]}
        )
    qs = Department.objects.filter(parent=parent, name__iexact=name)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ConflictError(
            _("A department with this name already exists at this level."),
            code="department_name_taken",
            fields={"name": [_("A department with this name already exists at this level.")]},
        )
    return name


@transaction.atomic
def department_create(
    *, name: str, parent: Department | None = None, by: User | None, manager: User | None = None
) -> Department:
    if parent is not None:
        parent = Department.objects.select_for_update().get(pk=parent.pk)
    name = _check_department_name(name, parent=parent)
    path = _child_path(parent)
    return Department.objects.create(
        name=name, parent=parent, path=path, depth=0 if parent is None else parent.depth + 1, manager=manager
    )


@transaction.atomic
def department_update(
    *, department: Department, by: User | None, name: str, manager: User | None = None
) -> Department:
    """Rename a department and set its manager."""
    locked = Department.objects.select_for_update().get(pk=department.pk)
    locked.name = _check_department_name(name, parent=locked.parent, exclude=locked.pk)
    locked.manager = manager
    locked.save(update_fields=["name", "manager", "updated_at"])
    return locked


@transaction.atomic
def department_rename(*, department: Department, name: str, by: User | None) -> Department:
    return department_update(department=department, by=by, name=name, manager=department.manager)


@transaction.atomic
def department_move(*, department: Department, parent: Department | None, by: User | None) -> Department:
    """Move a department (and its subtree) under another parent; paths are rewritten in one pass."""
    department = Department.objects.select_for_update().get(pk=department.pk)
    if parent is not None:
        parent = Department.objects.select_for_update().get(pk=parent.pk)
    if parent is not None and parent.path.startswith(department.path):
        raise DomainError(
            _("A department cannot be moved under itself or one of its sub-departments."),
            code="department_cycle",
            fields={"parent": [_("Choose a department outside this one's subtree.")]},
        )
    if (parent.pk if parent else None) == department.parent_id:
        return department
    _check_department_name(department.name, parent=parent, exclude=department.pk)
    old_path = department.path
    new_path = _child_path(parent)
    depth_delta = (0 if parent is None else parent.depth + 1) - department.depth
    subtree = list(Department.objects.filter(path__startswith=old_path))
    for node in subtree:
        node.path = new_path + node.path[len(old_path) :]
        node.depth += depth_delta
        if node.pk == department.pk:
            node.parent = parent
    # Two steps keep the unique path constraint satisfied while paths are rewritten.
    for node in subtree:
        Department.objects.filter(pk=node.pk).update(path=f"~{node.pk}~")
    for node in subtree:
        if node.pk != department.pk:
            Department.objects.filter(pk=node.pk).update(path=node.path, depth=node.depth)
    # The moved department itself is saved normally, so the change recorder logs the new parent
    # (paths and depths of the subtree are derived data and not audited).
    moved = next(node for node in subtree if node.pk == department.pk)
    moved.save(update_fields=["parent", "path", "depth", "updated_at"])
    department.refresh_from_db()
    return department


_UNSET: Any = object()


@transaction.atomic
def department_change(
    *,
    department: Department,
    by: User | None,
    name: str | None = None,
    manager: User | None = _UNSET,
    parent: Department | None = _UNSET,
) -> Department:
    """The API's edit: rename, set the manager and move in one transaction (omitted: unchanged)."""
    department = Department.objects.get(pk=department.pk)
    if parent is not _UNSET:
        department = department_move(department=department, parent=parent, by=by)
    if name is not None or manager is not _UNSET:
        department = department_update(
            department=department,
            by=by,
            name=department.name if name is None else name,
            manager=department.manager if manager is _UNSET else manager,
        )
    return department


@transaction.atomic
def department_delete(*, department: Department, by: User | None) -> None:
    """Delete an empty department: one with members or sub-departments is refused."""
    locked = Department.objects.select_for_update().get(pk=department.pk)
    if Department.objects.filter(parent=locked).exists():
        raise ConflictError(
            _("This department has sub-departments. Move or delete them first."),
            code="department_has_children",
        )
    members = User.objects.filter(department=locked).count()
    if members:
        raise ConflictError(
            ngettext(
                "This department has %(count)d member. Move them to another department first.",
                "This department has %(count)d members. Move them to another department first.",
                members,
            )
            % {"count": members},
            code="department_has_members",
        )
    try:
        with transaction.atomic():
            locked.delete()
    except ProtectedError:
        raise ConflictError(
            _("Records still belong to this department. Move them to another department first."),
            code="department_in_use",
        ) from None


# --- roles ----------------------------------------------------------------------------------------


def _check_role_unique(*, name: str, code: str, exclude: int | None = None) -> tuple[str, str]:
    name, code = name.strip(), code.strip()
    fields: dict[str, list[str]] = {}
    if not name:
        fields["name"] = [_("This field is required.")]
    if not code:
        fields["code"] = [_("This field is required.")]
    if fields:
        raise DomainError(_("Some fields are not valid."), code="invalid", fields=fields)
    others = Role.objects.all() if exclude is None else Role.objects.exclude(pk=exclude)
    if others.filter(name__iexact=name).exists():
        fields["name"] = [_("A role with this name already exists.")]
    if others.filter(code__iexact=code).exists():
        fields["code"] = [_("A role with this code already exists.")]
    if fields:
        raise ConflictError(
            _("A role with this name or code already exists."), code="role_taken", fields=fields
        )
    return name, code


@transaction.atomic
def role_create(
    *,
    name: str,
    code: str,
    by: User | None,
    description: str = "",
    require_mfa: bool = False,
    is_admin: bool = False,
    grants: Iterable[Grant] | None = None,
    field_permissions: Iterable[FieldGrant] | None = None,
) -> Role:
    """Create a role, optionally with its permissions and field permissions."""
    if is_admin:
        _require_admin(by, _("Only a system administrator may create an administrator role."))
    name, code = _check_role_unique(name=name, code=code)
    role = Role.objects.create(
        name=name, code=code, description=description.strip(), require_mfa=require_mfa, is_admin=is_admin
    )
    if grants is not None:
        role_set_permissions(role=role, grants=grants, by=by)
    if field_permissions is not None:
        role_set_field_permissions(role=role, field_permissions=field_permissions, by=by)
    return role


@transaction.atomic
def role_update(
    *,
    role: Role,
    by: User | None,
    name: str | None = None,
    code: str | None = None,
    description: str | None = None,
    require_mfa: bool | None = None,
    is_admin: bool | None = None,
    grants: Iterable[Grant] | None = None,
    field_permissions: Iterable[FieldGrant] | None = None,
) -> Role:
    """Change a role. Arguments left as None keep their value; `grants` and `field_permissions`,
    when given, replace the role's whole lists."""
    locked = Role.objects.select_for_update().get(pk=role.pk)
    if locked.is_admin or is_admin:
        _require_admin(by, _("Only a system administrator may change an administrator role."))
    new_name, new_code = _check_role_unique(
        name=locked.name if name is None else name,
        code=locked.code if code is None else code,
        exclude=locked.pk,
    )
    locked.name, locked.code = new_name, new_code
    if description is not None:
        locked.description = description.strip()
    if require_mfa is not None:
        locked.require_mfa = require_mfa
    if is_admin is not None:
        locked.is_admin = is_admin
    had_admins = _admins_exist()
    locked.save()
    _ensure_admin_remains(had_admins)
    if grants is not None:
        role_set_permissions(role=locked, grants=grants, by=by)
    if field_permissions is not None:
        role_set_field_permissions(role=locked, field_permissions=field_permissions, by=by)
    if by is not None:
        clear_cache(by)
    return locked


@transaction.atomic
def role_delete(*, role: Role, by: User | None) -> None:
    """Delete a role nobody holds; a role still assigned to users is refused."""
    locked = Role.objects.select_for_update().get(pk=role.pk)
    if locked.is_admin:
        _require_admin(by, _("Only a system administrator may delete an administrator role."))
    holders = locked.users.count()
    if holders:
        raise ConflictError(
            ngettext(
                "This role is assigned to %(count)d user. Remove it from them first.",
                "This role is assigned to %(count)d users. Remove it from them first.",
                holders,
            )
            % {"count": holders},
            code="role_in_use",
        )
    locked.delete()


def _validate_grants(grants: Iterable[Grant]) -> dict[tuple[str, str], str]:
    clean: dict[tuple[str, str], str] = {}
    errors: list[str] = []
    scopes = set(Scope.values)
    for model, action, scope in grants:
        label = str(model).lower()
        managed = managed_model(label)
        if managed is None:
            errors.append(_("Unknown model: %(model)s") % {"model": model})
            continue
        if str(action) not in managed.actions:
            errors.append(
                _("%(model)s does not support the action %(action)s.")
                % {"model": managed.verbose_name, "action": action}
            )
            continue
        if str(scope) not in scopes:
            errors.append(_("Unknown data scope: %(scope)s") % {"scope": scope})
            continue
        clean[(label, str(action))] = str(scope)
    if errors:
        raise DomainError(
            _("Some permissions are not valid."), code="invalid_permissions", fields={"permissions": errors}
        )
    return clean


def _validate_field_grants(field_permissions: Iterable[FieldGrant]) -> dict[tuple[str, str], str]:
    clean: dict[tuple[str, str], str] = {}
    errors: list[str] = []
    modes = set(FieldMode.values)
    for model, field, mode in field_permissions:
        label = str(model).lower()
        if managed_model(label) is None:
            errors.append(_("Unknown model: %(model)s") % {"model": model})
            continue
        if field not in {name for name, _label in restrictable_fields(label)}:
            errors.append(
                _("%(field)s cannot be restricted on %(model)s.") % {"field": field, "model": label}
            )
            continue
        if str(mode) not in modes:
            errors.append(_("Unknown field mode: %(mode)s") % {"mode": mode})
            continue
        clean[(label, field)] = str(mode)
    if errors:
        raise DomainError(
            _("Some field permissions are not valid."),
            code="invalid_field_permissions",
            fields={"fields": errors},
        )
    return clean


def _check_role_access_change(role: Role, by: Any) -> None:
    if role.is_admin:
        _require_admin(by, _("Only a system administrator may change an administrator role."))


@transaction.atomic
def role_set_permissions(*, role: Role, grants: Iterable[Grant], by: User | None) -> list[RolePermission]:
    """Replace the role's permissions with `grants`: (model label, action, scope) tuples."""
    role = Role.objects.select_for_update().get(pk=role.pk)
    _check_role_access_change(role, by)
    wanted = _validate_grants(grants)
    existing = {(p.model, p.action): p for p in role.permissions.all()}
    for key, perm in existing.items():
        if key not in wanted:
            perm.delete()
    result: list[RolePermission] = []
    for (model, action), scope in sorted(wanted.items()):
        found = existing.get((model, action))
        if found is None:
            found = RolePermission.objects.create(role=role, model=model, action=action, scope=scope)
        elif found.scope != scope:
            found.scope = scope
            found.save(update_fields=["scope"])
        result.append(found)
    if by is not None:
        clear_cache(by)
    return result


@transaction.atomic
def role_set_field_permissions(
    *, role: Role, field_permissions: Iterable[FieldGrant], by: User | None
) -> list[FieldPermission]:
    """Replace the role's field permissions with (model label, field, mode) tuples."""
    role = Role.objects.select_for_update().get(pk=role.pk)
    _check_role_access_change(role, by)
    wanted = _validate_field_grants(field_permissions)
    existing = {(p.model, p.field): p for p in role.field_permissions.all()}
    for key, perm in existing.items():
        if key not in wanted:
            perm.delete()
    result: list[FieldPermission] = []
    for (model, field), mode in sorted(wanted.items()):
        found = existing.get((model, field))
        if found is None:
            found = FieldPermission.objects.create(role=role, model=model, field=field, mode=mode)
        elif found.mode != mode:
            found.mode = mode
            found.save(update_fields=["mode"])
        result.append(found)
    if by is not None:
        clear_cache(by)
    return result


@transaction.atomic
def role_save_access(
    *,
    role: Role,
    grants: Iterable[Grant],
    field_permissions: Iterable[FieldGrant],
    require_mfa: bool,
    is_admin: bool,
    by: User | None,
) -> Role:
    """The role editor's one save: flags, model permissions and field permissions together."""
    return role_update(
        role=role,
        by=by,
        require_mfa=require_mfa,
        is_admin=is_admin,
        grants=list(grants),
        field_permissions=list(field_permissions),
    )


# --- API tokens -----------------------------------------------------------------------------------


def _new_key() -> tuple[str, str]:
    """A key `kh_<8 hex>_<secret>`; the first part is stored in clear as the visible prefix."""
    prefix = f"{TOKEN_PREFIX}{secrets.token_hex(4)}"
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


@transaction.atomic
def api_token_create(
    *, user: User, name: str, expires_at: datetime | None = None, by: User | None = None
) -> tuple[ApiToken, str]:
    """Create a personal API token. Returns the token and the plain key, which is shown once: only
    its SHA-256 hash is stored."""
    name = name.strip()
    if not name:
        raise DomainError(
            _("Give the token a name."), code="invalid", fields={"name": [_("This field is required.")]}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(
            _("The expiry date must be in the future."),
            code="invalid_expiry",
            fields={"expires_at": [_("The expiry date must be in the future.")]},
        )
    if not user.is_active:
        raise DomainError(_("Inactive users cannot have API tokens."), code="user_inactive")
    if by is not None and by.pk != user.pk:
        _require_admin(by, _("You can only create API tokens for yourself."))
    prefix, key = _new_key()
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=prefix, key_hash=hash_key(key), expires_at=expires_at
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User | None) -> ApiToken:
    """Revoke a token (its owner or an administrator). Revoking twice is harmless."""
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if by is not None and by.pk != locked.user_id:
        _require_admin(by, _("You can only revoke your own API tokens."))
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
    token.revoked_at = locked.revoked_at
    return locked


@transaction.atomic
def api_token_mark_used(*, token: ApiToken) -> None:
    """Record that a token was used (at most once a minute per token: no write on every call)."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
