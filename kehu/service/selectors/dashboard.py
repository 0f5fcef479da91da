"""The service dashboard's numbers, for the tickets a user may see (``Ticket.objects.restrict(user,
"view")``), optionally one queue: open tickets now by status, priority and queue; the backlog's age;
for tickets created in the date range, SLA compliance (met / breached from the tickets' breach
flags, with the breach events of ``SLAEvent``) and the average first-response and resolution times
(wall-clock time: business time needs each ticket's calendar row by row, see ``selectors.sla``);
CSAT (answers about those tickets) and NPS (answers the user may see) with their monthly trends.

Every figure is one set-based aggregate query (GROUP BY or COUNT … FILTER), never a loop over
tickets, so that it stays fast with hundreds of thousands of tickets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.choices import Action
from kehu.core.permissions import can

from ..choices import DONE_STATES, OPEN_STATES, SLAEventKind, SLAMetric, SurveyKind, TicketPriority
from ..models import Queue, SLAEvent, SurveyResponse, Ticket, TicketStatus

DEFAULT_MONTHS = 12
# (key, label, lower bound in days, upper bound in days or None)
AGE_BUCKETS: tuple[tuple[str, str, int, int | None], ...] = (
    ("lt1d", "Under 1 day", 0, 1),
    ("1to3d", "1–3 days", 1, 3),
    ("3to7d", "3–7 days", 3, 7),
    ("7to30d", "7–30 days", 7, 30),
    ("gt30d", "Over 30 days", 30, None),
)


def _age_label(key: str) -> str:
    labels = {
        "lt1d": _("Under 1 day"),
        "1to3d": _("1–3 days"),
        "3to7d": _("3–7 days"),
        "7to30d": _("7–30 days"),
        "gt30d": _("Over 30 days"),
    }
    return labels[key]


@dataclass(frozen=True)
class DashboardFilter:
    date_from: dt.date
    date_to: dt.date
    queue: Queue | None = None


def default_range(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last twelve months: from the first day of the month eleven months ago to today."""
    today = today or timezone.localdate()
    month = today.month - (DEFAULT_MONTHS - 1)
    year = today.year
    while month <= 0:
        month += 12
        year -= 1
    return dt.date(year, month, 1), today


def dashboard_queues() -> QuerySet[Queue]:
    """The queues the filter offers (queue names are configuration, not scoped data)."""
    return Queue.objects.filter(is_active=True).order_by("position", "name")


def _bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time(), tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tz)
    return start, end


def _visible(user: Any, queue: Queue | None) -> QuerySet[Ticket]:
    qs = Ticket.objects.restrict(user, Action.VIEW).filter(merged_into__isnull=True)
    if queue is not None:
        qs = qs.filter(queue=queue)
    return qs.order_by()


def _month(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.strftime("%Y-%m")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    return str(value)[:7]


def _seconds(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return round(value.total_seconds())
    return round(float(value) / 1_000_000)  # microseconds (SQLite)


def _pct(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def open_tickets(tickets: QuerySet[Ticket]) -> dict[str, Any]:
    """Open tickets by status, priority and queue: one GROUP BY over the three (a few dozen
    rows), summed up here."""
    rows = list(
        tickets.filter(state__in=OPEN_STATES)
        .values("status_id", "priority", "queue_id")
        .annotate(n=Count("id"))
    )
    per_status: dict[int, int] = {}
    per_priority: dict[int, int] = {}
    per_queue: dict[int | None, int] = {}
    for r in rows:
        per_status[r["status_id"]] = per_status.get(r["status_id"], 0) + r["n"]
        per_priority[r["priority"]] = per_priority.get(r["priority"], 0) + r["n"]
        per_queue[r["queue_id"]] = per_queue.get(r["queue_id"], 0) + r["n"]
    statuses = {s.pk: s for s in TicketStatus.objects.filter(pk__in=per_status)}
    priorities = dict(TicketPriority.choices)
    queues = {q.pk: q for q in Queue.objects.filter(pk__in=[k for k in per_queue if k is not None])}
    ordered_statuses = sorted(
        (pk for pk in per_status if pk in statuses), key=lambda pk: (statuses[pk].position, pk)
    )
    ordered_queues = sorted(per_queue, key=lambda k: (k is None, -per_queue[k], str(queues.get(k or 0, ""))))
    return {
        "total": sum(per_status.values()),
        "by_status": [
            {
                "key": statuses[pk].code,
                "label": str(statuses[pk]),
                "state": statuses[pk].state,
                "count": per_status[pk],
            }
            for pk in ordered_statuses
        ],
        "by_priority": [
            {"key": p, "label": str(priorities.get(p, p)), "count": per_priority[p]}
            for p in sorted(per_priority, reverse=True)
        ],
        "by_queue": [
            {
                "key": k,
                "label": str(queues[k]) if k is not None and k in queues else _("No queue"),
                "count": per_queue[k],
            }
            for k in ordered_queues
        ],
    }


def backlog_age(tickets: QuerySet[Ticket], now: dt.datetime) -> list[dict[str, Any]]:
    """Open tickets by how long ago they were created."""
    aggregates = {}
    for key, _label, low, high in AGE_BUCKETS:
        condition = Q(created_at__lte=now - dt.timedelta(days=low))
        if high is not None:
            condition &= Q(created_at__gt=now - dt.timedelta(days=high))
        aggregates[key] = Count("id", filter=condition)
    row = tickets.filter(state__in=OPEN_STATES).aggregate(**aggregates)
    return [{"key": key, "label": _age_label(key), "count": row[key] or 0} for key, *_rest in AGE_BUCKETS]


def sla_summary(created: QuerySet[Ticket], visible: QuerySet[Ticket], start: Any, end: Any) -> dict[str, Any]:
    """Tickets created in the range with SLA targets: met (every target decided, none breached),
    breached (any target), still running; breaches per target from the tickets' flags and from
    the SLA events recorded in the range."""
    has_target = Q(first_response_due__isnull=False) | Q(resolution_due__isnull=False)
    breached = Q(first_response_breached=True) | Q(next_response_breached=True) | Q(resolution_breached=True)
    decided = (Q(first_response_due__isnull=True) | Q(first_responded_at__isnull=False)) & (
        Q(resolution_due__isnull=True) | Q(state__in=DONE_STATES)
    )
    row = created.aggregate(
        tickets=Count("id"),
        with_targets=Count("id", filter=has_target),
        breached=Count("id", filter=has_target & breached),
        met=Count("id", filter=has_target & ~breached & decided),
        first_response=Count("id", filter=Q(first_response_breached=True)),
        next_response=Count("id", filter=Q(next_response_breached=True)),
        resolution=Count("id", filter=Q(resolution_breached=True)),
    )
    events = dict(
        SLAEvent.objects.filter(
            kind=SLAEventKind.BREACH,
            occurred_at__gte=start,
            occurred_at__lt=end,
            ticket_id__in=visible.values("pk"),
        )
        .order_by()
        .values_list("metric")
        .annotate(n=Count("id"))
    )
    with_targets, met, broken = row["with_targets"] or 0, row["met"] or 0, row["breached"] or 0
    return {
        "tickets": row["tickets"] or 0,
        "with_targets": with_targets,
        "met": met,
        "breached": broken,
        "running": with_targets - met - broken,
        "compliance": _pct(met, met + broken),
        "by_metric": [
            {
                "key": metric.value,
                "label": str(metric.label),
                "tickets": row[metric.value] or 0,
                "events": events.get(metric.value, 0),
            }
            for metric in SLAMetric
        ],
    }


def _duration(end_field: str) -> Any:
    return ExpressionWrapper(F(end_field) - F("created_at"), output_field=DurationField())


def response_times(created: QuerySet[Ticket]) -> dict[str, Any]:
    """Average wall-clock time from creation to the first reply and to resolution."""
    row = created.aggregate(
        first_count=Count("id", filter=Q(first_responded_at__isnull=False)),
        first_avg=Avg(_duration("first_responded_at"), filter=Q(first_responded_at__isnull=False)),
        resolution_count=Count("id", filter=Q(resolved_at__isnull=False, state__in=DONE_STATES)),
        resolution_avg=Avg(
            _duration("resolved_at"), filter=Q(resolved_at__isnull=False, state__in=DONE_STATES)
        ),
    )
    return {
        "basis": "wall_clock",
        "basis_label": _("wall-clock time"),
        "first_response": {"count": row["first_count"] or 0, "average_seconds": _seconds(row["first_avg"])},
        "resolution": {
            "count": row["resolution_count"] or 0,
            "average_seconds": _seconds(row["resolution_avg"]),
        },
    }


def csat_summary(visible: QuerySet[Ticket], start: Any, end: Any) -> dict[str, Any]:
    """CSAT answers (1–5) about the visible tickets, answered in the range."""
    answers = SurveyResponse.objects.filter(
        kind=SurveyKind.CSAT, created_at__gte=start, created_at__lt=end, ticket_id__in=visible.values("pk")
    ).order_by()
    row = answers.aggregate(
        count=Count("id"),
        average=Avg("score"),
        **{f"s{n}": Count("id", filter=Q(score=n)) for n in range(1, 6)},
    )
    trend = (
        answers.annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(count=Count("id"), average=Avg("score"))
        .order_by("month")
    )
    return {
        "count": row["count"] or 0,
        "average": round(float(row["average"]), 2) if row["average"] is not None else None,
        "distribution": [{"score": n, "count": row[f"s{n}"] or 0} for n in range(1, 6)],
        "trend": [
            {"month": _month(r["month"]), "count": r["count"], "average": round(float(r["average"]), 2)}
            for r in trend
        ],
    }


def nps_summary(user: Any, start: Any, end: Any) -> dict[str, Any] | None:
    """NPS answers (0–10) the user may see (the answers' permission and account scope), answered
    in the range; None without the permission. Not per queue: NPS is about the company."""
    from .surveys import response_list

    if not can(user, SurveyResponse, Action.VIEW):
        return None
    answers = (
        response_list(user=user)
        .select_related(None)
        .filter(kind=SurveyKind.NPS, created_at__gte=start, created_at__lt=end)
        .order_by()
    )
    counts = {
        "count": Count("id"),
        "promoters": Count("id", filter=Q(score__gte=9)),
        "passives": Count("id", filter=Q(score__gte=7, score__lte=8)),
        "detractors": Count("id", filter=Q(score__lte=6)),
    }
    row = answers.aggregate(**counts)
    trend = (
        answers.annotate(month=TruncMonth("created_at")).values("month").annotate(**counts).order_by("month")
    )

    def score(r: dict[str, Any]) -> int | None:
        total = r["count"] or 0
        return round(((r["promoters"] or 0) - (r["detractors"] or 0)) * 100 / total) if total else None

    return {
        "count": row["count"] or 0,
        "score": score(row),
        "promoters": row["promoters"] or 0,
        "passives": row["passives"] or 0,
        "detractors": row["detractors"] or 0,
        "trend": [{"month": _month(r["month"]), "count": r["count"], "score": score(r)} for r in trend],
    }


def service_dashboard(
    *,
    user: Any,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    queue: Queue | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """All the dashboard's numbers (JSON-ready: the page and the API show the same)."""
    now = now or timezone.now()
    default_from, default_to = default_range(timezone.localdate(now))
    date_from = date_from or default_from
    date_to = date_to or default_to
    start, end = _bounds(date_from, date_to)
    visible = _visible(user, queue)
    created = visible.filter(created_at__gte=start, created_at__lt=end)
    return {
        "filters": {
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
            "queue": queue.pk if queue is not None else None,
        },
        "open": open_tickets(visible),
        "backlog_age": backlog_age(visible, now),
        "sla": sla_summary(created, visible, start, end),
        "times": response_times(created),
        "csat": csat_summary(visible, start, end),
        "nps": nps_summary(user, start, end),
    }
