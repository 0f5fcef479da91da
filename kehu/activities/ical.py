"""The iCalendar (RFC 5545) text of a user's feed, built with vobject.

* One VEVENT per task (at its due time, 30 minutes; all-day tasks as a whole day in the user's
  time zone) with a VALARM when the task has a "remind before" and is open, and one per meeting
  or visit (from `occurred_at` for its duration).
* UIDs are stable (``kehu-task-<id>@<host>``), so a calendar app updates events in place.
* Times are UTC (``...Z``): no VTIMEZONE needed and every client agrees on the moment.
* Text goes through vobject, which escapes commas, semicolons, backslashes and newlines: a title
  cannot start a new property or event. Nothing is HTML: clients show it as plain text.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any
from urllib.parse import urlsplit

import vobject
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .calendar import DEFAULT_MEETING_MINUTES, TASK_MINUTES, feed_items
from .choices import InteractionKind, TaskStatus
from .models import Interaction, Task

UTC = vobject.icalendar.utc  # vobject writes "Z" times only for its own UTC tzinfo


def _host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "kehu"


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(UTC)


def _clean(text: str) -> str:
    # Control characters other than tab and newline are not allowed in iCalendar text.
    return "".join(ch for ch in str(text) if ch in "\t\n" or (ch >= " " and ch != "\x7f")).replace("\r", "")


def _add_text(event: Any, name: str, value: str) -> None:
    value = _clean(value)
    if value:
        event.add(name).value = value


def _task_event(cal: Any, task: Task, user_tz: dt.tzinfo) -> None:
    assert task.due_at is not None
    event = cal.add("vevent")
    event.add("uid").value = f"kehu-task-{task.pk}@{_host()}"
    stamp = _utc(task.updated_at or task.created_at or timezone.now())
    event.add("dtstamp").value = stamp
    event.add("last-modified").value = stamp
    event.add("sequence").value = str(getattr(task, "version", 0) or 0)
    done = task.status == TaskStatus.DONE
    title = _clean(task.title)
    event.add("summary").value = f"✓ {title}" if done else title
    if task.all_day:
        day = task.due_at.astimezone(user_tz).date()
        event.add("dtstart").value = day
        event.add("dtend").value = day + dt.timedelta(days=1)
        event.add("transp").value = "TRANSPARENT"
    else:
        event.add("dtstart").value = _utc(task.due_at)
        event.add("dtend").value = _utc(task.due_at + dt.timedelta(minutes=TASK_MINUTES))
    lines = [_("Task")]
    if task.account_id and task.account is not None:
        lines.append(_("Account: %(account)s") % {"account": task.account})
    if task.description:
        lines += ["", task.description]
    _add_text(event, "description", "\n".join(str(line) for line in lines))
    url = _site(task.get_absolute_url())
    event.add("url").value = url
    event.add("categories").value = [str(_("Task"))]
    event.add("status").value = "CONFIRMED"
    if task.remind_before_minutes is not None and task.is_open:
        alarm = event.add("valarm")
        alarm.add("action").value = "DISPLAY"
        alarm.add("description").value = _clean(title)
        trigger = alarm.add("trigger")
        trigger.value = -dt.timedelta(minutes=task.remind_before_minutes)
        if task.all_day:  # counted back from the end of the day, like Kehu's own reminder
            trigger.params["RELATED"] = ["END"]


def _interaction_event(cal: Any, item: Interaction) -> None:
    event = cal.add("vevent")
    event.add("uid").value = f"kehu-interaction-{item.pk}@{_host()}"
    stamp = _utc(item.updated_at or item.created_at or timezone.now())
    event.add("dtstamp").value = stamp
    event.add("last-modified").value = stamp
    event.add("sequence").value = str(getattr(item, "version", 0) or 0)
    event.add("summary").value = _clean(item.subject)
    event.add("dtstart").value = _utc(item.occurred_at)
    minutes = item.duration_minutes or DEFAULT_MEETING_MINUTES
    event.add("dtend").value = _utc(item.occurred_at + dt.timedelta(minutes=minutes))
    _add_text(event, "location", item.location)
    lines = [str(InteractionKind(item.kind).label)]
    if item.account_id and item.account is not None:
        lines.append(_("Account: %(account)s") % {"account": item.account})
    if item.contact_id and item.contact is not None:
        lines.append(_("Contact: %(contact)s") % {"contact": item.contact})
    if item.body:
        lines += ["", item.body]
    _add_text(event, "description", "\n".join(str(line) for line in lines))
    event.add("url").value = _site(item.get_absolute_url())
    event.add("categories").value = [str(InteractionKind(item.kind).label)]
    event.add("status").value = "CONFIRMED"


def feed_ics(*, user: Any, now: dt.datetime | None = None) -> str:
    """The whole feed of one user as iCalendar text, in their language (titles of categories and
    descriptions), times in UTC."""
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    try:
        user_tz: dt.tzinfo = zoneinfo.ZoneInfo(getattr(user, "time_zone", "") or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        user_tz = zoneinfo.ZoneInfo("UTC")
    tasks, meetings = feed_items(user=user, now=now)
    with translation.override(language):
        cal = vobject.iCalendar()
        cal.add("prodid").value = "-//Kehu//Kehu CRM//EN"
        cal.add("calscale").value = "GREGORIAN"
        cal.add("method").value = "PUBLISH"
        name = _("%(company)s: %(user)s") % {"company": settings.KEHU_COMPANY_NAME, "user": user}
        cal.add("x-wr-calname").value = _clean(name)
        cal.add("x-published-ttl").value = "PT1H"
        refresh = cal.add("refresh-interval")
        refresh.value = "PT1H"
        refresh.params["VALUE"] = ["DURATION"]
        for task in tasks:
            _task_event(cal, task, user_tz)
        for meeting in meetings:
            _interaction_event(cal, meeting)
        return str(cal.serialize())
