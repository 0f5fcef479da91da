"""Scoped reads of interactions and tasks: the 360° tab of accounts and contacts, My day, the
team view. Every queryset starts from ``restrict(user, "view")``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from kehu.core.choices import Action

from .choices import OPEN_TASK_STATUSES, TaskStatus
from .models import Interaction, Task


def interactions_visible(user: Any) -> QuerySet[Interaction]:
    return Interaction.objects.restrict(user, Action.VIEW)


def tasks_visible(user: Any) -> QuerySet[Task]:
    return Task.objects.restrict(user, Action.VIEW)


def account_interactions(*, user: Any, account_id: int) -> QuerySet[Interaction]:
    return (
        interactions_visible(user)
        .filter(account_id=account_id)
        .select_related("owner", "contact")
        .order_by("-occurred_at", "-id")
    )


def contact_interactions(*, user: Any, contact_id: int) -> QuerySet[Interaction]:
    return (
        interactions_visible(user)
        .filter(Q(contact_id=contact_id) | Q(participant_contacts=contact_id))
        .distinct()
        .select_related("owner", "account", "contact")
        .order_by("-occurred_at", "-id")
    )


def account_open_tasks(*, user: Any, account_id: int) -> QuerySet[Task]:
    return (
        tasks_visible(user)
        .filter(account_id=account_id, status__in=OPEN_TASK_STATUSES)
        .select_related("owner", "contact")
        .order_by("due_at", "id")
    )


def contact_open_tasks(*, user: Any, contact_id: int) -> QuerySet[Task]:
    return (
        tasks_visible(user)
        .filter(contact_id=contact_id, status__in=OPEN_TASK_STATUSES)
        .select_related("owner", "account")
        .order_by("due_at", "id")
    )


def _local_day(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = timezone.make_aware(dt.datetime.combine(start.date() + dt.timedelta(days=1), dt.time()))
    return start, end


@dataclass
class MyDay:
    overdue: list[Task] = field(default_factory=list)
    today: list[Task] = field(default_factory=list)
    upcoming: list[Task] = field(default_factory=list)
    done_today: list[Task] = field(default_factory=list)
    no_date: list[Task] = field(default_factory=list)
    interactions_today: int = 0

    @property
    def open_count(self) -> int:
        return len(self.overdue) + len(self.today)


MY_DAY_LIMIT = 100


def my_day(*, user: Any, now: dt.datetime | None = None, days: int = 7) -> MyDay:
    """The signed-in user's own tasks: overdue, due today (the user's local day), the next `days`
    days, without a date, and done today. Two task queries and one count."""
    now = now or timezone.now()
    start, end = _local_day(now)
    horizon = end + dt.timedelta(days=days)
    mine = tasks_visible(user).filter(owner=user).select_related("account", "contact")
    day = MyDay()
    open_rows = (
        mine.filter(status__in=OPEN_TASK_STATUSES)
        .filter(Q(due_at__lt=horizon) | Q(due_at__isnull=True))
        .order_by("due_at", "id")[: MY_DAY_LIMIT * 3]
    )
    for task in open_rows:
        if task.due_at is None:
            day.no_date.append(task)
        elif task.due_at < (start if task.all_day else now):
            day.overdue.append(task)
        elif task.due_at < end:
            day.today.append(task)
        else:
            day.upcoming.append(task)
    day.done_today = list(
        mine.filter(status=TaskStatus.DONE, completed_at__gte=start, completed_at__lt=end).order_by(
            "-completed_at"
        )[:MY_DAY_LIMIT]
    )
    day.interactions_today = (
        interactions_visible(user).filter(owner=user, occurred_at__gte=start, occurred_at__lt=end).count()
    )
    return day


@dataclass
class TeamMember:
    user: Any
    open: int
    overdue: int
    due_today: int
    done_7d: int


def team_summary(*, user: Any, now: dt.datetime | None = None) -> list[TeamMember]:
    """Per assignee among the tasks the user may view: open, overdue, due today and done in the
    last 7 days. One grouped query plus one for the users; most overdue first."""
    now = now or timezone.now()
    _start, end = _local_day(now)
    open_q = Q(status__in=OPEN_TASK_STATUSES)
    rows = (
        tasks_visible(user)
        .exclude(owner__isnull=True)
        .values("owner")
        .annotate(
            open=Count("id", filter=open_q),
            overdue=Count("id", filter=open_q & Q(due_at__lt=now)),
            due_today=Count("id", filter=open_q & Q(due_at__gte=now, due_at__lt=end)),
            done_7d=Count(
                "id", filter=Q(status=TaskStatus.DONE, completed_at__gte=now - dt.timedelta(days=7))
            ),
        )
        .order_by()
    )
    counts = {r["owner"]: r for r in rows if r["open"] or r["done_7d"]}
    users = get_user_model().objects.filter(pk__in=counts).select_related("department")
    members = [
        TeamMember(
            user=u,
            open=counts[u.pk]["open"],
            overdue=counts[u.pk]["overdue"],
            due_today=counts[u.pk]["due_today"],
            done_7d=counts[u.pk]["done_7d"],
        )
        for u in users
    ]
    members.sort(key=lambda m: (-m.overdue, -m.open, str(m.user)))
    return members


def team_overdue(*, user: Any, now: dt.datetime | None = None, limit: int = 50) -> list[Task]:
    now = now or timezone.now()
    return list(
        tasks_visible(user)
        .filter(status__in=OPEN_TASK_STATUSES, due_at__lt=now)
        .select_related("owner", "account")
        .order_by("due_at", "id")[:limit]
    )


def record_interactions(*, user: Any, field: str, pk: int) -> QuerySet[Interaction]:
    """The interactions of a lead or an opportunity (`field` "lead" / "opportunity") the user may
    view, newest first."""
    assert field in ("lead", "opportunity")
    return (
        interactions_visible(user)
        .filter(**{f"{field}_id": pk})
        .select_related("owner", "contact", "account")
        .order_by("-occurred_at", "-id")
    )


def record_open_tasks(*, user: Any, field: str, pk: int) -> QuerySet[Task]:
    """The open tasks of a lead or an opportunity the user may view, soonest due first."""
    assert field in ("lead", "opportunity")
    return (
        Task.objects.restrict(user, Action.VIEW)
        .filter(**{f"{field}_id": pk}, status__in=OPEN_TASK_STATUSES)
        .select_related("owner", "contact", "account")
        .order_by(F("due_at").asc(nulls_last=True), "id")
    )
