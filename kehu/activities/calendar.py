"""The activity calendar: reads for the month/week pages and the iCalendar feed, and the feed's
secret URL (create / regenerate / revoke).

What is on a calendar: tasks by their due time (cancelled ones left out) and interactions of kind
meeting or visit from `occurred_at` for `duration_minutes` (one hour when empty). Every read starts
from ``restrict(user, "view")``: a manager sees the people of their scope, nobody sees more.

The feed URL carries a random token; only its SHA-256 is stored (like API tokens), so the URL
is shown once, right after it is made. Regenerating replaces the token (the old URL stops
working); revoking switches the feed off until a new one is made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from kehu.core.choices import Action

from .choices import InteractionKind, TaskStatus
from .models import CalendarFeed, Interaction, Task

CALENDAR_KINDS = (InteractionKind.MEETING, InteractionKind.VISIT)
DEFAULT_MEETING_MINUTES = 60
TASK_MINUTES = 30  # a task is drawn as a short event at its due time
MAX_ITEMS = 2000  # per kind and page: a calendar is not an export
TOKEN_PREFIX = "kc_"
LAST_USED_EVERY = dt.timedelta(hours=1)


@dataclass
class CalendarItem:
    kind: str  # "task" | "interaction"
    pk: int
    title: str
    start: dt.datetime
    end: dt.datetime
    all_day: bool
    url: str
    owner_id: int | None
    owner_name: str
    status: str  # task status, or the interaction kind
    location: str = ""
    account_name: str = ""

    @property
    def is_done(self) -> bool:
        return self.kind == "task" and self.status == TaskStatus.DONE

    @property
    def local_start(self) -> dt.datetime:
        return timezone.localtime(self.start)

    @property
    def local_end(self) -> dt.datetime:
        return timezone.localtime(self.end)


def calendar_tasks(*, user: Any, start: dt.datetime, end: dt.datetime) -> QuerySet[Task]:
    return (
        Task.objects.restrict(user, Action.VIEW)
        .filter(due_at__gte=start, due_at__lt=end)
        .exclude(status=TaskStatus.CANCELLED)
    )


def calendar_interactions(*, user: Any, start: dt.datetime, end: dt.datetime) -> QuerySet[Interaction]:
    # A meeting that began the evening before may still run into the window: look back one day.
    return Interaction.objects.restrict(user, Action.VIEW).filter(
        kind__in=CALENDAR_KINDS, occurred_at__gte=start - dt.timedelta(days=1), occurred_at__lt=end
    )


def _task_item(t: Task) -> CalendarItem:
    assert t.due_at is not None
    return CalendarItem(
        kind="task",
        pk=t.pk,
        title=t.title,
        start=t.due_at,
        end=t.due_at + dt.timedelta(minutes=TASK_MINUTES),
        all_day=t.all_day,
        url=t.get_absolute_url(),
        owner_id=t.owner_id,
        owner_name=str(t.owner) if t.owner_id else "",
        status=t.status,
        account_name=str(t.account) if t.account_id else "",
    )


def _interaction_item(i: Interaction) -> CalendarItem:
    return CalendarItem(
        kind="interaction",
        pk=i.pk,
        title=i.subject,
        start=i.occurred_at,
        end=i.occurred_at + dt.timedelta(minutes=i.duration_minutes or DEFAULT_MEETING_MINUTES),
        all_day=False,
        url=i.get_absolute_url(),
        owner_id=i.owner_id,
        owner_name=str(i.owner) if i.owner_id else "",
        status=i.kind,
        location=i.location,
        account_name=str(i.account) if i.account_id else "",
    )


def calendar_items(
    *, user: Any, start: dt.datetime, end: dt.datetime, owner_ids: Iterable[int] | None = None
) -> list[CalendarItem]:
    """Tasks and meetings/visits between `start` and `end` the user may view, sorted by start.

    `owner_ids`: only these people's items (None: everyone in the user's scope). Two queries."""
    tasks = calendar_tasks(user=user, start=start, end=end)
    meetings = calendar_interactions(user=user, start=start, end=end)
    if owner_ids is not None:
        ids = list(owner_ids)
        tasks = tasks.filter(owner_id__in=ids)
        meetings = meetings.filter(owner_id__in=ids)
    items = [
        _task_item(t) for t in tasks.select_related("owner", "account").order_by("due_at", "id")[:MAX_ITEMS]
    ]
    items += [
        _interaction_item(i)
        for i in meetings.select_related("owner", "account").order_by("occurred_at", "id")[:MAX_ITEMS]
        if i.occurred_at + dt.timedelta(minutes=i.duration_minutes or DEFAULT_MEETING_MINUTES) > start
    ]
    items.sort(key=lambda it: (not it.all_day, it.start, it.kind, it.pk))
    return items


def calendar_people(*, user: Any, start: dt.datetime, end: dt.datetime) -> list[Any]:
    """People whose calendar the user may look at for this window: themselves and the owners of
    the tasks and meetings they may view in it (two grouped queries and one for the users)."""
    owners: set[Any] = set(
        calendar_tasks(user=user, start=start, end=end).values_list("owner_id", flat=True).distinct()
    )
    owners |= set(
        calendar_interactions(user=user, start=start, end=end).values_list("owner_id", flat=True).distinct()
    )
    owners.discard(None)
    owners.add(user.pk)
    people = list(get_user_model().objects.filter(pk__in=owners, is_active=True).select_related("department"))
    people.sort(key=lambda u: (u.pk != user.pk, str(u)))
    return people


# --- the iCalendar feed's secret URL ------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_create(*, user: Any) -> tuple[CalendarFeed, str]:
    """Make (or regenerate) the user's feed: returns the feed and the token, which is never stored
    and cannot be shown again. The previous URL, if any, stops working at once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    feed, _created = CalendarFeed.objects.select_for_update().update_or_create(
        user_id=user.pk,
        defaults={
            "token_hash": token_hash(token),
            "created_at": timezone.now(),
            "last_used_at": None,
            "revoked_at": None,
        },
    )
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, user: Any) -> bool:
    """Switch the user's feed off (its URL answers 404). Returns False when there was none."""
    return bool(
        CalendarFeed.objects.filter(user_id=user.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def calendar_feed_for_user(*, user: Any) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user_id=user.pk).first()


def calendar_feed_by_token(*, token: str, now: dt.datetime | None = None) -> CalendarFeed | None:
    """The active feed of this token (its owner active too), or None. Notes the use at most once an
    hour (one UPDATE only when due, so a calendar polling every minute costs no write)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None:
        return None
    now = now or timezone.now()
    if feed.last_used_at is None or feed.last_used_at < now - LAST_USED_EVERY:
        CalendarFeed.objects.filter(pk=feed.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY)
        ).update(last_used_at=now)
        feed.last_used_at = now
    return feed


def feed_items(*, user: Any, now: dt.datetime | None = None) -> tuple[list[Task], list[Interaction]]:
    """What the user's own feed holds: their own tasks (assignee) and the meetings and visits they
    own or take part in, from 90 days back to a year ahead, within what they may view."""
    now = now or timezone.now()
    start, end = now - dt.timedelta(days=90), now + dt.timedelta(days=365)
    tasks = list(
        calendar_tasks(user=user, start=start, end=end)
        .filter(owner_id=user.pk)
        .select_related("account")
        .order_by("due_at", "id")[: MAX_ITEMS * 2]
    )
    participated = Interaction.participants.through.objects.filter(user_id=user.pk).values("interaction_id")
    meetings = list(
        calendar_interactions(user=user, start=start, end=end)
        .filter(Q(owner_id=user.pk) | Q(pk__in=participated))
        .select_related("account", "contact")
        .order_by("occurred_at", "id")[: MAX_ITEMS * 2]
    )
    return tasks, meetings
