"""Task reminders (提醒): planned by the task services, sent by Celery beat every minute.

Rules
-----
* A task has at most one pending reminder: for its assignee (the owner), at
  ``due_at - remind_before_minutes``, while the task is open (open / in progress), has a due time
  in the future and a "remind before". An all-day task counts back from the end of its day in the
  assignee's time zone instead (it is due by then): 900 minutes before is 09:00 on the day. A new
  task without a "remind before" gets its assignee's default (`kehu.activities.preferences`).
  Every task write calls `reminder_schedule_for_task`, which
  cancels pending reminders that no longer match (new due time, new assignee, done, cancelled,
  reminder switched off) and plans the one that does. It is idempotent: calling it twice changes
  nothing, and a reminder already sent for the same moment is not planned again.
* `reminders_send_due` (beat, every minute) sends pending reminders whose time has come. Each
  batch is ONE transaction: the rows are locked with ``SELECT ... FOR UPDATE SKIP LOCKED``, the
  notification (`notify(kind="task.reminder")`, in-app and/or e-mail as the recipient prefers,
  in their language and time zone) is written and the reminder marked ``sent`` (``sent_at``,
  ``notification_id``) in that same transaction. So two workers never send one reminder twice
  (the second skips the locked rows and then sees them sent), and a worker that dies mid-batch
  loses nothing (the rows are still pending after the rollback and the next run sends them).
  E-mails go out after the commit; their own delivery is idempotent too.
* Late runs (beat was down): overdue reminders are still sent, up to
  ``KEHU_REMINDER_MAX_LATE_HOURS`` (default 24) after their time; older ones are "missed" and
  cancelled without a notification (nobody wants yesterday's "due in 15 minutes" pop-up).
  Reminders of tasks that are no longer open or changed hands are cancelled as well.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.notifications.kinds import Channel, register_kind
from kehu.notifications.models import Level
from kehu.notifications.services import notify

from .choices import ReminderStatus
from .models import Reminder, Task

log = logging.getLogger(__name__)

KIND = "task.reminder"


def register() -> None:
    """Called from `ActivitiesConfig.ready()`: the reminder kind on the notification preferences."""
    register_kind(
        KIND,
        gettext_lazy("Task reminders"),
        default_channels={Channel.IN_APP, Channel.EMAIL},
        description=gettext_lazy("Before a task assigned to you is due (its “remind me” time)."),
        order=10,
    )


def max_late() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "KEHU_REMINDER_MAX_LATE_HOURS", 24))


def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def reminder_anchor(task: Task, time_zone: str = "") -> dt.datetime | None:
    """The moment a task's "remind before" counts back from: its due time, or for an all-day task
    the end of its day in the assignee's time zone (an all-day task is due by the end of the day,
    so 900 minutes before is 09:00 on the day)."""
    if task.due_at is None:
        return None
    if not task.all_day:
        return task.due_at
    tz = _zone(time_zone)
    day = timezone.localtime(task.due_at, tz).date()
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min), tz)


def reminder_moment(task: Task, time_zone: str = "") -> dt.datetime | None:
    """When the task's reminder goes off (None: no reminder). For an all-day task the minutes are
    counted on the wall clock of its day, so 900 is 09:00 also on a daylight-saving day."""
    anchor = reminder_anchor(task, time_zone)
    if anchor is None or task.remind_before_minutes is None:
        return None
    if not task.all_day:
        return anchor - dt.timedelta(minutes=task.remind_before_minutes)
    tz = _zone(time_zone)
    local = timezone.localtime(anchor, tz).replace(tzinfo=None)
    return timezone.make_aware(local - dt.timedelta(minutes=task.remind_before_minutes), tz)


def _owner_time_zone(task: Task) -> str:
    if not task.all_day or task.owner_id is None:
        return ""
    value = get_user_model().objects.filter(pk=task.owner_id).values_list("time_zone", flat=True).first()
    return str(value or "")


def planned_reminder(task: Task, time_zone: str = "") -> tuple[int, dt.datetime] | None:
    """(recipient id, remind at) the task asks for, or None. `time_zone`: the assignee's (it
    places an all-day task's day)."""
    if task.pk is None or not task.is_open or task.owner_id is None:
        return None
    moment = reminder_moment(task, time_zone)
    return None if moment is None else (task.owner_id, moment)


@transaction.atomic
def reminder_schedule_for_task(*, task: Task, now: dt.datetime | None = None) -> None:
    """Make the task's pending reminders match the task (see the module rules). Idempotent."""
    time_zone = _owner_time_zone(task)
    wanted = planned_reminder(task, time_zone)
    anchor = reminder_anchor(task, time_zone)
    if wanted is not None and anchor is not None and anchor <= (now or timezone.now()):
        wanted = None  # already due: the task shows as overdue, a reminder now would be noise
    pending = Reminder.objects.filter(task_id=task.pk, status=ReminderStatus.PENDING)
    if wanted is None:
        pending.update(status=ReminderStatus.CANCELLED)
        return
    recipient_id, remind_at = wanted
    pending.exclude(recipient_id=recipient_id, remind_at=remind_at).update(status=ReminderStatus.CANCELLED)
    existing = Reminder.objects.filter(
        task_id=task.pk, recipient_id=recipient_id, remind_at=remind_at
    ).first()
    if existing is None:
        try:
            with transaction.atomic():
                Reminder.objects.create(task_id=task.pk, recipient_id=recipient_id, remind_at=remind_at)
        except IntegrityError:  # planned by a parallel write of the same task a moment ago
            pass
    elif existing.status == ReminderStatus.CANCELLED:
        # Back to a moment planned before (a reopened task, a due time changed back).
        Reminder.objects.filter(pk=existing.pk, status=ReminderStatus.CANCELLED).update(
            status=ReminderStatus.PENDING
        )
    # SENT: that moment was already reminded; nothing to do.


def reminders_send_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Send one batch of due reminders (see the module rules); returns how many were sent."""
    return reminders_send_batch(now=now, limit=limit)[1]


@transaction.atomic
def reminders_send_batch(*, now: dt.datetime | None = None, limit: int = 500) -> tuple[int, int]:
    """One batch in one transaction: returns (reminders handled, notifications sent)."""
    now = now or timezone.now()
    batch = list(
        Reminder.objects.select_for_update(skip_locked=True)
        .filter(status=ReminderStatus.PENDING, remind_at__lte=now)
        .order_by("remind_at", "id")[:limit]
    )
    if not batch:
        return 0, 0
    tasks = Task.objects.select_related("account").in_bulk({r.task_id for r in batch})
    users = get_user_model().objects.in_bulk({r.recipient_id for r in batch})
    sent = 0
    cancelled: list[int] = []
    oldest = now - max_late()
    for reminder in batch:
        task = tasks.get(reminder.task_id)
        user = users.get(reminder.recipient_id)
        if (
            task is None
            or user is None
            or not user.is_active
            or planned_reminder(task, _user_time_zone(user)) != (reminder.recipient_id, reminder.remind_at)
            or reminder.remind_at < oldest
        ):
            cancelled.append(reminder.pk)  # stale (the task changed) or missed (too late)
            continue
        try:
            with transaction.atomic():
                notification_id = _notify(reminder, task, user, now=now)
                Reminder.objects.filter(pk=reminder.pk).update(
                    status=ReminderStatus.SENT, sent_at=timezone.now(), notification_id=notification_id
                )
        except Exception:  # one broken reminder must not hold back the others; it stays pending
            log.exception("task reminder failed", extra={"reminder_id": reminder.pk})
            continue
        sent += 1
    if cancelled:
        Reminder.objects.filter(pk__in=cancelled).update(status=ReminderStatus.CANCELLED)
    return len(batch), sent


def _user_time_zone(user: Any) -> str:
    return getattr(user, "time_zone", "") or settings.TIME_ZONE


def reminder_text(task: Task, user: Any, *, now: dt.datetime) -> tuple[str, str]:
    """Title and body of a task reminder in the user's language and time zone."""
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(_user_time_zone(user)):
        due = timezone.localtime(task.due_at) if task.due_at else None
        if due is None:
            when = ""
        elif task.all_day:
            when = formats.date_format(due.date(), "SHORT_DATE_FORMAT")
        else:
            when = formats.date_format(due, "SHORT_DATETIME_FORMAT")
        title = _("Reminder: %(title)s") % {"title": task.title}
        lines = [_("Due %(when)s") % {"when": when}] if when else []
        if task.account_id and task.account is not None:
            lines.append(_("Account: %(account)s") % {"account": task.account})
        if task.due_at is not None and task.due_at <= now:
            lines.append(_("This task is now due."))
        return str(title)[:200], "\n".join(lines)


def _notify(reminder: Reminder, task: Task, user: Any, *, now: dt.datetime) -> int | None:
    title, body = reminder_text(task, user, now=now)
    created = notify(
        recipients=[user],
        title=title,
        body=body,
        url=task.get_absolute_url(),
        level=Level.WARNING,
        kind=KIND,
        target=task,
    )
    return created[0].pk if created else None
