"""List tables of the service settings: ticket statuses, types, categories and mailboxes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.core.tables import (
    EMPTY,
    BooleanColumn,
    ChoiceColumn,
    Column,
    DateTimeColumn,
    EmailColumn,
    Table,
    html_format,
)

from .models import Mailbox, TicketCategory, TicketStatus, TicketType


class StatusNameColumn(Column):
    """The status's name in its colour."""

    def render_value(self, record: Any, value: Any) -> Any:
        badge = html_format('<span class="badge bg-{}-lt">{}</span>', record.colour or "secondary", value)
        if not record.is_active:
            return html_format('{} <span class="badge bg-secondary-lt">{}</span>', badge, _("Inactive"))
        return badge


@dataclass
class NamesColumn(Column):
    """A many-to-many relation as a comma-separated list (prefetched)."""

    empty_label: Any = None

    def value(self, record: Any) -> Any:
        return ", ".join(str(s) for s in getattr(record, self.accessor or self.name).all())

    def render(self, record: Any, mode: str | None = None) -> Any:
        value = self.value(record)
        if not value:
            return (
                html_format('<span class="text-secondary">{}</span>', self.empty_label)
                if self.empty_label
                else EMPTY
            )
        return value


class TicketStatusTable(Table):
    model = TicketStatus
    prefetch_related = ("next_statuses",)
    default_ordering = ("position", "id")
    columns = (
        Column("position", _("Position"), order_by="position", css_class="text-secondary"),
        StatusNameColumn("name", _("Name"), accessor="__str__", order_by="name", required=True, field=""),
        Column("code", _("Code"), order_by="code", css_class="font-monospace small"),
        ChoiceColumn("state", _("State"), order_by="state"),
        BooleanColumn("is_initial", _("Initial status")),
        NamesColumn("next_statuses", _("May move to"), field="", empty_label=_("Any status")),
    )


class TicketTypeTable(Table):
    model = TicketType
    select_related = ("default_queue",)
    prefetch_related = ("statuses",)
    default_ordering = ("position", "id")
    columns = (
        Column("position", _("Position"), order_by="position", css_class="text-secondary"),
        Column("name", _("Name"), accessor="__str__", order_by="name", required=True, field=""),
        Column("code", _("Code"), order_by="code", css_class="font-monospace small"),
        ChoiceColumn("kind", _("Kind"), order_by="kind"),
        ChoiceColumn("after_sales_action", _("After-sales action"), default=False),
        BooleanColumn("requires_order", _("Requires an order")),
        ChoiceColumn("default_priority", _("Default priority"), order_by="default_priority"),
        Column("default_queue", _("Default queue")),
        NamesColumn("statuses", _("Statuses"), field="", empty_label=_("All statuses")),
        Column("fields", _("Custom fields"), formatter=lambda v: ", ".join(v), default=False),
        BooleanColumn("is_active", _("Active")),
    )


class TicketCategoryTable(Table):
    model = TicketCategory
    select_related = ("parent",)
    # A tree: each top-level category, then its subcategories (annotations of the list view).
    default_ordering = ("tree_position", "tree_parent", "is_child", "position", "id")
    columns = (
        Column("name", _("Name"), accessor="__str__", required=True, field=""),
        Column("name_en", _("English name")),
        Column("position", _("Position"), order_by="position", css_class="text-secondary"),
        BooleanColumn("is_active", _("Active")),
    )


class LastErrorColumn(Column):
    def render_value(self, record: Any, value: Any) -> Any:
        return html_format('<span class="text-danger small" title="{}">{}</span>', value, str(value)[:80])


class MailboxTable(Table):
    model = Mailbox
    select_related = ("queue",)
    default_ordering = ("name",)
    columns = (
        Column("name", _("Name"), order_by="name", required=True),
        EmailColumn("email", _("E-mail address"), order_by="email"),
        Column("queue", _("Queue")),
        Column("imap_host", _("IMAP host")),
        Column("imap_username", _("User name"), default=False),
        BooleanColumn("is_active", _("Active")),
        DateTimeColumn("last_polled_at", _("Last polled"), order_by="last_polled_at"),
        LastErrorColumn("last_error", _("Last error")),
    )
