"""Reads of the notification centre."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from kehu.core import confcache

from .models import Notification


def notification_list(*, user: Any, unread: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.restrict(user, "view")
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def notification_latest(*, user: Any, limit: int = 8) -> list[Notification]:
    return list(notification_list(user=user)[:limit])


def unread_count(*, user: Any) -> int:
    """One COUNT over the (recipient, read_at) index, kept per user until their notifications
    change (`kehu.core.confcache.user_cached`)."""
    return confcache.user_cached(
        user,
        ("unread-notifications",),
        lambda: Notification.objects.restrict(user, "view").filter(read_at__isnull=True).count(),
    )


def notification_preferences(*, user: Any) -> list[dict[str, Any]]:
    """The preferences matrix of one user: every registered kind with its channels (one query)."""
    from .kinds import Channel, all_kinds
    from .models import NotificationPreference

    saved = {p.kind: p for p in NotificationPreference.objects.filter(user_id=user.pk)}
    rows = []
    for kind in all_kinds():
        pref = saved.get(kind.key)
        default_in_app = Channel.IN_APP in kind.default_channels
        default_email = Channel.EMAIL in kind.default_channels
        rows.append(
            {
                "kind": kind.key,
                "label": kind.label,
                "description": kind.description,
                "in_app": pref.in_app if pref is not None else default_in_app,
                "email": pref.email if pref is not None else default_email,
                "default_in_app": default_in_app,
                "default_email": default_email,
                "customised": pref is not None,
            }
        )
    return rows
