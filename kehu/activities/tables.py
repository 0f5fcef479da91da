"""List columns of interactions and tasks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core import dates
from kehu.core.tables import (
    ChoiceColumn,
    Column,
    DateTimeColumn,
    LinkColumn,
    RelatedLinkColumn,
    Table,
    UserColumn,
)
from kehu.customfields.tables import custom_list_columns

from .choices import InteractionKind, TaskPriority, TaskStatus
from .models import Interaction, Task

KIND_ICONS = {
    InteractionKind.CALL: "phone",
    InteractionKind.MEETING: "users",
    InteractionKind.VISIT: "map-pin",
    InteractionKind.EMAIL: "mail",
    InteractionKind.NOTE: "note",
    InteractionKind.WECHAT: "brand-wechat",
}
PRIORITY_BADGES = {
    TaskPriority.LOW: "bg-secondary-lt",
    TaskPriority.NORMAL: "bg-blue-lt",
    TaskPriority.HIGH: "bg-orange-lt",
    TaskPriority.URGENT: "bg-red-lt",
}
STATUS_BADGES = {
    TaskStatus.OPEN: "bg-blue-lt",
    TaskStatus.IN_PROGRESS: "bg-azure-lt",
    TaskStatus.DONE: "bg-green-lt",
    TaskStatus.CANCELLED: "bg-secondary-lt",
}


class KindColumn(Column):
    def render_value(self, record: Any, value: Any) -> Any:
        return format_html(
            '<i class="ti ti-{} text-secondary me-1"></i>{}',
            KIND_ICONS.get(value, "message-circle"),
            record.get_kind_display(),
        )


class BadgeColumn(Column):
    def __init__(self, name: str, label: Any, badges: dict[Any, str], **kwargs: Any) -> None:
        super().__init__(name, label, **kwargs)
        self.badges = badges

    def render_value(self, record: Any, value: Any) -> Any:
        return format_html(
            '<span class="badge {}">{}</span>',
            self.badges.get(value, "bg-secondary-lt"),
            getattr(record, f"get_{self.name}_display")(),
        )


class WhenColumn(DateTimeColumn):
    """Date and time (the time matters for calls and due times); all-day tasks show the date."""

    def render_value(self, record: Any, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            local = timezone.localtime(value)
            fmt = "SHORT_DATE_FORMAT" if getattr(record, "all_day", False) else "SHORT_DATETIME_FORMAT"
            return format_html('<span class="text-nowrap">{}</span>', dates.date_format(local, fmt))
        return super().render_value(record, value)


class DueColumn(WhenColumn):
    """The due time, red when the task is overdue."""

    def render_value(self, record: Any, value: Any) -> Any:
        text = super().render_value(record, value)
        if record.is_overdue(timezone.now()):
            return format_html('<span class="text-danger fw-medium">{}</span>', text)
        return text


class InteractionTable(Table):
    model = Interaction
    select_related = ("owner", "account", "contact")
    default_ordering = ("-occurred_at",)
    columns = [
        WhenColumn("occurred_at", _("When"), order_by="occurred_at", required=True, css_class="text-nowrap"),
        KindColumn("kind", _("Type"), order_by="kind"),
        LinkColumn("subject", _("Subject"), order_by="subject", required=True),
        RelatedLinkColumn("account", pgettext_lazy("customers", "Account"), order_by=("account__name",)),
        RelatedLinkColumn("contact", _("Contact"), order_by=("contact__name",)),
        ChoiceColumn("outcome", _("Outcome"), order_by="outcome"),
        Column("duration_minutes", _("Minutes"), order_by="duration_minutes", default=False),
        Column("location", _("Location"), default=False),
        WhenColumn("next_follow_up_at", _("Next follow-up"), order_by="next_follow_up_at", default=False),
        UserColumn("owner", _("Owner"), order_by=("owner__username",)),
        DateTimeColumn(
            "created_at", pgettext_lazy("customers", "Created"), order_by="created_at", default=False
        ),
    ]

    @classmethod
    def extra_columns(cls) -> list[Column]:
        return list(custom_list_columns(cls.model))


class TaskTable(Table):
    model = Task
    select_related = ("owner", "account", "contact")
    default_ordering = ("due_at",)
    columns = [
        LinkColumn("title", _("Title"), order_by="title", required=True),
        DueColumn("due_at", _("Due"), order_by="due_at", css_class="text-nowrap"),
        BadgeColumn("priority", _("Priority"), PRIORITY_BADGES, order_by="priority"),
        BadgeColumn("status", _("Status"), STATUS_BADGES, order_by="status"),
        RelatedLinkColumn("account", pgettext_lazy("customers", "Account"), order_by=("account__name",)),
        RelatedLinkColumn("contact", _("Contact"), order_by=("contact__name",), default=False),
        UserColumn("owner", _("Assignee"), order_by=("owner__username",)),
        ChoiceColumn("recurrence", _("Repeat"), order_by="recurrence", default=False),
        DateTimeColumn("completed_at", _("Completed"), order_by="completed_at", default=False),
        DateTimeColumn(
            "created_at", pgettext_lazy("customers", "Created"), order_by="created_at", default=False
        ),
    ]
