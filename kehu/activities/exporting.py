"""Exports of the interaction and task lists (CSV / XLSX through `kehu.core.exports`): the rows of
the list (``restrict(user, "export")``, the same FilterSet and sort)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.choices import Action
from kehu.core.exports import Column, Exporter, register_exporter
from kehu.customfields.exporting import custom_export_columns

from .filtersets import InteractionFilterSet, TaskFilterSet
from .models import Interaction, Task


def interaction_queryset(user: Any, params: Any) -> QuerySet[Interaction]:
    from .tables import InteractionTable

    base = Interaction.objects.restrict(user, Action.EXPORT).select_related(
        "owner", "department", "account", "contact"
    )
    filterset = InteractionFilterSet(params, queryset=base)
    qs = filterset.qs if filterset.is_valid() else base.none()
    sort = params.get("sort") if hasattr(params, "get") else None
    return InteractionTable(user=None, sort=sort).order(qs)


def task_queryset(user: Any, params: Any) -> QuerySet[Task]:
    from .tables import TaskTable

    base = Task.objects.restrict(user, Action.EXPORT).select_related(
        "owner", "department", "account", "contact"
    )
    filterset = TaskFilterSet(params, queryset=base)
    qs = filterset.qs if filterset.is_valid() else base.none()
    sort = params.get("sort") if hasattr(params, "get") else None
    return TaskTable(user=None, sort=sort).order(qs)


def interaction_columns(user: Any) -> list[Column]:
    return [
        Column("id", _("ID")),
        Column("occurred_at", _("When")),
        Column("kind", _("Type")),
        Column("subject", _("Subject")),
        Column("body", _("Details")),
        Column("account", pgettext_lazy("customers", "Account")),
        Column("contact", _("Contact")),
        Column("outcome", _("Outcome")),
        Column("direction", _("Direction")),
        Column("duration_minutes", _("Duration (minutes)")),
        Column("location", _("Location")),
        Column("next_follow_up_at", _("Next follow-up")),
        Column("owner", _("Owner")),
        Column("department", pgettext_lazy("customers", "Department")),
        Column("created_at", pgettext_lazy("customers", "Created")),
        *custom_export_columns(Interaction, user),
    ]


def task_columns(user: Any) -> list[Column]:
    return [
        Column("id", _("ID")),
        Column("title", _("Title")),
        Column("description", _("Description")),
        Column("due_at", _("Due")),
        Column("all_day", _("All day")),
        Column("priority", _("Priority")),
        Column("status", _("Status")),
        Column("completed_at", _("Completed")),
        Column("account", pgettext_lazy("customers", "Account")),
        Column("contact", _("Contact")),
        Column("owner", _("Assignee")),
        Column("department", pgettext_lazy("customers", "Department")),
        Column("recurrence", _("Repeat")),
        Column("created_at", pgettext_lazy("customers", "Created")),
    ]


def register() -> None:
    register_exporter(
        Exporter(
            name="activities.interaction",
            model=Interaction,
            title=_("Interactions"),
            columns=interaction_columns,
            queryset=interaction_queryset,
        )
    )
    register_exporter(
        Exporter(
            name="activities.task",
            model=Task,
            title=_("Tasks"),
            columns=task_columns,
            queryset=task_queryset,
        )
    )
