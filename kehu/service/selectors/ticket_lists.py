"""Reads of ticket lists: the scoped list, "my tickets", the queue views with their open counts,
the kanban board by status, the account 360 panel and the global search."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from kehu.core import confcache
from kehu.core.choices import Action

from ..choices import DONE_STATES, OPEN_STATES
from ..models import Queue, Ticket, TicketStatus, TicketType
from .tickets import member_queue_ids

KANBAN_PAGE = 20
# Resolved and closed columns show the tickets finished in the last N days (older: the list).
KANBAN_DONE_DAYS = 30
PANEL_ROWS = 8


@dataclass(frozen=True)
class TicketConfig:
    """The statuses, types and queues by id (a handful each, read by every ticket list row)."""

    statuses: dict[int, TicketStatus]
    types: dict[int, TicketType]
    queues: dict[int, Queue]


def _load_config() -> TicketConfig:
    return TicketConfig(
        statuses={s.pk: s for s in TicketStatus.objects.all()},
        types={t.pk: t for t in TicketType.objects.all()},
        queues={q.pk: q for q in Queue.objects.all()},
    )


def ticket_config() -> TicketConfig:
    """Statuses, types and queues by id, kept per process under the configuration token (a save
    or delete of one replaces the token: hooks/ticket_lists.py), so a list page shows them
    without joining three tables. The instances are shared: read them, never change them."""
    return confcache.cached(("service", "ticket-config"), _load_config)


def ticket_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[Ticket]:
    return Ticket.objects.restrict(user, action)


def user_queues(*, user: Any) -> list[Queue]:
    """The active queues the user belongs to, with `open_count`: their open tickets the user sees."""
    ids = member_queue_ids(user)
    if not ids:
        return []
    queues = list(Queue.objects.filter(pk__in=ids, is_active=True).order_by("position", "name"))
    counts = dict(
        ticket_list(user=user)
        .filter(queue_id__in=ids, state__in=list(OPEN_STATES))
        .order_by()
        .values_list("queue_id")
        .annotate(n=Count("pk"))
        .values_list("queue_id", "n")
    )
    for queue in queues:
        queue.open_count = counts.get(queue.pk, 0)
    return queues


def my_open_count(*, user: Any) -> int:
    return ticket_list(user=user).filter(assignee_id=user.pk, state__in=list(OPEN_STATES)).count()


# --- kanban -------------------------------------------------------------------------------------


@dataclass
class KanbanColumn:
    status: TicketStatus
    count: int = 0
    cards: list[Ticket] = field(default_factory=list)
    has_more: bool = False
    next_offset: int = 0

    @property
    def is_done(self) -> bool:
        return self.status.state in DONE_STATES


def kanban_statuses() -> list[TicketStatus]:
    return list(TicketStatus.objects.filter(is_active=True).order_by("position", "pk"))


def _column(queryset: QuerySet[Ticket], status: TicketStatus, now: dt.datetime) -> QuerySet[Ticket]:
    qs = queryset.filter(status=status)
    if status.state in DONE_STATES:
        since = now - dt.timedelta(days=KANBAN_DONE_DAYS)
        qs = qs.filter(Q(resolved_at__gte=since) | Q(closed_at__gte=since) | Q(updated_at__gte=since))
    return qs


def _cards(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return qs.select_related("assignee", "account").only(
        "pk",
        "number",
        "subject",
        "priority",
        "state",
        "status_id",
        "version",
        "sla_next_check",
        "sla_paused_at",
        "first_response_breached",
        "next_response_breached",
        "resolution_breached",
        "assignee__username",
        "assignee__first_name",
        "assignee__last_name",
        "assignee__display_name",
        "account__name",
    )


def _decorate(cards: list[Ticket]) -> list[Ticket]:
    pattern = reverse("service:ticket_detail", args=[987654321])
    for card in cards:
        card.url = pattern.replace("987654321", str(card.pk))  # type: ignore[attr-defined]
    return cards


def kanban_cards(
    *, queryset: QuerySet[Ticket], status: TicketStatus, offset: int = 0, limit: int = KANBAN_PAGE
) -> tuple[list[Ticket], bool]:
    """One page of a column's cards (most urgent first, then newest), and whether more follow."""
    now = timezone.now()
    rows = list(
        _cards(_column(queryset, status, now)).order_by("-priority", "-id")[offset : offset + limit + 1]
    )
    return _decorate(rows[:limit]), len(rows) > limit


def kanban_counts(*, queryset: QuerySet[Ticket], statuses: list[TicketStatus]) -> dict[int, int]:
    now = timezone.now()
    open_ids = [s.pk for s in statuses if s.state not in DONE_STATES]
    counts: dict[int, int] = {s.pk: 0 for s in statuses}
    if open_ids:
        rows = (
            queryset.filter(status_id__in=open_ids)
            .order_by()
            .values_list("status_id")
            .annotate(n=Count("pk"))
            .values_list("status_id", "n")
        )
        counts.update(dict(rows))
    for status in statuses:
        if status.state in DONE_STATES:
            counts[status.pk] = _column(queryset, status, now).count()
    return counts


def kanban_board(*, queryset: QuerySet[Ticket], statuses: list[TicketStatus]) -> list[KanbanColumn]:
    counts = kanban_counts(queryset=queryset, statuses=statuses)
    columns = []
    for status in statuses:
        cards, more = kanban_cards(queryset=queryset, status=status)
        columns.append(
            KanbanColumn(
                status=status, count=counts[status.pk], cards=cards, has_more=more, next_offset=len(cards)
            )
        )
    return columns


# --- account and contact panels ----------------------------------------------------------------


def related_tickets(
    *, user: Any, account_id: int | None = None, contact_id: int | None = None
) -> dict[str, Any]:
    """The tickets of an account (or contact) the user may see: the open ones first, then the
    latest, at most PANEL_ROWS; and counts of open / all / breached."""
    qs = ticket_list(user=user)
    qs = qs.filter(account_id=account_id) if account_id is not None else qs.filter(contact_id=contact_id or 0)
    breached = Q(first_response_breached=True) | Q(next_response_breached=True) | Q(resolution_breached=True)
    counts = qs.order_by().aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(state__in=list(OPEN_STATES))),
        breached=Count("pk", filter=Q(state__in=list(OPEN_STATES)) & breached),
    )
    open_rows = list(
        qs.filter(state__in=list(OPEN_STATES))
        .select_related("status", "assignee")
        .order_by("-priority", "-id")[:PANEL_ROWS]
    )
    rows = open_rows
    if len(rows) < PANEL_ROWS:
        rows += list(
            qs.exclude(state__in=list(OPEN_STATES))
            .select_related("status", "assignee")
            .order_by("-id")[: PANEL_ROWS - len(rows)]
        )
    return {"tickets": rows, "counts": counts}
