"""SLA timers of tickets (服务级别): choosing a ticket's policy, its due times in business time,
pausing while waiting on the customer, and the sweep that warns and escalates.

The ticket services call the `sla_on_*` functions with the ticket row locked; each sets fields on
the ticket instance and returns the names it changed (the caller saves them).

Rules (the single source of truth for the SLA area; the user guide repeats them):

* Timers run in the states new / assigned / in progress. Waiting on the customer, resolved and
  closed stop them: `sla_paused_at` is the moment they stopped. Leaving those states for a running
  one resumes them: each running due time becomes ``now + (business time that was left at the
  pause)``, so it moves by exactly the business time spent stopped.
* First response: from creation until the first agent reply (`sla_on_agent_reply`).
* Next response: starts at the first customer message after an agent reply (when the policy has a
  next-response target and the first response was given) and stops at the next reply.
* Resolution: from creation until resolved/closed. **Reopening** resumes it with the business time
  that was left when it was resolved (the resolved period counts as a pause); a resolution that was
  already breached stays breached (its due time stays in the past).
* `sla_next_check` is the earliest moment the sweep has something to do: a running metric's
  warning moment (the due time minus (100 − warn %) of its target, in business time) until the
  warning was written, then its due time; null while stopped or when nothing runs.
* The sweep writes one WARNING and one BREACH event per ticket, metric and due time (the unique
  constraint makes reruns harmless) and runs the breach actions only for the events it inserted:
  notify the queue manager and the policy's users, raise the priority, move the ticket to the
  escalation queue (unassigned), raise `escalation_level`. Escalation keeps the ticket's policy and
  due times (it does not re-match policies).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.bulksql import filter_in, insert_rows, update_by_id
from kehu.core.businesstime import (
    MAX_DAYS,
    CalendarError,
    WorkCalendar,
    add_business_seconds,
    always_open,
    business_seconds,
)
from kehu.core.forking import may_fork, run_split
from kehu.users.selectors import users_by_language

from ..choices import DONE_STATES, MessageKind, SLAEventKind, SLAMetric, TicketPriority, TicketState
from ..models import BusinessCalendar, Queue, SLAEvent, SLAPolicy, Ticket, TicketMessage, TicketStatusHistory
from .common import ServiceError

log = logging.getLogger(__name__)

RUNNING_STATES = (TicketState.NEW, TicketState.ASSIGNED, TicketState.IN_PROGRESS)
STOPPED_STATES = (TicketState.WAITING, TicketState.RESOLVED, TicketState.CLOSED)
METRICS = (SLAMetric.FIRST_RESPONSE, SLAMetric.NEXT_RESPONSE, SLAMetric.RESOLUTION)

# Notification kinds and timeline events (registered in hooks/sla.py).
WARNING_KIND = "service.sla_warning"
BREACH_KIND = "service.sla_breach"
ESCALATED_KIND = "service.ticket_escalated"
ESCALATED_EVENT = "ticket.escalated"
# One recipient told about more than this many tickets in one sweep gets one summary instead.
DIGEST_AFTER = 10
PARALLEL_MIN = 5000  # due tickets from which a forked process sweeps half
SWEEP_BATCH = 1000  # (an IN list per batch: well below SQLite's 32766 variables)

METRIC_LABELS = dict(SLAMetric.choices)
SWEEP_FIELDS = (
    "id",
    "number",
    "subject",
    "state",
    "priority",
    "queue_id",
    "assignee_id",
    "department_id",
    "account_id",
    "sla_policy_id",
    "first_response_due",
    "next_response_due",
    "resolution_due",
    "sla_paused_at",
    "first_response_breached",
    "next_response_breached",
    "resolution_breached",
    "sla_next_check",
    "escalation_level",
    "escalated_at",
    "first_responded_at",
    "last_agent_message_at",
)


def due_field(metric: str) -> str:
    return f"{metric}_due"


def breached_field(metric: str) -> str:
    return f"{metric}_breached"


def target_seconds(policy: SLAPolicy | None, metric: str) -> int | None:
    if policy is None:
        return None
    minutes = getattr(policy, f"{metric}_minutes")
    return int(minutes) * 60 if minutes else None


def warn_threshold(policy: SLAPolicy, target: int) -> int:
    """Business seconds left at the warning moment: (100 − warn %) of the target."""
    return target * (100 - int(policy.warn_percent or 80)) // 100


# --- policy matching --------------------------------------------------------------------------


def _listed(conditions: dict[str, Any], key: str, value: Any) -> bool:
    wanted = conditions.get(key) or []
    if not isinstance(wanted, list | tuple) or not wanted:
        return True
    return value is not None and str(value) in {str(v) for v in wanted}


def policy_matches(
    policy: SLAPolicy,
    *,
    priority: int | None,
    type_id: int | None,
    account_level: str | None,
    account_id: int | None,
    queue_id: int | None,
) -> bool:
    """Whether a ticket with these values meets the policy's conditions (an absent or empty list
    matches anything; a condition on accounts or levels never matches a ticket without one)."""
    c = policy.conditions if isinstance(policy.conditions, dict) else {}
    return (
        _listed(c, "priorities", priority)
        and _listed(c, "types", type_id)
        and _listed(c, "account_levels", account_level or None)
        and _listed(c, "accounts", account_id)
        and _listed(c, "queues", queue_id)
    )


def policy_for(ticket: Ticket, *, policies: Iterable[SLAPolicy] | None = None) -> SLAPolicy | None:
    """The first active policy (by position) whose conditions the ticket meets."""
    if policies is None:
        policies = SLAPolicy.objects.filter(is_active=True).order_by("position", "id")
    level = None
    if ticket.account_id:
        from kehu.customers.models import Account

        level = Account.objects.filter(pk=ticket.account_id).values_list("level", flat=True).first()
    for policy in policies:
        if policy.is_active and policy_matches(
            policy,
            priority=ticket.priority,
            type_id=ticket.type_id,
            account_level=level,
            account_id=ticket.account_id,
            queue_id=ticket.queue_id,
        ):
            return policy
    return None


# --- calendars --------------------------------------------------------------------------------


class CalendarCache:
    """WorkCalendar values by calendar id (None: the default calendar, else always open), read
    once per sweep or request."""

    def __init__(self) -> None:
        self._by_id: dict[int | None, WorkCalendar] = {}
        self._default_id: int | bool | None = False

    def default_id(self) -> int | None:
        if self._default_id is False:
            self._default_id = (
                BusinessCalendar.objects.filter(is_default=True).values_list("pk", flat=True).first()
            )
        return self._default_id if isinstance(self._default_id, int) else None

    def get(self, calendar_id: int | None) -> WorkCalendar:
        if calendar_id is None:
            calendar_id = self.default_id()
        found = self._by_id.get(calendar_id)
        if found is None:
            from ..selectors import work_calendar

            calendar = BusinessCalendar.objects.filter(pk=calendar_id).first() if calendar_id else None
            found = work_calendar(calendar, use_cache=True) if calendar is not None else always_open()
            if not found.has_working_time():
                found = always_open(found.tz)
            self._by_id[calendar_id] = found
        return found


def calendar_id_for(
    ticket: Ticket, policy: SLAPolicy | None, queue_calendars: Mapping[int, int | None]
) -> int | None:
    if policy is not None and policy.calendar_id:
        return policy.calendar_id
    if ticket.queue_id:
        return queue_calendars.get(ticket.queue_id)
    return None


def calendar_for(
    ticket: Ticket, policy: SLAPolicy | None, cache: CalendarCache | None = None
) -> WorkCalendar:
    """The policy's calendar, else the ticket's queue's, else the default calendar, else 24×7."""
    cache = cache or CalendarCache()
    queue_calendars: dict[int, int | None] = {}
    if ticket.queue_id and not (policy is not None and policy.calendar_id):
        queue_calendars[ticket.queue_id] = (
            Queue.objects.filter(pk=ticket.queue_id).values_list("calendar_id", flat=True).first()
        )
    return cache.get(calendar_id_for(ticket, policy, queue_calendars))


def _add(
    cal: WorkCalendar,
    start: dt.datetime,
    seconds: int,
    pauses: Sequence[tuple[dt.datetime, dt.datetime]] = (),
) -> dt.datetime:
    try:
        return add_business_seconds(cal, start, seconds, pauses=pauses)
    except CalendarError:  # (a calendar without working time: count calendar time)
        return start + dt.timedelta(seconds=seconds)


def warning_moment(cal: WorkCalendar, due: dt.datetime, seconds: int) -> dt.datetime:
    """The moment `seconds` of business time before `due` (walking back from it: only the
    warning's share of the target is walked, whatever the distance from now)."""
    end = due.astimezone(dt.UTC)
    if seconds <= 0:
        return end
    left = dt.timedelta(seconds=seconds)
    day = end.astimezone(cal.tz).date()
    one_day = dt.timedelta(days=1)
    for _day in range(MAX_DAYS):
        for a, b in reversed(cal.day_spans(day)):
            if a >= end:
                continue
            b = min(b, end)
            if b - a >= left:
                return b - left
            left -= b - a
        day -= one_day
    return end - dt.timedelta(seconds=seconds)  # (a calendar without working time)


# --- the timers' state ------------------------------------------------------------------------


def is_running(ticket: Ticket) -> bool:
    return ticket.state in RUNNING_STATES and ticket.sla_paused_at is None


def live_metrics(ticket: Ticket) -> list[str]:
    """The metrics whose timers have not finished (running or stopped for now)."""
    live = []
    if ticket.first_response_due is not None and ticket.first_responded_at is None:
        live.append(SLAMetric.FIRST_RESPONSE.value)
    if ticket.next_response_due is not None:
        live.append(SLAMetric.NEXT_RESPONSE.value)
    if ticket.resolution_due is not None and ticket.state not in DONE_STATES:
        live.append(SLAMetric.RESOLUTION.value)
    return live


def warned_metrics(ticket: Ticket, warnings: Iterable[tuple[str, dt.datetime]]) -> set[str]:
    """Metrics whose warning of the current cycle was written, from (metric, occurred_at) of the
    ticket's WARNING events: any for first response and resolution (one budget each, reopening
    included), for next response one after the last agent reply."""
    cycle = ticket.last_agent_message_at or ticket.first_responded_at
    done = set()
    for metric, occurred in warnings:
        if metric == SLAMetric.NEXT_RESPONSE and cycle is not None and occurred <= cycle:
            continue
        done.add(metric)
    return done


def _ticket_warnings(ticket: Ticket) -> set[str]:
    rows = SLAEvent.objects.filter(ticket_id=ticket.pk, kind=SLAEventKind.WARNING).values_list(
        "metric", "occurred_at"
    )
    return warned_metrics(ticket, rows) if ticket.pk else set()


@dataclass
class Evaluation:
    warnings: list[str] = field(default_factory=list)  # metrics to warn about now
    breaches: list[str] = field(default_factory=list)  # metrics breached now
    next_check: dt.datetime | None = None


def evaluate(
    ticket: Ticket, policy: SLAPolicy | None, cal: WorkCalendar, now: dt.datetime, warned: set[str]
) -> Evaluation:
    """What is due on the ticket at `now` (warnings, breaches) and when to look again; pure."""
    result = Evaluation()
    if not is_running(ticket):
        return result
    candidates: list[dt.datetime] = []
    for metric in live_metrics(ticket):
        due = getattr(ticket, due_field(metric))
        if getattr(ticket, breached_field(metric)):
            continue
        if due <= now:
            result.breaches.append(metric)
            continue
        target = target_seconds(policy, metric)
        if policy is None or not target or metric in warned:
            candidates.append(due)
            continue
        warn_at = warning_moment(cal, due, warn_threshold(policy, target))
        if warn_at <= now:
            result.warnings.append(metric)
            candidates.append(due)
        else:
            candidates.append(warn_at)
    result.next_check = min(candidates) if candidates else None
    return result


def _next_check_for_service(
    ticket: Ticket, policy: SLAPolicy | None, cal: WorkCalendar, now: dt.datetime
) -> dt.datetime | None:
    """`sla_next_check` after a service changed the ticket: something due now (a breach, a warning
    not yet written) makes it `now` so the next sweep handles it; the sweep writes the events."""
    if not is_running(ticket) or not live_metrics(ticket):
        return None
    result = evaluate(ticket, policy, cal, now, _ticket_warnings(ticket))
    if result.warnings or result.breaches:
        return now
    return result.next_check


# --- the hooks the ticket services call -------------------------------------------------------

SLA_FIELDS = (
    "sla_policy",
    "first_response_due",
    "next_response_due",
    "resolution_due",
    "sla_paused_at",
    "first_response_breached",
    "next_response_breached",
    "resolution_breached",
    "sla_next_check",
)


def _snapshot(ticket: Ticket, names: Iterable[str]) -> dict[str, Any]:
    return {n: getattr(ticket, n if n != "sla_policy" else "sla_policy_id") for n in names}


def _changed(ticket: Ticket, before: dict[str, Any]) -> list[str]:
    after = _snapshot(ticket, before)
    return [n for n in before if before[n] != after[n]]


def _stopped_spans(ticket: Ticket) -> list[tuple[dt.datetime, dt.datetime]]:
    """The finished periods the ticket spent stopped (waiting, resolved, closed), from its status
    history; the current stop (from `sla_paused_at`) is left out: resuming moves the due times."""
    spans = []
    start = None
    rows = TicketStatusHistory.objects.filter(ticket_id=ticket.pk).order_by("changed_at", "id")
    for to_state, changed_at in rows.values_list("to_state", "changed_at"):
        if to_state in STOPPED_STATES:
            if start is None:
                start = changed_at
        elif start is not None:
            spans.append((start, changed_at))
            start = None
    return spans


def sla_apply(*, ticket: Ticket, now: dt.datetime) -> list[str]:
    """Choose the ticket's policy (the first active one whose conditions it meets) and compute its
    due times from `ticket.created_at`; on a change of priority, type, account or queue, again
    (due times keep counting from creation, time already spent waiting excluded)."""
    before = _snapshot(ticket, SLA_FIELDS)
    created = ticket.created_at or now
    if ticket.state in STOPPED_STATES and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
    elif ticket.state in RUNNING_STATES and ticket.sla_paused_at is not None:
        ticket.sla_paused_at = None
    policy = policy_for(ticket)
    ticket.sla_policy = policy
    if policy is None:
        for metric in METRICS:
            setattr(ticket, due_field(metric), None)
        ticket.sla_next_check = None
        return _changed(ticket, before)
    cal = calendar_for(ticket, policy)
    pauses = _stopped_spans(ticket) if ticket.pk else []
    # The moment each timer is measured against: its stop (a reply, a resolution) or, while it
    # runs, now; while the ticket is stopped, the moment it stopped.
    clock = ticket.sla_paused_at or now

    target = target_seconds(policy, SLAMetric.FIRST_RESPONSE)
    ticket.first_response_due = _add(cal, created, target, pauses) if target else None
    target = target_seconds(policy, SLAMetric.NEXT_RESPONSE)
    last_reply = ticket.last_agent_message_at or ticket.first_responded_at
    waiting_since = ticket.last_customer_message_at
    if (
        target
        and ticket.first_responded_at is not None
        and waiting_since is not None
        and (last_reply is None or waiting_since > last_reply)
        and ticket.state not in DONE_STATES
    ):
        ticket.next_response_due = _add(
            cal, waiting_since, target, [p for p in pauses if p[1] > waiting_since]
        )
    else:
        ticket.next_response_due = None
    target = target_seconds(policy, SLAMetric.RESOLUTION)
    ticket.resolution_due = _add(cal, created, target, pauses) if target else None

    _set_flags(ticket, clock)
    ticket.sla_next_check = _next_check_for_service(ticket, policy, cal, now)
    return _changed(ticket, before)


def _set_flags(ticket: Ticket, clock: dt.datetime) -> None:
    """Breach flags after due times were recomputed: a finished timer is breached when it finished
    after its due time; a live one keeps the sweep's flag while its due time is past."""
    due = ticket.first_response_due
    if due is None:
        ticket.first_response_breached = False
    elif ticket.first_responded_at is not None:
        ticket.first_response_breached = ticket.first_responded_at > due
    else:
        ticket.first_response_breached = ticket.first_response_breached and due <= clock
    due = ticket.next_response_due
    if due is not None:
        ticket.next_response_breached = ticket.next_response_breached and due <= clock
    due = ticket.resolution_due
    if due is None:
        ticket.resolution_breached = False
    elif ticket.state in DONE_STATES:
        finished = ticket.resolved_at or ticket.closed_at or clock
        ticket.resolution_breached = finished > due
    else:
        ticket.resolution_breached = ticket.resolution_breached and due <= clock


def sla_on_state_change(*, ticket: Ticket, old_state: str, new_state: str, now: dt.datetime) -> list[str]:
    """Pause on entering "waiting", resume (moving due times by the business time waited) on
    leaving it; stop resolution on resolved/closed; restart it on reopening (with the business time
    that was left when it was resolved)."""
    before = _snapshot(ticket, SLA_FIELDS)
    was_running = old_state in RUNNING_STATES
    runs = new_state in RUNNING_STATES
    policy = ticket.sla_policy if ticket.sla_policy_id else None
    if was_running and not runs:
        ticket.sla_paused_at = now
        ticket.sla_next_check = None
        if new_state in DONE_STATES:
            _finish_resolution(ticket, now)
    elif not was_running and runs:
        paused = ticket.sla_paused_at or now
        ticket.sla_paused_at = None
        if policy is not None:
            cal = calendar_for(ticket, policy)
            for metric in live_metrics_at_resume(ticket):
                due = getattr(ticket, due_field(metric))
                if due > paused:
                    left = business_seconds(cal, paused, due)
                    setattr(ticket, due_field(metric), _add(cal, now, left))
            ticket.sla_next_check = _next_check_for_service(ticket, policy, cal, now)
    else:
        if new_state in DONE_STATES and old_state not in DONE_STATES:
            _finish_resolution(ticket, ticket.sla_paused_at or now)
        if not runs and ticket.sla_paused_at is None:
            ticket.sla_paused_at = now
            ticket.sla_next_check = None
    return _changed(ticket, before)


def live_metrics_at_resume(ticket: Ticket) -> list[str]:
    """The timers a resume moves: first response not given, next response started, resolution
    (reopening included)."""
    live = []
    if ticket.first_response_due is not None and ticket.first_responded_at is None:
        live.append(SLAMetric.FIRST_RESPONSE.value)
    if ticket.next_response_due is not None:
        live.append(SLAMetric.NEXT_RESPONSE.value)
    if ticket.resolution_due is not None:
        live.append(SLAMetric.RESOLUTION.value)
    return live


def _finish_resolution(ticket: Ticket, moment: dt.datetime) -> None:
    """Resolved or closed: the resolution (and a first response never given) is breached when it
    finished after its due time (the sweep may not have passed yet)."""
    if ticket.resolution_due is not None and moment > ticket.resolution_due:
        ticket.resolution_breached = True
    due = ticket.first_response_due
    if due is not None and ticket.first_responded_at is None and moment > due:
        ticket.first_response_breached = True


def sla_on_agent_reply(*, ticket: Ticket, now: dt.datetime) -> list[str]:
    """A reply to the customer: the first response is done (`first_responded_at`), the next
    response timer stops until the customer writes again."""
    before = _snapshot(ticket, (*SLA_FIELDS, "first_responded_at", "last_agent_message_at"))
    clock = ticket.sla_paused_at or now
    # (the caller may have set `first_responded_at` to this reply already)
    if ticket.first_responded_at is None or ticket.first_responded_at == now:
        ticket.first_responded_at = now
        due = ticket.first_response_due
        if due is not None and clock > due:
            ticket.first_response_breached = True
    if ticket.next_response_due is not None:
        if clock > ticket.next_response_due:
            ticket.next_response_breached = True
        ticket.next_response_due = None
    ticket.last_agent_message_at = now
    policy = ticket.sla_policy if ticket.sla_policy_id else None
    if is_running(ticket):
        ticket.sla_next_check = _next_check_for_service(ticket, policy, calendar_for(ticket, policy), now)
    return _changed(ticket, before)


def sla_on_customer_message(*, ticket: Ticket, now: dt.datetime) -> list[str]:
    """The customer wrote again: the next-response timer starts (when the policy has one, the first
    response was given and no next response is pending already)."""
    before = _snapshot(ticket, (*SLA_FIELDS, "last_customer_message_at"))
    ticket.last_customer_message_at = now
    policy = ticket.sla_policy if ticket.sla_policy_id else None
    target = target_seconds(policy, SLAMetric.NEXT_RESPONSE)
    if target and ticket.first_responded_at is not None and ticket.next_response_due is None:
        cal = calendar_for(ticket, policy)
        # While stopped, the timer counts from the stop: resuming moves it by the time stopped.
        ticket.next_response_due = _add(cal, ticket.sla_paused_at or now, target)
        ticket.next_response_breached = False
        if is_running(ticket):
            ticket.sla_next_check = _next_check_for_service(ticket, policy, cal, now)
    return _changed(ticket, before)


# --- the sweep --------------------------------------------------------------------------------


@dataclass
class SweepResult:
    checked: int = 0
    warnings: int = 0
    breaches: int = 0
    notifications: int = 0


@dataclass
class _Notice:
    kind: str
    ticket: Ticket
    metric: str
    due: dt.datetime
    recipients: list[int]


def _system_text(metric: str, kind: str, level: int | None = None) -> str:
    """The system line's `code:argument` ("sla_warning:<metric>", "sla_breach:<metric>:<level>"):
    `selectors.tickets.system_line_text` writes it in each reader's language."""
    if kind == SLAEventKind.WARNING:
        return f"sla_warning:{metric}"
    return f"sla_breach:{metric}:{level}"


class SweepRow:
    """The columns of a ticket the sweep reads and writes, as attributes (a model instance costs
    ~10× more to build, and the sweep builds 100k of them)."""

    __slots__ = SWEEP_FIELDS

    def __init__(self, values: Sequence[Any]) -> None:
        for name, value in zip(SWEEP_FIELDS, values, strict=True):
            setattr(self, name, value)

    @property
    def pk(self) -> int:
        return int(getattr(self, "id"))  # noqa: B009 (a slot, not known to type checkers)


def _due_ids(now: dt.datetime) -> list[int]:
    """The tickets whose check has come (read through the partial index on `sla_next_check`)."""
    return sorted(Ticket.objects.filter(sla_next_check__lte=now).values_list("pk", flat=True))


def _lock_batch(now: dt.datetime, ids: Sequence[int]) -> list[Any]:
    """Lock these tickets if their check is still due (another sweep may have done them)."""
    # (by primary key only: with the `sla_next_check` range too, SQLite walks that index over every
    # ticket still due for each batch; the check is re-read here, after the lock)
    rows = filter_in(Ticket.objects.all(), "id", ids).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    found = (SweepRow(values) for values in rows.values_list(*SWEEP_FIELDS))
    return [row for row in found if (check := getattr(row, "sla_next_check")) is not None and check <= now]  # noqa: B009


def sla_sweep(
    *, now: dt.datetime | None = None, batch_size: int = SWEEP_BATCH, workers: int = 2
) -> SweepResult:
    """Warn and escalate every ticket whose `sla_next_check` has come (Celery beat, every minute).

    Batches of tickets are locked (PostgreSQL: SKIP LOCKED, so an overlapping sweep takes other
    rows; SQLite: IMMEDIATE transactions run one after the other), evaluated in Python with one
    cached calendar each, and written back in bulk: events with one INSERT, `sla_next_check` with
    one statement per batch. Reruns are harmless: a processed ticket's next check lies ahead, and
    an event exists once per ticket, metric, kind and due time.

    From ``PARALLEL_MIN`` due tickets on PostgreSQL (outside a transaction), a forked process
    sweeps the second half of them at the same time (``kehu.core.forking``): after an outage the
    sweep's Python keeps one core busy while the database works on the other. Notifications are
    sent here, once, for both halves; if the child fails, its unfinished tickets are still due
    and this process sweeps them."""
    now = now or timezone.now()
    due = _due_ids(now)
    result = SweepResult()
    notices: list[_Notice] = []
    try:
        if workers > 1 and len(due) >= PARALLEL_MIN and may_fork():
            half = len(due) // 2
            _mine, theirs = run_split(
                lambda: _sweep_ids(due[:half], now, batch_size, result, notices),
                lambda: _sweep_half(due[half:], now, batch_size),
                label="SLA sweep",
            )
            failed = theirs is None
            if theirs is not None:
                more, found, failed = theirs
                for name in ("checked", "warnings", "breaches"):
                    setattr(result, name, getattr(result, name) + getattr(more, name))
                notices += found
            if failed:  # (what the child committed is no longer due: the rest is swept here)
                _sweep_ids(due[half:], now, batch_size, result, notices)
        else:
            _sweep_ids(due, now, batch_size, result, notices)
    finally:
        # After the batches committed (even when a later one failed); a recipient with many of one
        # kind gets one summary.
        result.notifications += _send_notices(notices, now)
    return result


def _sweep_half(
    due: Sequence[int], now: dt.datetime, batch_size: int
) -> tuple[SweepResult, list[_Notice], bool]:
    """The forked child's half: what it did and whom to tell, even when a batch failed (then the
    parent sweeps what is still due)."""
    result = SweepResult()
    notices: list[_Notice] = []
    try:
        _sweep_ids(due, now, batch_size, result, notices)
    except Exception:
        log.exception("SLA sweep: the forked half failed after %d tickets", result.checked)
        return result, notices, True
    return result, notices, False


def _sweep_ids(
    due: Sequence[int], now: dt.datetime, batch_size: int, result: SweepResult, notices: list[_Notice]
) -> None:
    """Sweep these tickets (those still due when locked), batch by batch, counting into `result`
    and adding whom to tell to `notices` as each batch commits."""
    policies = {p.pk: p for p in SLAPolicy.objects.all().prefetch_related("notify_users")}
    policy_users = {pk: [u.pk for u in p.notify_users.all()] for pk, p in policies.items()}
    queues = {q["pk"]: q for q in Queue.objects.values("pk", "calendar_id", "manager_id")}
    queue_calendars = {pk: q["calendar_id"] for pk, q in queues.items()}
    calendars = CalendarCache()
    for start in range(0, len(due), batch_size):
        with transaction.atomic():
            batch = _lock_batch(now, due[start : start + batch_size])
            if not batch:
                continue
            found = _sweep_batch(
                batch, now, policies, policy_users, queues, queue_calendars, calendars, result
            )
        notices += found  # (committed: safe to tell)


def _sweep_batch(
    batch: list[Any],
    now: dt.datetime,
    policies: dict[int, SLAPolicy],
    policy_users: dict[int, list[int]],
    queues: Mapping[int, Mapping[str, Any]],
    queue_calendars: Mapping[int, int | None],
    calendars: CalendarCache,
    result: SweepResult,
) -> list[_Notice]:
    from kehu.audit.models import TimelineEvent

    ids = [t.pk for t in batch]
    warnings_by: dict[int, list[tuple[str, dt.datetime]]] = defaultdict(list)
    breaches_seen: set[tuple[int, str, dt.datetime]] = set()
    for ticket_id, metric, kind, due_at, occurred in filter_in(
        SLAEvent.objects.all(), "ticket", ids
    ).values_list("ticket_id", "metric", "kind", "due_at", "occurred_at"):
        if kind == SLAEventKind.WARNING:
            warnings_by[ticket_id].append((metric, occurred))
        else:
            breaches_seen.add((ticket_id, metric, due_at))

    events: list[SLAEvent] = []
    notices: list[_Notice] = []
    messages: list[TicketMessage] = []
    timeline: list[TimelineEvent] = []
    audit_rows: list[tuple[Any, str, dict[str, Any]]] = []
    only_check: list[tuple[dt.datetime | None, int]] = []
    full: list[Ticket] = []
    for ticket in batch:
        result.checked += 1
        policy = policies.get(ticket.sla_policy_id) if ticket.sla_policy_id else None
        cal = calendars.get(calendar_id_for(ticket, policy, queue_calendars))
        warned = warned_metrics(ticket, warnings_by.get(ticket.pk, ()))
        ev = evaluate(ticket, policy, cal, now, warned)
        touched = False
        for metric in ev.warnings:
            due = getattr(ticket, due_field(metric))
            recipients = [ticket.assignee_id] if ticket.assignee_id else []
            if not recipients and ticket.queue_id and queues.get(ticket.queue_id, {}).get("manager_id"):
                recipients = [queues[ticket.queue_id]["manager_id"]]
            events.append(_event(ticket, metric, SLAEventKind.WARNING, due, now, [{"notified": recipients}]))
            notices.append(_Notice(WARNING_KIND, ticket, metric, due, recipients))
            messages.append(_message(ticket, _system_text(metric, SLAEventKind.WARNING), now))
            result.warnings += 1
        breaches = [
            m for m in ev.breaches if (ticket.pk, m, getattr(ticket, due_field(m))) not in breaches_seen
        ]
        for metric in ev.breaches:
            setattr(ticket, breached_field(metric), True)
            touched = True
        for metric in breaches:
            due = getattr(ticket, due_field(metric))
            event = _event(ticket, metric, SLAEventKind.BREACH, due, now, [])  # (queue, assignee before)
            events.append(event)
            actions, changes, recipients = _breach_actions(ticket, policy, policy_users, queues, now)
            event.actions = actions
            notices.append(_Notice(BREACH_KIND, ticket, metric, due, recipients))
            messages.append(
                _message(ticket, _system_text(metric, SLAEventKind.BREACH, ticket.escalation_level), now)
            )
            timeline.append(_timeline(ticket, metric, due, now, changes, reason="sla"))
            audit_rows.append((ticket.pk, str(ticket.number), changes))
            result.breaches += 1
        # After a breach, the other metrics still run: look again at the earliest of them.
        next_check = ev.next_check
        if ev.breaches:
            next_check = evaluate(ticket, policy, cal, now, warned | set(ev.warnings)).next_check
        if next_check is not None and next_check <= now:  # (never loop on one ticket)
            next_check = now + dt.timedelta(minutes=1)
        ticket.sla_next_check = next_check
        if touched:
            full.append(ticket)
        else:
            only_check.append((next_check, ticket.pk))
    if events:
        _insert(SLAEvent, events, EVENT_COLUMNS, ignore_conflicts=True)
    if messages:
        _insert(TicketMessage, messages, MESSAGE_COLUMNS)
    if timeline:
        TimelineEvent.objects.bulk_create(timeline)
    if full:
        _write_rows(full, ESCALATION_FIELDS)
    if only_check:
        adapt = connection.ops.adapt_datetimefield_value
        update_by_id(
            Ticket._meta.db_table,
            "sla_next_check",
            [(adapt(c), pk) for c, pk in only_check],
            pg_type="timestamptz",
        )
    if audit_rows:
        from kehu.audit.services import object_changes_record_bulk

        object_changes_record_bulk(model=Ticket, action="update", rows=audit_rows, by=None)
    return notices


# What a sweep may change on a ticket it escalates (written with one executemany per batch:
# Django's bulk_update builds CASE expressions that cost seconds per thousand rows on SQLite).
ESCALATION_FIELDS = (
    "sla_next_check",
    "first_response_breached",
    "next_response_breached",
    "resolution_breached",
    "priority",
    "queue",
    "assignee",
    "department",
    "escalation_level",
    "escalated_at",
)


EVENT_COLUMNS = (
    "ticket",
    "metric",
    "kind",
    "due_at",
    "occurred_at",
    "policy",
    "queue",
    "assignee",
    "actions",
)
MESSAGE_COLUMNS = (
    "ticket",
    "kind",
    "from_name",
    "from_email",
    "to",
    "cc",
    "subject",
    "body",
    "body_text",
    "channel",
    "message_id",
    "in_reply_to",
    "references",
    "delivery",
    "delivery_error",
    "created_at",
)


def _insert(model: Any, objs: list[Any], names: Sequence[str], *, ignore_conflicts: bool = False) -> None:
    """INSERT rows in one go (``kehu.core.bulksql.insert_rows``: COPY on PostgreSQL); Django's
    bulk_create spends ~40 µs a row compiling values, and a sweep after an outage writes tens of
    thousands."""
    fields = [model._meta.get_field(n) for n in names]
    rows = [[f.get_db_prep_save(getattr(o, f.attname), connection) for f in fields] for o in objs]
    insert_rows(
        model._meta.db_table, [str(f.column) for f in fields], rows, ignore_conflicts=ignore_conflicts
    )


def _write_rows(rows: list[Ticket], names: Sequence[str]) -> None:
    fields = [Ticket._meta.get_field(n) for n in names]
    table = connection.ops.quote_name(Ticket._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(str(f.column))} = %s" for f in fields)  # type: ignore[union-attr]
    params = [
        [*(f.get_db_prep_value(getattr(t, f.attname), connection) for f in fields), t.pk]  # type: ignore[union-attr]
        for t in rows
    ]
    with connection.cursor() as cursor:
        # (the version moves like any edit's: a form opened before the escalation must not put the
        # old priority and queue back when it is saved)
        cursor.executemany(
            f"UPDATE {table} SET {assignments}, version = version + 1 WHERE id = %s",  # noqa: S608
            params,
        )


def _event(
    ticket: Ticket, metric: str, kind: str, due: dt.datetime, now: dt.datetime, actions: list[Any]
) -> SLAEvent:
    return SLAEvent(
        ticket_id=ticket.pk,
        metric=metric,
        kind=kind,
        due_at=due,
        occurred_at=now,
        policy_id=ticket.sla_policy_id,
        queue_id=ticket.queue_id,
        assignee_id=ticket.assignee_id,
        actions=actions,
    )


def _message(ticket: Ticket, text: str, now: dt.datetime) -> TicketMessage:
    return TicketMessage(
        ticket_id=ticket.pk, kind=MessageKind.SYSTEM, body="", body_text=text, created_at=now
    )


def _timeline(
    ticket: Ticket,
    metric: str | None,
    due: dt.datetime | None,
    now: dt.datetime,
    changes: dict[str, list[Any]],
    *,
    reason: str,
    by: Any = None,
) -> Any:
    from kehu.audit.models import TimelineEvent

    data: dict[str, Any] = {
        "metric": metric or "",
        "due_at": due.isoformat() if due else "",
        "level": ticket.escalation_level,
        "reason": reason,
        "changes": {
            k: [str(v[0]) if v[0] is not None else None, str(v[1]) if v[1] is not None else None]
            for k, v in changes.items()
        },
    }
    return TimelineEvent(
        occurred_at=now,
        event=ESCALATED_EVENT,
        model=Ticket._meta.label_lower,
        object_id=ticket.pk,
        object_repr=str(ticket.number)[:200],
        account_id=ticket.account_id,
        actor_id=getattr(by, "pk", None),
        actor_name=str(by)[:150] if by is not None else "",
        data=data,
    )


def _breach_actions(
    ticket: Ticket,
    policy: SLAPolicy | None,
    policy_users: dict[int, list[int]],
    queues: Mapping[int, Mapping[str, Any]],
    now: dt.datetime,
) -> tuple[list[Any], dict[str, list[Any]], list[int]]:
    """Raise the priority, move to the escalation queue (unassigned), raise the level; who to tell.
    Returns (the actions for the event's log, the field changes, the recipients)."""
    actions: list[Any] = []
    changes: dict[str, list[Any]] = {}
    recipients: list[int] = []
    if policy is not None and policy.notify_manager and ticket.queue_id:
        manager = queues.get(ticket.queue_id, {}).get("manager_id")
        if manager:
            recipients.append(manager)
    if policy is not None:
        if policy.raise_priority_to and policy.raise_priority_to > ticket.priority:
            changes["priority"] = [ticket.priority, policy.raise_priority_to]
            ticket.priority = policy.raise_priority_to
            actions.append({"priority": changes["priority"]})
        target_queue = policy.escalate_to_queue_id
        if target_queue and target_queue != ticket.queue_id and target_queue in queues:
            changes["queue"] = [ticket.queue_id, target_queue]
            changes["assignee"] = [ticket.assignee_id, None]
            ticket.queue_id = target_queue
            ticket.assignee_id = None
            ticket.department_id = None
            actions.append({"queue": changes["queue"], "assignee": changes["assignee"]})
            manager = queues[target_queue].get("manager_id")
            if policy.notify_manager and manager and manager not in recipients:
                recipients.append(manager)
        for pk in policy_users.get(policy.pk, []):
            if pk not in recipients:
                recipients.append(pk)
    changes["escalation_level"] = [ticket.escalation_level, ticket.escalation_level + 1]
    ticket.escalation_level += 1
    ticket.escalated_at = now
    actions.append({"escalation_level": ticket.escalation_level, "notified": recipients})
    return actions, changes, recipients


def _send_notices(notices: list[_Notice], now: dt.datetime) -> int:
    """One notification per event and recipient; a recipient with more than DIGEST_AFTER events of
    one kind in this batch gets one summary instead. Sent after the batch committed."""
    from kehu.notifications.services import notify

    if not notices:
        return 0
    per_recipient: dict[tuple[int, str], list[_Notice]] = defaultdict(list)
    for notice in notices:
        for pk in notice.recipients:
            per_recipient[(pk, notice.kind)].append(notice)
    digest = {key for key, items in per_recipient.items() if len(items) > DIGEST_AFTER}
    url_of = _url_maker()
    languages = {
        pk: language
        for language, ids in users_by_language(
            (pk for notice in notices for pk in notice.recipients), active_only=False
        ).items()
        for pk in ids
    }
    sent = 0
    for notice in notices:
        recipients = [pk for pk in notice.recipients if (pk, notice.kind) not in digest]
        groups: dict[str, list[int]] = defaultdict(list)
        for pk in recipients:
            groups[languages.get(pk, settings.LANGUAGE_CODE)].append(pk)
        for language, group in groups.items():
            with translation.override(language):
                label = METRIC_LABELS.get(notice.metric, notice.metric)
                if notice.kind == WARNING_KIND:
                    title = _("%(number)s: %(metric)s due soon") % {
                        "number": notice.ticket.number,
                        "metric": label,
                    }
                    level = "warning"
                else:
                    title = _("%(number)s: %(metric)s overdue, escalated") % {
                        "number": notice.ticket.number,
                        "metric": label,
                    }
                    level = "error"
            sent += len(
                notify(
                    recipients=group,
                    kind=notice.kind,
                    title=title,
                    body=str(notice.ticket.subject),
                    url=url_of(notice.ticket.pk),
                    level=level,
                    target=Ticket(pk=notice.ticket.pk),
                )
            )
    for pk, kind in sorted(digest):
        count = len(per_recipient[(pk, kind)])
        with translation.override(languages.get(pk, settings.LANGUAGE_CODE)):
            if kind == WARNING_KIND:
                title = _("%(count)d tickets are nearly due") % {"count": count}
            else:
                title = _("%(count)d tickets breached their SLA and were escalated") % {"count": count}
        sent += len(notify(recipients=[pk], kind=kind, title=title, url="/service/tickets/", level="warning"))
    return sent


# --- manual escalation ------------------------------------------------------------------------


@transaction.atomic
def ticket_escalate(*, ticket: Ticket, by: Any, reason: str, to_queue: Queue | None = None) -> Ticket:
    """Escalate a ticket by hand: raise its escalation level, optionally move it (unassigned) to
    another queue, tell that queue's manager (else the current queue's), write a system line and a
    timeline event "ticket escalated". Refused on a resolved or closed ticket, without a reason, and
    (PermissionDeniedError) when `by` may not change the ticket."""
    from kehu.notifications.services import notify

    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(
            gettext_lazy("Say why the ticket is escalated."),
            code=ServiceError.NOT_ALLOWED,
            fields={"reason": [_("This field is required.")]},
        )
    if by is not None:
        from kehu.core import owned
        from kehu.core.choices import Action

        owned.check_action(by, Ticket, Action.CHANGE, obj=ticket)
    locked = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)
    if locked.state in DONE_STATES:
        raise ServiceError(
            gettext_lazy("A resolved or closed ticket cannot be escalated."), code=ServiceError.NOT_ALLOWED
        )
    if to_queue is not None and not to_queue.is_active:
        raise ServiceError(
            gettext_lazy("This queue is not active."),
            code=ServiceError.NOT_ALLOWED,
            fields={"to_queue": [_("This queue is not active.")]},
        )
    now = timezone.now()
    changes: dict[str, list[Any]] = {}
    fields = ["escalation_level", "escalated_at", "updated_at"]
    if to_queue is not None and to_queue.pk != locked.queue_id:
        changes["queue"] = [locked.queue_id, to_queue.pk]
        changes["assignee"] = [locked.assignee_id, None]
        locked.queue = to_queue
        locked.assignee = None
        locked.department = None
        fields += ["queue", "assignee", "department"]
    changes["escalation_level"] = [locked.escalation_level, locked.escalation_level + 1]
    locked.escalation_level += 1
    locked.escalated_at = now
    if "queue" in changes:
        fields += sla_apply(ticket=locked, now=now)
    if hasattr(locked, "version"):
        locked.version += 1
        fields.append("version")
    locked.save(update_fields=sorted(set(fields)))
    # (a system line: `selectors.tickets.system_line_text` writes it in each reader's language)
    line = {"level": locked.escalation_level, "user": str(by) if by is not None else "", "reason": reason}
    TicketMessage.objects.create(
        ticket=locked,
        kind=MessageKind.SYSTEM,
        author=by,
        body="",
        body_text="escalated:" + json.dumps(line, ensure_ascii=False),
        created_at=now,
    )
    event = _timeline(locked, None, None, now, changes, reason="manual", by=by)
    event.data["note"] = reason
    event.save()
    manager = None
    if locked.queue_id:
        manager = Queue.objects.filter(pk=locked.queue_id).values_list("manager_id", flat=True).first()
    recipients = [pk for pk in (manager, locked.assignee_id) if pk and pk != getattr(by, "pk", None)]
    for language, group in users_by_language(recipients, active_only=False).items():
        with translation.override(language):
            title = _("%(number)s was escalated") % {"number": locked.number}
        notify(
            recipients=group,
            kind=ESCALATED_KIND,
            title=title,
            body=reason,
            url=ticket_url(locked.pk),
            level="warning",
            actor=by,
            target=locked,
        )
    ticket.refresh_from_db()
    return locked


def ticket_url(pk: int) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(Ticket.detail_url_name, args=[pk])
    except NoReverseMatch:  # (the ticket pages are not wired yet)
        return f"/service/tickets/{pk}/"


def _url_maker() -> Any:
    """ticket id -> its page, reversing once (a sweep builds thousands)."""
    sample = ticket_url(987654321)
    head, _sep, tail = sample.partition("987654321")
    return lambda pk: f"{head}{pk}{tail}"


def priority_label(value: int) -> str:
    return str(dict(TicketPriority.choices).get(value, value))


# --- SLA policies -----------------------------------------------------------------------------

POLICY_FIELDS = (
    "name",
    "name_en",
    "description",
    "is_active",
    "calendar",
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "warn_percent",
    "notify_manager",
    "raise_priority_to",
    "escalate_to_queue",
)
CONDITION_KEYS = ("priorities", "types", "account_levels", "accounts", "queues")


def clean_conditions(raw: Any) -> dict[str, list[Any]]:
    """Conditions as stored: known keys only, non-empty lists, ids and priorities as integers,
    levels as strings. Anything else is refused with a field error."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise ServiceError(
            _("Conditions must be an object."), code="invalid", fields={"conditions": [_("Not an object.")]}
        )
    unknown = set(raw) - set(CONDITION_KEYS)
    if unknown:
        raise ServiceError(
            _("Unknown condition: %(names)s.") % {"names": ", ".join(sorted(map(str, unknown)))},
            code="invalid",
            fields={"conditions": [_("Allowed: %(keys)s.") % {"keys": ", ".join(CONDITION_KEYS)}]},
        )
    clean: dict[str, list[Any]] = {}
    for key in CONDITION_KEYS:
        values = raw.get(key) or []
        if not isinstance(values, list | tuple):
            raise ServiceError(
                _("Each condition is a list."), code="invalid", fields={key: [_("Not a list.")]}
            )
        if key == "account_levels":
            items: list[Any] = sorted({str(v) for v in values if str(v).strip()})
        else:
            try:
                items = sorted({int(v) for v in values})
            except (TypeError, ValueError):
                raise ServiceError(
                    _("Conditions list ids."), code="invalid", fields={key: [_("Enter whole numbers.")]}
                ) from None
            if key == "priorities" and any(v not in TicketPriority.values for v in items):
                raise ServiceError(
                    _("Unknown priority."), code="invalid", fields={key: [_("Unknown priority.")]}
                )
        if items:
            clean[key] = items
    return clean


def _policy_write(policy: SLAPolicy, data: Any) -> SLAPolicy:
    from django.core.exceptions import ValidationError

    for name in POLICY_FIELDS:
        if name in data:
            setattr(policy, name, data[name])
    if "conditions" in data:
        policy.conditions = clean_conditions(data["conditions"])
    if not (policy.first_response_minutes or policy.next_response_minutes or policy.resolution_minutes):
        raise ServiceError(
            _("Give the policy at least one target."),
            code="invalid",
            fields={"first_response_minutes": [_("Give at least one target.")]},
        )
    try:
        policy.full_clean(exclude=["position", "notify_users"])
    except ValidationError as exc:
        raise ServiceError(
            _("Please correct the errors below."),
            code="invalid",
            fields={k: [str(m) for m in v] for k, v in exc.message_dict.items()},
        ) from None
    policy.save()
    if "notify_users" in data:
        policy.notify_users.set(data["notify_users"] or [])
    return policy


@transaction.atomic
def sla_policy_create(*, by: Any, data: Any) -> SLAPolicy:
    """A new policy, placed last. `data`: the policy's fields, `conditions`, `notify_users`."""
    last = SLAPolicy.objects.order_by("-position").values_list("position", flat=True).first()
    return _policy_write(SLAPolicy(position=(last or 0) + 1), data)


@transaction.atomic
def sla_policy_update(*, policy: SLAPolicy, by: Any, data: Any) -> SLAPolicy:
    """Change a policy. Tickets keep their due times until their next change re-applies the
    policies (new tickets use the new targets at once)."""
    locked = SLAPolicy.objects.select_for_update().get(pk=policy.pk)
    return _policy_write(locked, data)


@transaction.atomic
def sla_policy_delete(*, policy: SLAPolicy, by: Any) -> None:
    """Delete a policy; its tickets keep their due times (their policy link is cleared)."""
    policy.delete()


@transaction.atomic
def sla_policy_reorder(*, ids: Sequence[int], by: Any) -> None:
    """The policies in this order (the first that matches a ticket applies): every policy once."""
    existing = list(
        SLAPolicy.objects.select_for_update().order_by("position", "id").values_list("pk", flat=True)
    )
    if sorted(ids) != sorted(existing) or len(set(ids)) != len(ids):
        raise ServiceError(_("The list changed meanwhile: reload the page."), code=ServiceError.STALE)
    for position, pk in enumerate(ids, start=1):
        SLAPolicy.objects.filter(pk=pk).exclude(position=position).update(position=position)
