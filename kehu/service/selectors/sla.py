"""Reads of the SLA area: the policies a user may see, a ticket's timers for its page, the events
log and the SLA compliance report (per queue, agent or priority)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from kehu.core.businesstime import business_seconds
from kehu.core.choices import Action

from ..choices import DONE_STATES, SLAMetric, TicketPriority
from ..models import Queue, SLAEvent, SLAPolicy, Ticket
from ..services.sla import (
    CalendarCache,
    calendar_for,
    calendar_id_for,
    target_seconds,
    warn_threshold,
)


def sla_policy_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[SLAPolicy]:
    return SLAPolicy.objects.restrict(user, action).select_related("calendar", "escalate_to_queue")


def sla_event_list(*, user: Any) -> QuerySet[SLAEvent]:
    """Events of the tickets the user may see."""
    tickets = Ticket.objects.restrict(user, Action.VIEW)
    return SLAEvent.objects.filter(ticket__in=tickets).select_related("ticket", "policy", "queue", "assignee")


# --- a ticket's timers ------------------------------------------------------------------------

RUNNING, PAUSED, MET, BREACHED, WARNING, STOPPED = (
    "running",
    "paused",
    "met",
    "breached",
    "warning",
    "stopped",
)


@dataclass
class Timer:
    metric: str
    label: str
    due: dt.datetime | None
    remaining: int | None  # business seconds left (negative: overdue)
    state: str  # running / paused / met / breached / warning / stopped
    percent: int  # of the target used, 0–100 (100 when breached)
    target: int | None  # business seconds
    done_at: dt.datetime | None = None

    @property
    def colour(self) -> str:
        return {BREACHED: "danger", WARNING: "warning", MET: "success", PAUSED: "secondary"}.get(
            self.state, "primary"
        )

    @property
    def remaining_text(self) -> str:
        return duration_text(abs(self.remaining)) if self.remaining is not None else ""


def duration_text(seconds: int) -> str:
    from django.utils.translation import gettext as _

    minutes = seconds // 60
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


def sla_timers(ticket: Ticket, now: dt.datetime | None = None) -> list[Timer]:
    """The ticket's first response, next response and resolution timers as its page shows them
    (metrics without a due time are left out)."""
    now = now or timezone.now()
    policy = ticket.sla_policy if ticket.sla_policy_id else None
    if not any(getattr(ticket, f"{m}_due") for m in SLAMetric.values):
        return []
    cal = calendar_for(ticket, policy)
    labels = dict(SLAMetric.choices)
    timers = []
    done = ticket.state in DONE_STATES
    for metric in SLAMetric.values:
        due = getattr(ticket, f"{metric}_due")
        if due is None:
            continue
        breached = bool(getattr(ticket, f"{metric}_breached"))
        target = target_seconds(policy, metric)
        finished: dt.datetime | None = None
        if metric == SLAMetric.FIRST_RESPONSE and ticket.first_responded_at:
            finished = ticket.first_responded_at
        elif metric == SLAMetric.RESOLUTION and done:
            finished = ticket.resolved_at or ticket.closed_at or ticket.sla_paused_at
        clock = finished or ticket.sla_paused_at or now
        remaining = business_seconds(cal, clock, due) if clock <= due else -business_seconds(cal, due, clock)
        if finished is not None:
            state = BREACHED if breached or finished > due else MET
        elif breached or (remaining <= 0 and due <= now and ticket.sla_paused_at is None):
            state = BREACHED
        elif done:
            state = STOPPED
        elif ticket.sla_paused_at is not None:
            state = PAUSED
        elif target and policy is not None and remaining <= warn_threshold(policy, target):
            state = WARNING
        else:
            state = RUNNING
        if target:
            percent = (
                100 if state == BREACHED else max(0, min(100, round(100 * (target - remaining) / target)))
            )
        else:
            percent = 100 if state in (BREACHED, MET) else 0
        timers.append(
            Timer(
                metric=metric,
                label=str(labels[metric]),
                due=due,
                remaining=remaining,
                state=state,
                percent=percent,
                target=target,
                done_at=finished,
            )
        )
    return timers


# --- compliance report ------------------------------------------------------------------------

GROUPINGS = ("queue", "assignee", "priority")


@dataclass
class ComplianceRow:
    key: Any
    label: str
    tickets: int = 0
    with_targets: int = 0
    met: int = 0
    breached: int = 0
    first_response_seconds: list[int] = field(default_factory=list)
    resolution_seconds: list[int] = field(default_factory=list)

    @property
    def compliance(self) -> float | None:
        decided = self.met + self.breached
        return round(100 * self.met / decided, 1) if decided else None

    @property
    def avg_first_response(self) -> int | None:
        values = self.first_response_seconds
        return sum(values) // len(values) if values else None

    @property
    def avg_resolution(self) -> int | None:
        values = self.resolution_seconds
        return sum(values) // len(values) if values else None

    @property
    def avg_first_response_text(self) -> str:
        return duration_text(self.avg_first_response) if self.avg_first_response is not None else "—"

    @property
    def avg_resolution_text(self) -> str:
        return duration_text(self.avg_resolution) if self.avg_resolution is not None else "—"


REPORT_FIELDS = (
    "pk",
    "queue_id",
    "assignee_id",
    "priority",
    "state",
    "sla_policy_id",
    "created_at",
    "first_response_due",
    "resolution_due",
    "first_response_breached",
    "next_response_breached",
    "resolution_breached",
    "first_responded_at",
    "resolved_at",
)


def sla_compliance(
    *, user: Any, date_from: dt.date | None = None, date_to: dt.date | None = None, group_by: str = "queue"
) -> list[ComplianceRow]:
    """Per queue, agent or priority, for tickets created in the range that the user may see:
    tickets, those with SLA targets, met (every target decided and none breached), breached (any
    breached), compliance % = met / (met + breached), and the average first-response and
    resolution times in business time (from creation, waiting included). The last row totals."""
    if group_by not in GROUPINGS:
        group_by = "queue"
    rows = Ticket.objects.restrict(user, Action.VIEW)
    tz = timezone.get_current_timezone()
    if date_from:
        rows = rows.filter(created_at__gte=dt.datetime.combine(date_from, dt.time(), tz))
    if date_to:
        rows = rows.filter(created_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tz))
    policies = {p.pk: p for p in SLAPolicy.objects.all()}
    queues = {q.pk: q for q in Queue.objects.all()}
    queue_calendars = {pk: q.calendar_id for pk, q in queues.items()}
    calendars = CalendarCache()
    groups: dict[Any, ComplianceRow] = {}
    total = ComplianceRow(key=None, label="")
    users: dict[int, str] = {}
    for values in rows.values(*REPORT_FIELDS).iterator(chunk_size=2000):
        key = values[f"{group_by}_id"] if group_by != "priority" else values["priority"]
        row = groups.get(key)
        if row is None:
            row = groups[key] = ComplianceRow(key=key, label="")
        ticket = Ticket(queue_id=values["queue_id"])
        policy = policies.get(values["sla_policy_id"]) if values["sla_policy_id"] else None
        cal = calendars.get(calendar_id_for(ticket, policy, queue_calendars))
        for target in (row, total):
            _count(target, values, cal)
        if group_by == "assignee" and key:
            users[key] = ""
    if group_by == "assignee" and users:
        from django.contrib.auth import get_user_model

        for u in get_user_model().objects.filter(pk__in=users):
            users[u.pk] = (
                str(u.get_full_name() or u.get_username()) if hasattr(u, "get_full_name") else str(u)
            )
    from django.utils.translation import gettext as _

    priorities = dict(TicketPriority.choices)
    for key, row in groups.items():
        if key is None:
            row.label = _("Unassigned") if group_by == "assignee" else _("No queue")
        elif group_by == "queue":
            row.label = str(queues[key]) if key in queues else str(key)
        elif group_by == "assignee":
            row.label = users.get(key) or str(key)
        else:
            row.label = str(priorities.get(key, key))
    ordered = sorted(
        groups.values(),
        key=lambda r: (r.key is None, -r.key if group_by == "priority" and r.key else 0, r.label),
    )
    total.label = _("Total")
    return [*ordered, total] if ordered else []


def _count(row: ComplianceRow, values: dict[str, Any], cal: Any) -> None:
    row.tickets += 1
    has_target = values["first_response_due"] is not None or values["resolution_due"] is not None
    if not has_target:
        return
    row.with_targets += 1
    breached = (
        values["first_response_breached"] or values["next_response_breached"] or values["resolution_breached"]
    )
    first_done = values["first_response_due"] is None or values["first_responded_at"] is not None
    resolved = values["resolution_due"] is None or values["state"] in DONE_STATES
    if breached:
        row.breached += 1
    elif first_done and resolved:
        row.met += 1
    created = values["created_at"]
    if values["first_responded_at"]:
        row.first_response_seconds.append(business_seconds(cal, created, values["first_responded_at"]))
    if values["resolved_at"] and values["state"] in DONE_STATES:
        row.resolution_seconds.append(business_seconds(cal, created, values["resolved_at"]))
