"""Reads for assignment rules and availability."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from kehu.core.choices import Action
from kehu.core.permissions import scope_q
from kehu.users.backends import department_subtree

from ..models import AssignmentRule, Lead, UserAvailability
from ..services.assignment import conditions_filterset, unavailable_user_ids


def rules_by_kind(kind: str) -> list[AssignmentRule]:
    return list(
        AssignmentRule.objects.filter(kind=kind)
        .select_related("user", "pool")
        .prefetch_related("users")
        .order_by("order", "id")
    )


def _value_labels(filter_: Any, values: list[str]) -> list[str]:
    choices = filter_.extra.get("choices") if filter_ is not None else None
    if callable(choices):
        choices = choices()
    if not choices:
        return values
    mapping = {str(k): str(v) for k, v in choices if not isinstance(v, list | tuple)}
    return [mapping.get(str(v), str(v)) for v in values]


def conditions_summary(rule: AssignmentRule) -> list[tuple[str, str]]:
    """``[(filter label, values)]`` of the rule's conditions, in the filter form's words."""
    if not rule.conditions:
        return []
    filterset_class = conditions_filterset(rule.kind)
    filters: dict[str, Any] = {}
    if filterset_class is not None:
        filters = dict(
            filterset_class(data={}, queryset=filterset_class._meta.model._default_manager.none()).filters
        )
    out = []
    for name, value in rule.conditions.items():
        values = [str(v) for v in (value if isinstance(value, list) else [value])]
        filter_ = filters.get(name)
        label = str(filter_.label) if filter_ is not None and filter_.label else name
        out.append((label, ", ".join(_value_labels(filter_, values))))
    return out


def availability_rows(user: Any, *, manages: bool) -> list[dict[str, Any]]:
    """The users the viewer may see and set availability for: themselves, and (managers) the
    users owning leads in their assign scope's departments — all active users for "all"."""
    users = get_user_model().objects.filter(is_active=True).select_related("department").order_by("username")
    if not manages:
        users = users.filter(pk=user.pk)
    else:
        q = scope_q(user, Lead, Action.ASSIGN)
        if q is not None and q:  # own / department scopes: the user's department subtree
            dept_ids = department_subtree(user.department_id) if user.department_id else []
            users = users.filter(Q(pk=user.pk) | Q(department_id__in=dept_ids))
    users_list = list(users)
    statuses = {a.user_id: a for a in UserAvailability.objects.filter(user__in=users_list)}
    away = unavailable_user_ids([u.pk for u in users_list], on=timezone.localdate())
    return [{"user": u, "availability": statuses.get(u.pk), "away": u.pk in away} for u in users_list]
