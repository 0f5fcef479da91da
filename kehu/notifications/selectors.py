"""Reads of the notification centre."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Notification


def notification_list(*, user: Any, unread: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.restrict(user, "view")
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def notification_latest(*, user: Any, limit: int = 8) -> list[Notification]:
    return list(notification_list(user=user)[:limit])


def unread_count(*, user: Any) -> int:
    """One COUNT over the (recipient, read_at) index."""
    return Notification.objects.restrict(user, "view").filter(read_at__isnull=True).count()
