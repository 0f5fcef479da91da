"""Pool membership and the pool records a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from kehu.users.models import Department

from ..models import Pool


def member_pool_ids(user: Any) -> list[int]:
    """Ids of the active pools the user is a member or an administrator of (kept on the user object
    for the request). Department members: the pool's departments and everything below them."""
    cached = getattr(user, "_kehu_member_pools", None)
    if cached is not None:
        return list(cached)
    ids: list[int] = []
    if user is not None and getattr(user, "is_authenticated", False):
        membership = Q(member_users=user.pk) | Q(admins=user.pk)
        if user.department_id:
            path = Department.objects.filter(pk=user.department_id).values_list("path", flat=True).first()
            if path:
                # the user's department and its ancestors: materialized-path prefixes
                parts = path.rstrip(".").split(".")
                prefixes = [".".join(parts[: i + 1]) + "." for i in range(len(parts))]
                membership |= Q(member_departments__path__in=prefixes)
        ids = sorted(set(Pool.objects.filter(membership, is_active=True).values_list("pk", flat=True)))
    user._kehu_member_pools = ids
    return list(ids)


def pool_scope_q(user: Any, action: str) -> Q | None:
    """The scope extension (kehu.core.permissions): pool members see the records in their pools.
    Only for viewing; claims, returns and assignments go through the pool services."""
    if action != "view":
        return None
    ids = member_pool_ids(user)
    if not ids:
        return None
    return Q(pool_item__in_pool=True, pool_item__pool_id__in=ids)
