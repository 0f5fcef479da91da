"""Reads of business calendars: the list a user may see, and `work_calendar`, which turns a
calendar's records into the `WorkCalendar` value the business-time arithmetic uses."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import QuerySet

from kehu.core.businesstime import Interval, WorkCalendar
from kehu.core.choices import Action

from ..choices import DayKind, Weekday
from ..models import BusinessCalendar, CalendarDay, WorkingHours


def calendar_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.restrict(user, action)


def default_calendar() -> BusinessCalendar | None:
    return BusinessCalendar.objects.filter(is_default=True).first()


def calendar_week(calendar: BusinessCalendar) -> list[dict[str, Any]]:
    """Monday to Sunday: each weekday's intervals (WorkingHours rows, in order) and its hours, in
    one query."""
    rows: dict[int, list[WorkingHours]] = {d: [] for d in Weekday.values}
    for row in WorkingHours.objects.filter(calendar=calendar).order_by("weekday", "start"):
        rows[row.weekday].append(row)
    week = []
    for day in Weekday:
        intervals = rows[day.value]
        minutes = sum(end - start for start, end in (r.interval() for r in intervals))
        week.append({"weekday": day, "intervals": intervals, "hours": minutes / 60})
    return week


def _cache_key(calendar: BusinessCalendar) -> str:
    return f"service:workcalendar:{calendar.pk}"


def work_calendar(calendar: BusinessCalendar, *, use_cache: bool = False) -> WorkCalendar:
    """The calendar as a `WorkCalendar`: one query for its hours, one for its days. With
    `use_cache`, kept in the cache until the calendar, its hours or its days change (the key
    carries the calendar's `updated_at`, which every write of the services touches)."""
    key = f"{_cache_key(calendar)}:{calendar.updated_at.timestamp() if calendar.updated_at else 0}"
    if use_cache:
        cached = cache.get(key)
        if isinstance(cached, WorkCalendar):
            return cached
    hours: dict[int, list[Interval]] = {}
    for row in WorkingHours.objects.filter(calendar=calendar).order_by("weekday", "start"):
        hours.setdefault(row.weekday, []).append(row.interval())
    holidays: set[dt.date] = set()
    makeup: dict[dt.date, int] = {}
    for date, kind, works_as in CalendarDay.objects.filter(calendar=calendar).values_list(
        "date", "kind", "works_as"
    ):
        if kind == DayKind.HOLIDAY:
            holidays.add(date)
        else:
            makeup[date] = works_as
    value = WorkCalendar(
        tz=ZoneInfo(calendar.time_zone),
        hours={d: tuple(sorted(i)) for d, i in hours.items()},
        holidays=frozenset(holidays),
        makeup_days=makeup,
    )
    if use_cache:
        cache.set(key, value, 3600)
    return value
