"""Writes to business calendars (工作日历): calendars, their weekly hours and their days
(holidays 节假日, make-up working days 调休上班). Every write is atomic; the generic change
recorder (kehu.audit registry, see apps.py) records each row written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import DayKind
from ..data import cn_holidays
from ..models import BusinessCalendar, CalendarDay, WorkingHours, minutes
from .common import ServiceError

CALENDAR_FIELDS = ("name", "time_zone", "is_active")


def _clean(obj: Any, exclude: Iterable[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        raise ServiceError(_("Please correct the errors below."), fields=fields) from None


def _touch(calendar_id: int) -> None:
    """Mark the calendar changed (the cached WorkCalendar of `selectors.work_calendar` is keyed on
    its `updated_at`)."""
    BusinessCalendar.objects.filter(pk=calendar_id).update(updated_at=timezone.now())


def _make_default(calendar: BusinessCalendar) -> None:
    BusinessCalendar.objects.select_for_update().filter(is_default=True).exclude(pk=calendar.pk).update(
        is_default=False
    )
    if not calendar.is_default:
        calendar.is_default = True
        calendar.save(update_fields=["is_default", "updated_at"])


@transaction.atomic
def calendar_create(*, by: Any, data: Mapping[str, Any]) -> BusinessCalendar:
    """A new calendar; the first one, or one created with `is_default`, becomes the default."""
    calendar = BusinessCalendar()
    for name in CALENDAR_FIELDS:
        if name in data:
            setattr(calendar, name, data[name])
    _clean(calendar)
    calendar.save()
    if data.get("is_default") or not BusinessCalendar.objects.filter(is_default=True).exists():
        _make_default(calendar)
    return calendar


@transaction.atomic
def calendar_update(*, calendar: BusinessCalendar, by: Any, data: Mapping[str, Any]) -> BusinessCalendar:
    """Change a calendar. `is_default=True` makes it the default (the previous one stops being
    it); the default cannot be un-defaulted or deactivated: make another one the default first."""
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    for name in CALENDAR_FIELDS:
        if name in data:
            setattr(calendar, name, data[name])
    if "is_default" in data and not data["is_default"] and calendar.is_default:
        raise ServiceError(
            _("A calendar must be the default; make another calendar the default instead."),
            code=ServiceError.DEFAULT_CALENDAR,
            fields={"is_default": [_("This is the default calendar.")]},
        )
    if calendar.is_default and not calendar.is_active:
        raise ServiceError(
            _("The default calendar cannot be deactivated; first make another one the default."),
            code=ServiceError.DEFAULT_CALENDAR,
            fields={"is_active": [_("This is the default calendar.")]},
        )
    _clean(calendar)
    calendar.save()
    if data.get("is_default"):
        if not calendar.is_active:
            raise ServiceError(
                _("An inactive calendar cannot be the default."),
                code=ServiceError.DEFAULT_CALENDAR,
                fields={"is_default": [_("Activate the calendar first.")]},
            )
        _make_default(calendar)
    return calendar


@transaction.atomic
def calendar_make_default(*, calendar: BusinessCalendar, by: Any) -> BusinessCalendar:
    return calendar_update(calendar=calendar, by=by, data={"is_default": True})


@transaction.atomic
def calendar_delete(*, calendar: BusinessCalendar, by: Any) -> None:
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    if calendar.is_default:
        raise ServiceError(
            _("The default calendar cannot be deleted; first make another one the default."),
            code=ServiceError.DEFAULT_CALENDAR,
            status=409,
        )
    for row in [*calendar.hours.all(), *calendar.days.all()]:
        row.delete()  # one by one: the change recorder records each
    calendar.delete()


# --- weekly hours -----------------------------------------------------------------------------


def _parse_time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value).strip())
    except ValueError:
        raise ServiceError(
            _("“%(value)s” is not a time (use HH:MM).") % {"value": value},
            code=ServiceError.BAD_HOURS,
            fields={"intervals": [_("Enter times as HH:MM.")]},
        ) from None


def check_intervals(intervals: Iterable[tuple[Any, Any]]) -> list[tuple[dt.time, dt.time]]:
    """Parsed, sorted intervals, or ServiceError: each start before its end (an end of 00:00 is
    midnight), no two overlapping."""
    parsed = sorted(((_parse_time(a), _parse_time(b)) for a, b in intervals), key=lambda p: p[0])
    last_end = -1
    for start, end in parsed:
        begin, finish = minutes(start), minutes(end, end=True)
        if begin >= finish:
            raise ServiceError(
                _("%(start)s–%(end)s: the start must be before the end.")
                % {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"},
                code=ServiceError.BAD_HOURS,
                fields={"intervals": [_("Each interval must start before it ends.")]},
            )
        if begin < last_end:
            raise ServiceError(
                _("%(start)s–%(end)s overlaps another interval of the day.")
                % {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"},
                code=ServiceError.BAD_HOURS,
                fields={"intervals": [_("Intervals of a weekday must not overlap.")]},
            )
        last_end = finish
    return parsed


@transaction.atomic
def calendar_set_hours(
    *, calendar: BusinessCalendar, weekday: int, intervals: Iterable[tuple[Any, Any]], by: Any
) -> list[WorkingHours]:
    """Replace a weekday's working intervals (an empty list: a day off)."""
    if not 0 <= int(weekday) <= 6:
        raise ServiceError(
            _("The weekday must be 0 (Monday) to 6 (Sunday)."), fields={"weekday": [_("Invalid.")]}
        )
    parsed = check_intervals(intervals)
    BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    for row in calendar.hours.filter(weekday=weekday):
        row.delete()
    rows = [
        WorkingHours.objects.create(calendar=calendar, weekday=weekday, start=start, end=end)
        for start, end in parsed
    ]
    _touch(calendar.pk)
    return rows


@transaction.atomic
def calendar_add_hours(
    *, calendar: BusinessCalendar, weekday: int, start: Any, end: Any, by: Any
) -> list[WorkingHours]:
    """Add one interval to a weekday (validated against the others)."""
    current = [(h.start, h.end) for h in calendar.hours.filter(weekday=weekday)]
    return calendar_set_hours(calendar=calendar, weekday=weekday, intervals=[*current, (start, end)], by=by)


@transaction.atomic
def working_hours_delete(*, hours: WorkingHours, by: Any) -> None:
    hours.delete()
    _touch(hours.calendar_id)


# --- days ---------------------------------------------------------------------------------------


@transaction.atomic
def calendar_day_set(
    *,
    calendar: BusinessCalendar,
    date: dt.date,
    kind: str,
    name: str = "",
    works_as: int = 0,
    by: Any,
) -> CalendarDay:
    """Make `date` a holiday or a make-up working day of the calendar (replacing what that date
    was)."""
    if kind not in DayKind.values:
        raise ServiceError(_("Choose a kind of day."), fields={"kind": [_("Choose a kind of day.")]})
    if not 0 <= int(works_as) <= 6:
        raise ServiceError(_("Choose a weekday."), fields={"works_as": [_("Choose a weekday.")]})
    day = CalendarDay.objects.filter(calendar=calendar, date=date).first() or CalendarDay(
        calendar=calendar, date=date
    )
    changed = day.pk is None or (day.kind, day.name, day.works_as) != (kind, name, works_as)
    day.kind, day.name, day.works_as = kind, name, int(works_as)
    if changed:
        _clean(day, exclude=("calendar",))
        day.save()
        _touch(calendar.pk)
    return day


@transaction.atomic
def calendar_day_delete(*, day: CalendarDay, by: Any) -> None:
    day.delete()
    _touch(day.calendar_id)


@transaction.atomic
def calendar_days_load_holidays(*, calendar: BusinessCalendar, year: int, by: Any) -> int:
    """Load the year's Chinese public holidays and make-up working days (data.cn_holidays) into
    the calendar. Idempotent: days already as in the table are left alone; returns how many days
    were added or changed."""
    festivals = cn_holidays.YEARS.get(int(year))
    if festivals is None:
        raise ServiceError(
            _("No holiday table for %(year)s (available: %(years)s).")
            % {"year": year, "years": ", ".join(str(y) for y in cn_holidays.available_years())},
            code=ServiceError.UNKNOWN_YEAR,
            fields={"year": [_("No holiday table for this year.")]},
        )
    BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    existing = {d.date: d for d in calendar.days.filter(date__year=int(year))}
    changed = 0
    for festival in festivals:
        wanted = [(d, DayKind.HOLIDAY.value) for d in festival.holidays]
        wanted += [(d, DayKind.MAKEUP.value) for d in festival.makeup_days]
        for date, kind in wanted:
            works_as = 0  # a make-up day works as a Monday (调休's usual rule); unused on a holiday
            row = existing.get(date)
            if row is not None and (row.kind, row.name, row.works_as) == (kind, festival.name, works_as):
                continue
            if row is None:
                row = CalendarDay(calendar=calendar, date=date)
            row.kind, row.name, row.works_as = kind, festival.name, works_as
            row.save()
            changed += 1
    if changed:
        _touch(calendar.pk)
    return changed


@transaction.atomic
def calendar_days_copy(
    *, source: BusinessCalendar, target: BusinessCalendar, by: Any, year: int | None = None
) -> int:
    """Copy the days (of one year, or all) of `source` to `target`, replacing the target's day on
    the same date. Returns how many days were added or changed."""
    if source.pk == target.pk:
        raise ServiceError(
            _("Choose another calendar to copy to."), fields={"target": [_("Choose another calendar.")]}
        )
    BusinessCalendar.objects.select_for_update().get(pk=target.pk)
    days = source.days.all()
    if year is not None:
        days = days.filter(date__year=year)
    existing = {d.date: d for d in target.days.all()}
    changed = 0
    for day in days:
        row = existing.get(day.date)
        if row is not None and (row.kind, row.name, row.works_as) == (day.kind, day.name, day.works_as):
            continue
        if row is None:
            row = CalendarDay(calendar=target, date=day.date)
        row.kind, row.name, row.works_as = day.kind, day.name, day.works_as
        row.save()
        changed += 1
    if changed:
        _touch(target.pk)
    return changed


@transaction.atomic
def calendar_set_week(*, calendar: BusinessCalendar, hours: Iterable[Mapping[str, Any]], by: Any) -> None:
    """Replace the whole week's hours: `hours` is a list of {weekday, start, end}; weekdays not
    named become days off."""
    per_day: dict[int, list[tuple[Any, Any]]] = {d: [] for d in range(7)}
    for row in hours:
        weekday = int(row["weekday"])
        if weekday not in per_day:
            raise ServiceError(
                _("The weekday must be 0 (Monday) to 6 (Sunday)."), fields={"hours": [_("Invalid.")]}
            )
        per_day[weekday].append((row["start"], row["end"]))
    for weekday, intervals in per_day.items():
        calendar_set_hours(calendar=calendar, weekday=weekday, intervals=intervals, by=by)


@transaction.atomic
def calendar_set_days(*, calendar: BusinessCalendar, days: Iterable[Mapping[str, Any]], by: Any) -> None:
    """Replace all the calendar's days by `days` (a list of {date, kind, name, works_as})."""
    wanted = {row["date"]: row for row in days}
    for day in calendar.days.all():
        if day.date not in wanted:
            day.delete()
    for date, row in wanted.items():
        calendar_day_set(
            calendar=calendar,
            date=date,
            kind=row["kind"],
            name=row.get("name") or "",
            works_as=row.get("works_as", 0),
            by=by,
        )
    _touch(calendar.pk)
