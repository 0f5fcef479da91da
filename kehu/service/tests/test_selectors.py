"""`work_calendar`: records → the WorkCalendar value, and the due times it gives."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.core.businesstime import WorkCalendar, add_business_seconds, business_seconds
from kehu.service import selectors, services
from kehu.service.choices import DayKind

from .factories import office

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
HOUR = 3600


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SH)


def test_records_become_the_expected_work_calendar_in_two_queries(company: Any) -> None:
    calendar = office(company.admin)
    services.calendar_add_hours(calendar=calendar, weekday=5, start="10:00", end="00:00", by=company.admin)
    services.calendar_day_set(
        calendar=calendar, date=dt.date(2026, 10, 1), kind=DayKind.HOLIDAY, by=company.admin
    )
    services.calendar_day_set(
        calendar=calendar, date=dt.date(2026, 9, 20), kind=DayKind.MAKEUP, works_as=2, by=company.admin
    )
    with CaptureQueriesContext(connection) as queries:
        value = selectors.work_calendar(calendar)
    assert len(queries) == 2
    office_day = ((540, 720), (810, 1080))
    assert value == WorkCalendar(
        tz=SH,
        hours={0: office_day, 1: office_day, 2: office_day, 3: office_day, 4: office_day, 5: ((600, 1440),)},
        holidays=frozenset({dt.date(2026, 10, 1)}),
        makeup_days={dt.date(2026, 9, 20): 2},
    )


def test_friday_evening_due_times_over_the_2026_holiday_weeks(company: Any) -> None:
    calendar = office(company.admin)
    services.calendar_days_load_holidays(calendar=calendar, year=2026, by=company.admin)
    cal = selectors.work_calendar(calendar)
    # Spring Festival: Friday 13 Feb after hours; Saturday 14 Feb is worked (as a Monday), then
    # 15–23 Feb are off: 8 hours run 7.5 h on the Saturday and half an hour on Tuesday 24 Feb.
    friday = at(2026, 2, 13, 18, 30)
    assert add_business_seconds(cal, friday, 8 * HOUR) == at(2026, 2, 24, 9, 30)
    assert business_seconds(cal, friday, at(2026, 2, 24, 9, 30)) == 8 * HOUR
    # National Day: Friday 18 Sep 17:00, 4 hours: one on Friday, three on the make-up Sunday 20 Sep.
    assert add_business_seconds(cal, at(2026, 9, 18, 17, 0), 4 * HOUR) == at(2026, 9, 20, 12, 0)
    # Wednesday 30 Sep 17:00, 2 hours: one that day, then 1–7 Oct are off; Thursday 8 Oct 10:00.
    assert add_business_seconds(cal, at(2026, 9, 30, 17, 0), 2 * HOUR) == at(2026, 10, 8, 10, 0)
    # waiting on the customer pauses the timer
    pause = (at(2026, 10, 8, 9, 0), at(2026, 10, 8, 12, 0))
    assert add_business_seconds(cal, at(2026, 9, 30, 17, 0), 2 * HOUR, pauses=[pause]) == at(
        2026, 10, 8, 14, 30
    )


def test_the_cached_calendar_follows_changes(company: Any) -> None:
    calendar = office(company.admin)
    first = selectors.work_calendar(calendar, use_cache=True)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.work_calendar(calendar, use_cache=True) == first
    assert len(queries) == 0
    services.calendar_day_set(
        calendar=calendar, date=dt.date(2026, 5, 1), kind=DayKind.HOLIDAY, by=company.admin
    )
    calendar.refresh_from_db()
    assert dt.date(2026, 5, 1) in selectors.work_calendar(calendar, use_cache=True).holidays
