"""Django admin (superusers only): the audit tables, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import ObjectChange, TimelineEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ObjectChange)
class ObjectChangeAdmin(ReadOnlyAdmin):
    list_display = (
        "time",
        "user_name",
        "action",
        "model",
        "object_id",
        "object_repr",
        "source",
        "request_id",
    )
    list_filter = ("action", "source", "model", "bulk")
    search_fields = ("object_repr", "request_id", "user_name")
    date_hierarchy = "time"
    show_full_result_count = False


@admin.register(TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "event", "model", "object_id", "object_repr", "actor_name", "account_id")
    list_filter = ("event",)
    search_fields = ("object_repr", "event")
    date_hierarchy = "occurred_at"
    show_full_result_count = False
