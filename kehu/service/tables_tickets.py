"""List columns of tickets, and the badges the list, the kanban and the account panel share
(status, priority, SLA)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from kehu.core.tables import (
    NAME_FIELDS,
    USER_FIELDS,
    ChoiceColumn,
    Column,
    CopiedColumn,
    DateTimeColumn,
    EmailColumn,
    LinkColumn,
    RelatedLinkColumn,
    Table,
    UserColumn,
    html_format,
)
from kehu.core.text import bilingual_name
from kehu.customfields.tables import custom_list_columns

from .choices import DONE_STATES, TicketPriority
from .filtersets_tickets import DUE_SOON_HOURS
from .models import Ticket

PRIORITY_BADGES: dict[Any, str] = {
    TicketPriority.LOW: "bg-secondary-lt",
    TicketPriority.NORMAL: "bg-azure-lt",
    TicketPriority.HIGH: "bg-orange-lt",
    TicketPriority.URGENT: "bg-red text-white",
}


def status_badge(status: Any) -> str:
    if status is None:
        return ""
    return html_format(
        '<span class="badge bg-{}-lt text-nowrap">{}</span>',
        status.colour or "secondary",
        bilingual_name(status.name, status.name_en),
    )


_priority_badges: dict[tuple[str | None, Any], str] = {}


def priority_badge(priority: int) -> str:
    """The priority's badge in the current language (made once per process and language)."""
    key = (translation.get_language(), priority)
    badge = _priority_badges.get(key)
    if badge is None:
        labels: dict[Any, Any] = dict(TicketPriority.choices)
        badge = _priority_badges[key] = html_format(
            '<span class="badge {} text-nowrap">{}</span>',
            PRIORITY_BADGES.get(priority, "bg-secondary-lt"),
            labels.get(priority, priority),
        )
    return badge


def sla_state(ticket: Any, now: dt.datetime | None = None) -> tuple[str, str, str] | None:
    """(tone, label, title) of the ticket's SLA, or None when no timer applies: breached (red),
    paused while waiting on the customer, due within DUE_SOON_HOURS (orange), else on track."""
    breached = ticket.first_response_breached or ticket.next_response_breached or ticket.resolution_breached
    if breached:
        return "red", _("SLA breached"), ""
    if ticket.state in DONE_STATES:
        return None
    if ticket.sla_paused_at is not None:
        return "secondary", _("SLA paused"), ""
    due = ticket.sla_next_check
    if due is None:
        return None
    now = now or timezone.now()
    left = due - now
    title = _("Due %(when)s") % {"when": timezone.localtime(due).strftime("%Y-%m-%d %H:%M")}
    if left <= dt.timedelta(0):
        return "red", _("Overdue"), title
    minutes = int(left.total_seconds() // 60)
    text = (
        _("%(h)sh %(m)sm left") % {"h": minutes // 60, "m": minutes % 60}
        if minutes < 48 * 60
        else _("%(d)sd left") % {"d": minutes // (24 * 60)}
    )
    tone = "orange" if left <= dt.timedelta(hours=DUE_SOON_HOURS) else "green"
    return tone, text, title


def sla_badge(ticket: Any, now: dt.datetime | None = None) -> str:
    state = sla_state(ticket, now)
    if state is None:
        return ""
    tone, label, title = state
    return html_format('<span class="badge bg-{}-lt text-nowrap" title="{}">{}</span>', tone, title, label)


class NumberColumn(LinkColumn):
    url_name = "service:ticket_detail"


class ConfigColumn(CopiedColumn):
    """A status, type or queue of the row, from the per-process copies (`ticket_config`)."""

    copied_from = "kehu.service.selectors.ticket_lists.ticket_config"


class StatusColumn(ConfigColumn):
    config = "statuses"

    def render_value(self, record: Any, value: Any) -> Any:
        return status_badge(value)


class PriorityColumn(Column):
    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return ("priority",)

    def render_value(self, record: Any, value: Any) -> Any:
        return priority_badge(value)


class BilingualColumn(Column):
    """A related record set up as data (type, queue, category): its name in the reader's language."""

    def render_value(self, record: Any, value: Any) -> Any:
        return bilingual_name(value.name, value.name_en)


class QueueColumn(ConfigColumn, BilingualColumn):
    config = "queues"


class TypeColumn(ConfigColumn, BilingualColumn):
    config = "types"


# what `sla_state` reads of a ticket
SLA_FIELDS = (
    "state",
    "sla_paused_at",
    "sla_next_check",
    "first_response_breached",
    "next_response_breached",
    "resolution_breached",
)


class SLAColumn(Column):
    now: dt.datetime | None = None

    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return SLA_FIELDS

    def prepare(self, records: list[Any]) -> Column:
        import copy

        bound = copy.copy(self)
        bound.now = timezone.now()
        return bound

    def value(self, record: Any) -> Any:
        return sla_badge(record, self.now) or None


class TicketTable(Table):
    model = Ticket
    # (status, type and queue come from the per-process copies: ConfigColumn)
    select_related = ("assignee", "account")
    related_only = {"assignee": USER_FIELDS, "account": NAME_FIELDS}
    # (own columns no list column reads: the description's HTML and text can be long)
    deferred = ("description", "description_text")
    load_only_shown = True
    default_ordering = ("-id",)
    columns = [
        NumberColumn("number", pgettext_lazy("document", "Number"), order_by="number", required=True),
        Column("subject", gettext_lazy("Subject"), order_by="subject"),
        StatusColumn("status", gettext_lazy("Status"), order_by=("status__position",)),
        PriorityColumn("priority", gettext_lazy("Priority"), order_by="priority"),
        SLAColumn("sla", gettext_lazy("SLA"), order_by=("sla_next_check",), field=""),
        RelatedLinkColumn("account", pgettext_lazy("customers", "Account"), order_by=("account__name",)),
        QueueColumn("queue", gettext_lazy("Queue"), order_by=("queue__name",)),
        UserColumn("assignee", gettext_lazy("Assignee"), order_by=("assignee__username",)),
        TypeColumn("type", gettext_lazy("Type"), order_by=("type__position",), default=False),
        ChoiceColumn("channel", gettext_lazy("Channel"), order_by="channel", default=False),
        Column("requester_name", gettext_lazy("Requester"), default=False),
        EmailColumn("requester_email", gettext_lazy("Requester e-mail"), default=False),
        DateTimeColumn("created_at", pgettext_lazy("customers", "Created"), order_by="created_at"),
        DateTimeColumn("updated_at", gettext_lazy("Updated"), order_by="updated_at", default=False),
        DateTimeColumn("resolved_at", gettext_lazy("Resolved at"), order_by="resolved_at", default=False),
    ]

    @classmethod
    def extra_columns(cls) -> list[Column]:
        return list(custom_list_columns(cls.model))
