"""KehuBackend: username/password login plus the data-scope answers `kehu.core.permissions` asks for.

The user's roles are read once per user object (one query, which also reads the configuration
token of `kehu.core.confcache`); the grants and field permissions of a set of roles and the
department subtrees are kept across requests in the process under that token, which every change
of roles, grants, field permissions or departments replaces (`connect_cache_invalidation`).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.backends import ModelBackend
from django.db import connections, models, router
from django.db.models import Q

from kehu.core import confcache
from kehu.core.choices import FIELD_MODE_RANK, SCOPE_RANK, Scope

from .models import Department, FieldPermission, Role, RolePermission, User

_ROLES_SQL: dict[str, str] = {}


def _roles_sql(conn: Any) -> str:
    """The user's roles with the configuration token and the user's token (`user_roles`), as plain
    SQL from the models' names: it runs on every request, and the ORM took more CPU to build it
    than the database to run it."""
    from kehu.core.models import Sequence

    qn = conn.ops.quote_name
    field: Any = User._meta.get_field("roles")
    through = field.remote_field.through._meta
    columns = {f.name: f.column for f in through.concrete_fields}
    role = {f.name: qn(f.column) for f in Role._meta.concrete_fields}
    seq = {f.name: qn(f.column) for f in Sequence._meta.concrete_fields}
    pk = qn(Role._meta.pk.column)
    token = f"(SELECT {seq['last_value']} FROM {qn(Sequence._meta.db_table)} WHERE {seq['key']} = %s LIMIT 1)"  # noqa: S608
    order = ", ".join(
        f"r.{role[name.lstrip('-')]}{' DESC' if name.startswith('-') else ''}"
        for name in (Role._meta.ordering or ())
    )
    return (
        f"SELECT r.{pk}, r.{role['is_admin']}, r.{role['require_mfa']}, {token}, {token} "  # noqa: S608
        f"FROM {qn(Role._meta.db_table)} r INNER JOIN {qn(through.db_table)} m "
        f"ON m.{qn(columns[field.m2m_reverse_field_name()])} = r.{pk} "
        f"WHERE m.{qn(columns[field.m2m_field_name()])} = %s" + (f" ORDER BY {order}" if order else "")
    )


def user_roles(user: Any) -> list[tuple[int, bool, bool]]:
    """(id, is administrator, requires two-factor) of the user's roles: one query, kept on the
    user for the request (the MFA check, the admin flag, the grants and the field modes all
    start from it)."""
    cached = getattr(user, "_kehu_roles", None)
    if cached is None:
        cached = []
        if user.pk is not None:
            conn = connections[router.db_for_read(Role)]
            sql = _ROLES_SQL.get(conn.alias) or _ROLES_SQL.setdefault(conn.alias, _roles_sql(conn))
            with conn.cursor() as cursor:
                cursor.execute(sql, [confcache.KEY, confcache.USER_KEY.format(user.pk), user.pk])
                rows = [(pk, bool(admin), bool(mfa), token, own) for pk, admin, mfa, token, own in cursor]
            if rows:
                confcache.remember_token(rows[0][3])
                user._kehu_token = (int(rows[0][3] or 0), confcache.generation())
                confcache.remember_user_token(user, rows[0][4])
            cached = [row[:3] for row in rows]
        user._kehu_roles = cached
    return cached


def _role_key(user: Any) -> tuple[int, ...]:
    return tuple(sorted(role[0] for role in user_roles(user)))


def _token(user: Any) -> tuple[int, int] | None:
    """The configuration token read with the user's roles (outside a request too)."""
    return getattr(user, "_kehu_token", None)


def _grants(user: Any) -> dict[tuple[str, str], str]:
    cached = getattr(user, "_kehu_grants", None)
    if cached is not None:
        return cached
    role_ids = _role_key(user)
    grants = (
        confcache.cached(("grants", role_ids), lambda: _role_grants(role_ids), _token(user))
        if role_ids
        else {}
    )
    user._kehu_grants = grants
    return grants


def _role_grants(role_ids: tuple[int, ...]) -> dict[tuple[str, str], str]:
    """The widest scope per (model, action) over these roles."""
    grants: dict[tuple[str, str], str] = {}
    rows = RolePermission.objects.filter(role_id__in=role_ids).values_list("model", "action", "scope")
    for model, action, scope in rows:
        key = (model, action)
        if key not in grants or SCOPE_RANK[Scope(scope)] > SCOPE_RANK[Scope(grants[key])]:
            grants[key] = scope
    return grants


def _is_admin(user: Any) -> bool:
    cached = getattr(user, "_kehu_is_admin", None)
    if cached is None:
        cached = bool(user.is_superuser or any(role[1] for role in user_roles(user)))
        user._kehu_is_admin = cached
    return cached


def clear_cache(user: Any) -> None:
    for attr in (
        "_kehu_roles",
        "_kehu_token",
        "_kehu_user_token",
        "_kehu_grants",
        "_kehu_is_admin",
        "_kehu_field_modes",
        "_kehu_subtree",
    ):
        if hasattr(user, attr):
            delattr(user, attr)


def department_subtree(department_id: int, token: tuple[int, int] | None = None) -> list[int]:
    """Ids of a department and everything below it (kept in the process until departments change).

    Resolved to a literal list on purpose: `owner = me OR department IN (<nested subquery>)` keeps
    both SQLite and PostgreSQL from using the department index (measured in bench/: 54× slower
    counts at 1M rows); a short literal IN list is an index lookup. Departments are few."""
    return list(confcache.cached(("subtree", department_id), lambda: _subtree(department_id), token))


def _subtree(department_id: int) -> tuple[int, ...]:
    path = Department.objects.filter(pk=department_id).values_list("path", flat=True).first()
    if path is None:
        return ()
    return tuple(Department.objects.filter(path__startswith=path).values_list("pk", flat=True))


def _user_subtree(user: Any) -> list[int]:
    """The user's department subtree, kept on the user object for the request."""
    cached = getattr(user, "_kehu_subtree", None)
    if cached is None:
        cached = department_subtree(user.department_id, _token(user))
        user._kehu_subtree = cached
    return cached


class KehuBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        """The session's user with their department (every page shows its name): one query."""
        from django.contrib.auth import get_user_model

        try:
            user = get_user_model()._default_manager.select_related("department").get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def permission_key(self, user: Any) -> tuple[Any, ...]:
        """Equal for users this backend gives the same model permissions (`has_model_action`,
        `is_admin`) under the same configuration token: their roles and flags."""
        return (user.is_active, user.is_superuser, tuple(user_roles(user)))

    def user_scope(self, user: Any, model: type[models.Model], action: str) -> str | None:
        if not user.is_active:
            return None
        if _is_admin(user):
            return Scope.ALL
        return _grants(user).get((model._meta.label_lower, action))

    def get_scope_q(self, user: Any, model: type[models.Model], action: str) -> Q | None:
        scope = self.user_scope(user, model, action)
        if scope is None:
            return None
        owner_field = getattr(model, "scope_owner_field", None)
        dept_field = getattr(model, "scope_department_field", None)
        if scope == Scope.ALL or (owner_field is None and dept_field is None):
            return Q()
        own = Q(**{owner_field: user.pk}) if owner_field else Q(pk__in=[])
        if scope == Scope.OWN or not dept_field or user.department_id is None:
            return own
        if scope == Scope.DEPARTMENT:
            return own | Q(**{dept_field: user.department_id})
        return own | Q(**{f"{dept_field}__in": _user_subtree(user)})

    def is_admin(self, user: Any) -> bool:
        return bool(user.is_active and _is_admin(user))

    def has_model_action(self, user: Any, model: type[models.Model], action: str) -> bool:
        return self.user_scope(user, model, action) is not None

    def get_field_modes(self, user: Any, model: type[models.Model]) -> dict[str, str]:
        cache = getattr(user, "_kehu_field_modes", None)
        if cache is None:
            cache = {}
            user._kehu_field_modes = cache
        label = model._meta.label_lower
        if label in cache:
            return cache[label]
        modes: dict[str, str] = {}
        if not _is_admin(user):
            role_ids = _role_key(user)
            if role_ids:
                modes = dict(
                    confcache.cached(
                        ("fields", role_ids, label), lambda: _role_field_modes(role_ids, label), _token(user)
                    )
                )
        cache[label] = modes
        return modes

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        """`perms.customers.view_account` in templates maps to the user's roles."""
        if not user_obj.is_active:
            return False
        app_label, _, codename = perm.partition(".")
        action, _, model_name = codename.partition("_")
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            return super().has_perm(user_obj, perm, obj)
        if self.has_model_action(user_obj, model, action):
            return True
        return super().has_perm(user_obj, perm, obj)


def _role_field_modes(role_ids: tuple[int, ...], label: str) -> dict[str, str]:
    modes: dict[str, str] = {}
    per_field: dict[str, list[str]] = {}
    rows = FieldPermission.objects.filter(role_id__in=role_ids, model=label).values_list("field", "mode")
    for field, mode in rows:
        per_field.setdefault(field, []).append(mode)
    for field, found in per_field.items():
        # A role that does not restrict the field gives it in full; otherwise the least
        # restrictive mode among the user's roles wins.
        if len(found) == len(role_ids):
            modes[field] = max(found, key=lambda m: FIELD_MODE_RANK[m])  # type: ignore[index]
    return modes


def _config_changed(**kwargs: Any) -> None:
    confcache.bump()


def connect_cache_invalidation() -> None:
    """Every write of roles, grants, field permissions and departments replaces the configuration
    token (in its transaction), so no process keeps serving what it cached before. Called by the
    users app once (AppConfig.ready)."""
    from django.db.models.signals import post_delete, post_save

    from .models import Role

    for model in (Role, RolePermission, FieldPermission, Department):
        uid = f"kehu.confcache.{model._meta.label_lower}"
        post_save.connect(_config_changed, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(_config_changed, sender=model, dispatch_uid=f"{uid}.delete")
