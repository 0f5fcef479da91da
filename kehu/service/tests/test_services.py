"""Business calendar services: calendars and the default rule, weekly hours, days, the 2026
holiday table, copying days."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kehu.audit.models import ObjectChange
from kehu.service import services
from kehu.service.choices import DayKind
from kehu.service.data import cn_holidays
from kehu.service.models import BusinessCalendar, CalendarDay, WorkingHours
from kehu.service.services import ServiceError

from .factories import office

pytestmark = pytest.mark.django_db


def test_the_first_calendar_becomes_the_default_and_exactly_one_stays_default(company: Any) -> None:
    first = office(company.admin)
    second = office(company.admin, name="北京")
    assert first.is_default and not second.is_default
    services.calendar_make_default(calendar=second, by=company.admin)
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_default and not first.is_default
    assert BusinessCalendar.objects.filter(is_default=True).count() == 1
    third = services.calendar_create(by=company.admin, data={"name": "深圳", "is_default": True})
    assert list(BusinessCalendar.objects.filter(is_default=True)) == [third]


def test_the_default_cannot_be_deleted_undefaulted_or_deactivated(company: Any) -> None:
    default = office(company.admin)
    other = office(company.admin, name="北京")
    with pytest.raises(ServiceError) as exc:
        services.calendar_delete(calendar=default, by=company.admin)
    assert exc.value.code == ServiceError.DEFAULT_CALENDAR and exc.value.status == 409
    with pytest.raises(ServiceError) as exc:
        services.calendar_update(calendar=default, by=company.admin, data={"is_default": False})
    assert "is_default" in exc.value.fields
    with pytest.raises(ServiceError) as exc:
        services.calendar_update(calendar=default, by=company.admin, data={"is_active": False})
    assert "is_active" in exc.value.fields
    default.refresh_from_db()
    assert default.is_default and default.is_active
    services.calendar_delete(calendar=other, by=company.admin)
    assert not BusinessCalendar.objects.filter(pk=other.pk).exists()
    assert not WorkingHours.objects.filter(calendar_id=other.pk).exists()


def test_an_unknown_time_zone_is_refused_with_a_field_error(company: Any) -> None:
    with pytest.raises(ServiceError) as exc:
        services.calendar_create(by=company.admin, data={"name": "X", "time_zone": "Mars/Olympus"})
    assert "time_zone" in exc.value.fields
    assert not BusinessCalendar.objects.exists()


def test_the_time_zone_defaults_to_the_site_time_zone(company: Any, settings: Any) -> None:
    calendar = services.calendar_create(by=company.admin, data={"name": "X"})
    assert calendar.time_zone == settings.TIME_ZONE


@pytest.mark.parametrize(
    "intervals",
    [
        [("09:00", "12:00"), ("11:00", "13:00")],  # overlap
        [("09:00", "18:00"), ("12:00", "13:00")],  # inside another
        [("12:00", "09:00")],  # start after end
        [("09:00", "09:00")],  # empty
        [("9h", "10:00")],  # not a time
    ],
)
def test_bad_intervals_are_refused_and_nothing_changes(
    company: Any, intervals: list[tuple[str, str]]
) -> None:
    calendar = office(company.admin)
    before = list(calendar.hours.values_list("weekday", "start", "end"))
    with pytest.raises(ServiceError) as exc:
        services.calendar_set_hours(calendar=calendar, weekday=0, intervals=intervals, by=company.admin)
    assert exc.value.code == ServiceError.BAD_HOURS
    assert list(calendar.hours.values_list("weekday", "start", "end")) == before


def test_adding_an_overlapping_interval_is_refused(company: Any) -> None:
    calendar = office(company.admin)
    with pytest.raises(ServiceError):
        services.calendar_add_hours(
            calendar=calendar, weekday=0, start="11:30", end="14:00", by=company.admin
        )
    services.calendar_add_hours(calendar=calendar, weekday=0, start="19:00", end="00:00", by=company.admin)
    assert [(h.start, h.end) for h in calendar.hours.filter(weekday=0)] == [
        (dt.time(9), dt.time(12)),
        (dt.time(13, 30), dt.time(18)),
        (dt.time(19), dt.time(0)),
    ]
    assert calendar.hours.get(weekday=0, start=dt.time(19)).interval() == (1140, 1440)


def test_set_hours_replaces_the_weekday_and_touching_intervals_are_fine(company: Any) -> None:
    calendar = office(company.admin)
    services.calendar_set_hours(
        calendar=calendar, weekday=5, intervals=[("12:00", "18:00"), ("08:00", "12:00")], by=company.admin
    )
    assert [(h.start, h.end) for h in calendar.hours.filter(weekday=5)] == [
        (dt.time(8), dt.time(12)),
        (dt.time(12), dt.time(18)),
    ]
    services.calendar_set_hours(calendar=calendar, weekday=5, intervals=[], by=company.admin)
    assert not calendar.hours.filter(weekday=5).exists()


def test_writes_are_audited(company: Any) -> None:
    calendar = office(company.admin)
    services.calendar_day_set(
        calendar=calendar, date=dt.date(2026, 12, 31), kind=DayKind.HOLIDAY, name="公司年会", by=company.admin
    )
    labels = set(ObjectChange.objects.values_list("model", flat=True))
    assert {"service.businesscalendar", "service.workinghours", "service.calendarday"} <= labels


def test_loading_2026_holidays_is_idempotent_and_matches_the_table(company: Any) -> None:
    calendar = office(company.admin)
    added = services.calendar_days_load_holidays(calendar=calendar, year=2026, by=company.admin)
    table = cn_holidays.YEARS[2026]
    expected = sum(len(f.holidays) + len(f.makeup_days) for f in table)
    assert added == expected == CalendarDay.objects.filter(calendar=calendar).count()
    national = CalendarDay.objects.get(calendar=calendar, date=dt.date(2026, 10, 1))
    assert (national.kind, national.name) == (DayKind.HOLIDAY, "国庆节")
    makeup = CalendarDay.objects.get(calendar=calendar, date=dt.date(2026, 2, 14))
    assert (makeup.kind, makeup.works_as) == (DayKind.MAKEUP, 0)
    changes = ObjectChange.objects.count()
    assert services.calendar_days_load_holidays(calendar=calendar, year=2026, by=company.admin) == 0
    assert CalendarDay.objects.filter(calendar=calendar).count() == expected
    assert ObjectChange.objects.count() == changes
    # a day changed by hand is put back; a day of one's own is kept
    CalendarDay.objects.filter(calendar=calendar, date=dt.date(2026, 10, 1)).update(name="x")
    services.calendar_day_set(
        calendar=calendar, date=dt.date(2026, 12, 31), kind=DayKind.HOLIDAY, name="年会", by=company.admin
    )
    assert services.calendar_days_load_holidays(calendar=calendar, year=2026, by=company.admin) == 1
    assert CalendarDay.objects.filter(calendar=calendar).count() == expected + 1


def test_every_2026_makeup_day_is_a_weekend_and_no_date_repeats() -> None:
    days = [d for f in cn_holidays.YEARS[2026] for d in (*f.holidays, *f.makeup_days)]
    assert len(days) == len(set(days))
    assert all(d.weekday() >= 5 for f in cn_holidays.YEARS[2026] for d in f.makeup_days)
    assert all(d.year == 2026 for d in days)


def test_an_unknown_year_is_refused(company: Any) -> None:
    calendar = office(company.admin)
    with pytest.raises(ServiceError) as exc:
        services.calendar_days_load_holidays(calendar=calendar, year=1999, by=company.admin)
    assert exc.value.code == ServiceError.UNKNOWN_YEAR
    assert not calendar.days.exists()


def test_a_day_set_twice_is_replaced_not_duplicated(company: Any) -> None:
    calendar = office(company.admin)
    day = dt.date(2026, 3, 8)
    services.calendar_day_set(
        calendar=calendar, date=day, kind=DayKind.HOLIDAY, name="妇女节", by=company.admin
    )
    services.calendar_day_set(calendar=calendar, date=day, kind=DayKind.MAKEUP, works_as=4, by=company.admin)
    row = CalendarDay.objects.get(calendar=calendar, date=day)
    assert (row.kind, row.works_as, row.name) == (DayKind.MAKEUP, 4, "")
    with pytest.raises(ServiceError):
        services.calendar_day_set(calendar=calendar, date=day, kind="party", by=company.admin)


def test_copy_days_to_another_calendar(company: Any) -> None:
    shanghai = office(company.admin)
    beijing = office(company.admin, name="北京")
    services.calendar_days_load_holidays(calendar=shanghai, year=2026, by=company.admin)
    services.calendar_day_set(
        calendar=shanghai, date=dt.date(2027, 1, 1), kind=DayKind.HOLIDAY, name="元旦", by=company.admin
    )
    services.calendar_day_set(
        calendar=beijing, date=dt.date(2026, 10, 1), kind=DayKind.MAKEUP, name="wrong", by=company.admin
    )
    copied = services.calendar_days_copy(source=shanghai, target=beijing, year=2026, by=company.admin)
    assert copied == shanghai.days.filter(date__year=2026).count()
    assert list(beijing.days.values_list("date", "kind", "name", "works_as")) == list(
        shanghai.days.filter(date__year=2026).values_list("date", "kind", "name", "works_as")
    )
    assert services.calendar_days_copy(source=shanghai, target=beijing, year=2026, by=company.admin) == 0
    with pytest.raises(ServiceError):
        services.calendar_days_copy(source=shanghai, target=shanghai, by=company.admin)
