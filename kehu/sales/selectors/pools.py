"""Pool membership and the pool records a user may see."""

from __future__ import annotations

from typing import Any

from django.db import connections, router
from django.db.models import Count, Q, QuerySet, Subquery
from django.http import Http404

from kehu.core import confcache
from kehu.core.choices import Action
from kehu.core.permissions import can, is_admin
from kehu.users.models import Department

from ..choices import PoolKind
from ..models import Pool, PoolHistory, PoolItem


def _through(name: str) -> tuple[str, str, str]:
    """(table, pool column, other column) of one of the pool's many-to-many fields."""
    field: Any = Pool._meta.get_field(name)
    opts = field.remote_field.through._meta
    columns = {f.name: f.column for f in opts.concrete_fields}
    return opts.db_table, columns[field.m2m_field_name()], columns[field.m2m_reverse_field_name()]


def _membership_sql(qn: Any) -> str:
    """One statement: the active pools naming the user (%s) as a member or an administrator, or
    naming the user's department (%s) or one of its ancestors (materialized-path prefixes). Plain
    SQL: the ORM took ten times the CPU of the query to build it, on every request of a member."""
    pool = qn(Pool._meta.db_table)
    parts = []
    for name in ("member_users", "admins"):
        table, pool_col, user_col = _through(name)
        parts.append(
            f"EXISTS (SELECT 1 FROM {qn(table)} m WHERE m.{qn(pool_col)} = {pool}.{qn('id')} "  # noqa: S608
            f"AND m.{qn(user_col)} = %s)"
        )
    table, pool_col, dept_col = _through("member_departments")
    dept = qn(Department._meta.db_table)
    path, pk = qn(Department._meta.get_field("path").column), qn("id")
    parts.append(
        f"EXISTS (SELECT 1 FROM {qn(table)} m INNER JOIN {dept} d ON d.{pk} = m.{qn(dept_col)} "  # noqa: S608
        f"INNER JOIN {dept} own ON own.{pk} = %s WHERE m.{qn(pool_col)} = {pool}.{qn('id')} "
        f"AND SUBSTR(own.{path}, 1, LENGTH(d.{path})) = d.{path})"
    )
    active = qn(Pool._meta.get_field("is_active").column)
    return f"SELECT {pool}.{qn('id')} FROM {pool} WHERE {pool}.{active} AND ({' OR '.join(parts)})"  # noqa: S608


def member_pool_ids(user: Any) -> list[int]:
    """Ids of the active pools the user is a member or an administrator of (kept on the user object
    for the request). Department members: the pool's departments and everything below them."""
    cached = getattr(user, "_kehu_member_pools", None)
    if cached is not None:
        return list(cached)
    ids: list[int] = []
    if user is not None and getattr(user, "is_authenticated", False):

        def read() -> list[int]:
            connection = connections[router.db_for_read(Pool)]
            with connection.cursor() as cursor:
                cursor.execute(
                    _membership_sql(connection.ops.quote_name), [user.pk, user.pk, user.department_id]
                )
                return sorted({row[0] for row in cursor.fetchall()})

        # Pools and their members are configuration: kept in the process under the configuration
        # token read with the user's roles, which every change of a pool or its members replaces
        # (kehu.sales.apps). Without that token (no roles, outside a request): one query.
        token = getattr(user, "_kehu_token", None)
        key = ("member-pools", user.pk, user.department_id)
        ids = read() if token is None else confcache.cached(key, read, token)
    user._kehu_member_pools = ids
    return list(ids)


def forget_membership(user: Any) -> None:
    """Drop the per-request cache (after a pool's members changed)."""
    if hasattr(user, "_kehu_member_pools"):
        del user._kehu_member_pools


def _scope_q(field: str, user: Any, action: str) -> Q | None:
    if action != "view":
        return None
    ids = member_pool_ids(user)
    if not ids:
        return None
    # `owner IS NULL AND id IN (in-pool ids)`: with the user's own scope ORed in front, PostgreSQL
    # combines the owner index with the (small) set of unowned rows instead of joining every row.
    in_pool = PoolItem.objects.filter(in_pool=True, pool_id__in=ids, **{f"{field}__isnull": False})
    return Q(owner__isnull=True, pk__in=Subquery(in_pool.values(f"{field}_id")))


def pool_scope_q(user: Any, action: str) -> Q | None:
    """The scope extension of leads (kehu.core.permissions): pool members see the records in their
    pools. Only for viewing; claims, returns and assignments go through the pool services."""
    return _scope_q("lead", user, action)


def account_pool_scope_q(user: Any, action: str) -> Q | None:
    """The same for accounts (客户公海)."""
    return _scope_q("account", user, action)


# --- pages and API -------------------------------------------------------------------------------


def may_configure(user: Any) -> bool:
    return can(user, Pool, Action.VIEW)


def pool_list(*, user: Any, kind: str = "") -> list[Pool]:
    """The active pools the user belongs to (all pools for those who may configure pools), each with
    `in_pool` (records in it now)."""
    qs = Pool.objects.all()
    if not (may_configure(user) or is_admin(user)):
        qs = qs.filter(pk__in=member_pool_ids(user))
    if kind in PoolKind.values:
        qs = qs.filter(kind=kind)
    qs = qs.annotate(in_pool_count=Count("items", filter=Q(items__in_pool=True)))
    return list(qs.order_by("kind", "order", "id"))


def pool_choices(kind: str) -> QuerySet[Pool]:
    """The pools of `kind` a record may be sent to on create (the services check the pool is
    active and the sender may use it)."""
    return Pool.objects.filter(kind=kind)


def pool_get(*, user: Any, pk: Any) -> Pool:
    """A pool the user may open (member, administrator, or allowed to configure pools); else 404."""
    try:
        pool = Pool.objects.get(pk=int(pk))
    except (Pool.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404 from exc
    if pool.pk in member_pool_ids(user) or may_configure(user) or is_admin(user):
        return pool
    raise Http404


def _pool_row(pk: int) -> tuple[Any, ...] | None:
    """The pool's whole row (None: no such pool), converted as the ORM reads it."""
    fields = [f.attname for f in Pool._meta.concrete_fields]
    row = Pool.objects.filter(pk=pk).values_list(*fields).first()
    return tuple(row) if row is not None else None


def pool_for_action(*, user: Any, pk: Any) -> Pool:
    """The pool an action of the API names (the claim), if the user may open it
    (as `pool_get`: a member, an administrator, or allowed to configure pools); else 404, whether
    or not it exists. The pool's row is configuration: kept in the process under the configuration
    token read with the user's roles, which every change of a pool replaces (kehu.sales.apps), so
    a member's claim reads neither the pool nor their pools again."""
    try:
        pool_id = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    # the roles first: they bring the configuration token the pools and the membership are kept under
    if not (may_configure(user) or is_admin(user) or pool_id in member_pool_ids(user)):
        raise Http404
    token = getattr(user, "_kehu_token", None)
    row = (
        _pool_row(pool_id)
        if token is None
        else confcache.cached(("pool-row", pool_id), lambda: _pool_row(pool_id), token)
    )
    if row is None:
        raise Http404
    return Pool.from_db(router.db_for_read(Pool), [f.attname for f in Pool._meta.concrete_fields], row)


def pool_records(*, user: Any, pool: Pool) -> QuerySet[Any]:
    """The records in the pool now, as the user may see them (members: all of them)."""
    from ..services.pools import record_model

    model = record_model(pool)
    return (
        model.objects.restrict(user, Action.VIEW)
        .filter(pool_item__pool=pool, pool_item__in_pool=True)
        .select_related("pool_item")
        .order_by("-pool_item__entered_at", "-id")
    )


def pool_history(*, pool: Pool | None = None, record: Any = None) -> QuerySet[PoolHistory]:
    qs = PoolHistory.objects.select_related(
        "pool", "to_pool", "from_user", "to_user", "by", "lead", "account"
    )
    if pool is not None:
        qs = qs.filter(Q(pool=pool) | Q(to_pool=pool))
    if record is not None:
        field = "lead" if record._meta.label_lower == "sales.lead" else "account"
        qs = qs.filter(**{field: record})
    return qs.order_by("-at", "-id")


def home_pool(record: Any) -> PoolItem | None:
    """The record's pool state (None: never in a pool)."""
    return (
        PoolItem.objects.filter(**{"lead" if record._meta.label_lower == "sales.lead" else "account": record})
        .select_related("pool")
        .first()
    )
