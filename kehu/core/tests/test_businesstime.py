"""Business-time arithmetic (`kehu.core.businesstime`): known values, and properties checked with
hypothesis over random calendars, holidays, make-up days, pauses and time zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kehu.core.businesstime import (
    CalendarError,
    WorkCalendar,
    add_business_seconds,
    always_open,
    business_seconds,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600

# Mon–Fri 09:00–12:00 and 13:30–18:00 (7.5 h a day), Shanghai; 2026's National Day week off, with
# the make-up Sunday before it worked as a Monday (调休).
OFFICE = WorkCalendar(
    tz=SHANGHAI,
    hours=dict.fromkeys(range(5), ((540, 720), (810, 1080))),
    holidays=frozenset(dt.date(2026, 10, d) for d in range(1, 8)),
    makeup_days={dt.date(2026, 9, 27): 0},
)


def at(*args: int, tz: ZoneInfo = SHANGHAI) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)  # type: ignore[misc,arg-type]


def test_within_one_morning() -> None:
    start = at(2026, 11, 23, 9, 30)  # a Monday
    assert add_business_seconds(OFFICE, start, 2 * HOUR) == at(2026, 11, 23, 11, 30)
    assert business_seconds(OFFICE, start, at(2026, 11, 23, 11, 30)) == 2 * HOUR


def test_lunch_break_is_not_counted() -> None:
    start = at(2026, 11, 23, 11, 0)
    assert add_business_seconds(OFFICE, start, 2 * HOUR) == at(2026, 11, 23, 14, 30)


def test_a_ticket_opened_at_night_starts_counting_next_morning() -> None:
    assert add_business_seconds(OFFICE, at(2026, 11, 23, 22, 0), HOUR) == at(2026, 11, 24, 10, 0)


def test_friday_evening_rolls_over_the_weekend() -> None:
    start = at(2026, 11, 27, 17, 0)  # Friday
    assert add_business_seconds(OFFICE, start, 2 * HOUR) == at(2026, 11, 30, 10, 0)
    assert business_seconds(OFFICE, start, at(2026, 11, 30, 10, 0)) == 2 * HOUR


def test_holidays_are_skipped_and_makeup_days_worked() -> None:
    # Saturday 26 Sep is off, Sunday 27 Sep is a make-up day, 28–30 Sep are worked, 1–7 Oct off.
    assert add_business_seconds(OFFICE, at(2026, 9, 26, 10, 0), HOUR) == at(2026, 9, 27, 10, 0)
    assert add_business_seconds(OFFICE, at(2026, 9, 30, 17, 0), 2 * HOUR) == at(2026, 10, 8, 10, 0)
    assert business_seconds(OFFICE, at(2026, 10, 1, 0, 0), at(2026, 10, 8, 0, 0)) == 0


def test_pauses_are_not_counted() -> None:
    start = at(2026, 11, 23, 9, 0)
    waiting = [(at(2026, 11, 23, 10, 0), at(2026, 11, 23, 11, 0))]
    assert business_seconds(OFFICE, start, at(2026, 11, 23, 12, 0), pauses=waiting) == 2 * HOUR
    assert add_business_seconds(OFFICE, start, 2 * HOUR, pauses=waiting) == at(2026, 11, 23, 12, 0)
    # overlapping and unsorted pauses count once
    twice = [waiting[0], (at(2026, 11, 23, 9, 30), at(2026, 11, 23, 10, 30))]
    assert business_seconds(OFFICE, start, at(2026, 11, 23, 12, 0), pauses=twice) == int(1.5 * HOUR)


def test_an_open_pause_stops_the_clock() -> None:
    start = at(2026, 11, 23, 9, 0)
    waiting = [(at(2026, 11, 23, 10, 0), at(2099, 1, 1, 0, 0))]
    assert business_seconds(OFFICE, start, at(2026, 12, 31, 0, 0), pauses=waiting) == HOUR


def test_results_are_in_utc_and_inputs_in_any_zone() -> None:
    start = at(2026, 11, 23, 1, 30, tz=ZoneInfo("UTC"))  # 09:30 in Shanghai
    due = add_business_seconds(OFFICE, start, HOUR)
    assert due.utcoffset() == dt.timedelta(0)
    assert due == at(2026, 11, 23, 10, 30)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        business_seconds(OFFICE, dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2))


def test_a_calendar_without_hours_is_refused() -> None:
    empty = WorkCalendar(tz=SHANGHAI, hours={})
    with pytest.raises(CalendarError):
        add_business_seconds(empty, at(2026, 1, 1), 60)
    assert business_seconds(empty, at(2026, 1, 1), at(2026, 2, 1)) == 0


def test_a_target_beyond_ten_years_is_refused() -> None:
    sundays = WorkCalendar(tz=SHANGHAI, hours={6: ((0, 30),)})  # half an hour a week
    assert add_business_seconds(sundays, at(2026, 1, 1), 3600) > at(2026, 1, 1)
    with pytest.raises(CalendarError):
        add_business_seconds(sundays, at(2026, 1, 1), 20 * 24 * 3600)  # ~18 years of Sundays


@pytest.mark.parametrize("bad", [((600, 540),), ((0, 1441),), ((540, 720), (700, 800))])
def test_bad_intervals_are_refused(bad: tuple[tuple[int, int], ...]) -> None:
    with pytest.raises(CalendarError):
        WorkCalendar(tz=SHANGHAI, hours={0: bad})


def test_daylight_saving_days_count_the_hours_that_passed() -> None:
    night = WorkCalendar(tz=BERLIN, hours=dict.fromkeys(range(7), ((60, 240),)))  # 01:00–04:00
    # 29 Mar 2026: 02:00 → 03:00 (a 2-hour shift); 25 Oct 2026: 03:00 → 02:00 (a 4-hour shift)
    assert (
        business_seconds(night, at(2026, 3, 29, 0, 0, tz=BERLIN), at(2026, 3, 29, 12, 0, tz=BERLIN))
        == 2 * HOUR
    )
    assert (
        business_seconds(night, at(2026, 10, 25, 0, 0, tz=BERLIN), at(2026, 10, 25, 12, 0, tz=BERLIN))
        == 4 * HOUR
    )


def test_always_open_is_calendar_time() -> None:
    cal = always_open(SHANGHAI)
    start = at(2026, 11, 23, 22, 15)
    assert add_business_seconds(cal, start, 5 * HOUR) == start + dt.timedelta(hours=5)


# --- properties ------------------------------------------------------------------------------

ZONES = [SHANGHAI, BERLIN, NEW_YORK, ZoneInfo("UTC")]
START = dt.datetime(2026, 1, 1)


@st.composite
def intervals(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    cuts = sorted(draw(st.sets(st.integers(0, 48), min_size=0, max_size=6)))
    cuts = [c * 30 for c in cuts]
    pairs = tuple((cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2))
    return pairs


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    tz = draw(st.sampled_from(ZONES))
    hours = {d: draw(intervals()) for d in range(7)}
    if not any(hours.values()):
        hours[0] = ((540, 1080),)
    days = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2026, 3, 31))
    holidays = frozenset(draw(st.lists(days, max_size=15)))
    makeup = draw(st.dictionaries(days, st.integers(0, 6), max_size=4))
    return WorkCalendar(tz=tz, hours=hours, holidays=holidays, makeup_days=makeup)


moments = st.integers(0, 60 * 24 * 3600).map(
    lambda s: (START + dt.timedelta(seconds=s)).replace(tzinfo=dt.UTC)
)


@st.composite
def pause_lists(draw: st.DrawFn) -> list[tuple[dt.datetime, dt.datetime]]:
    found = []
    for _ in range(draw(st.integers(0, 4))):
        a = draw(moments)
        found.append((a, a + dt.timedelta(seconds=draw(st.integers(0, 5 * 24 * 3600)))))
    return found


@settings(max_examples=150, deadline=None)
@given(cal=calendars(), start=moments, seconds=st.integers(1, 20 * 24 * 3600), pauses=pause_lists())
def test_adding_then_measuring_gives_the_same_seconds(
    cal: WorkCalendar, start: dt.datetime, seconds: int, pauses: list[tuple[dt.datetime, dt.datetime]]
) -> None:
    # A calendar of half an hour a week has no 20 days of work within the ten years searched
    # (CalendarError, test_a_target_beyond_ten_years_is_refused): nine years of weeks must hold it.
    weekly = sum((b - a) * 60 for spans in cal.hours.values() for a, b in spans)
    assume(weekly * 52 * 9 >= seconds)
    due = add_business_seconds(cal, start, seconds, pauses=pauses)
    assert due > start
    assert business_seconds(cal, start, due, pauses=pauses) == seconds
    # and not a second earlier
    assert business_seconds(cal, start, due - dt.timedelta(seconds=1), pauses=pauses) == seconds - 1


@settings(max_examples=150, deadline=None)
@given(cal=calendars(), a=moments, b=moments, c=moments, pauses=pause_lists())
def test_measuring_adds_up_over_consecutive_spans(
    cal: WorkCalendar,
    a: dt.datetime,
    b: dt.datetime,
    c: dt.datetime,
    pauses: list[tuple[dt.datetime, dt.datetime]],
) -> None:
    a, b, c = sorted((a, b, c))
    whole = business_seconds(cal, a, c, pauses=pauses)
    assert whole == business_seconds(cal, a, b, pauses=pauses) + business_seconds(cal, b, c, pauses=pauses)
    assert 0 <= whole <= int((c - a).total_seconds())
    assert business_seconds(cal, a, c, pauses=[*pauses, (a, c)]) == 0


@settings(max_examples=100, deadline=None)
@given(cal=calendars(), start=moments, s1=st.integers(1, 10 * 24 * 3600), s2=st.integers(1, 10 * 24 * 3600))
def test_due_times_grow_with_the_target(cal: WorkCalendar, start: dt.datetime, s1: int, s2: int) -> None:
    lo, hi = sorted((s1, s2))
    assert add_business_seconds(cal, start, lo) <= add_business_seconds(cal, start, hi)


@settings(max_examples=100, deadline=None)
@given(cal=calendars(), start=moments, end=moments)
def test_holidays_hold_no_working_time(cal: WorkCalendar, start: dt.datetime, end: dt.datetime) -> None:
    start, end = sorted((start, end))
    with_more_holidays = WorkCalendar(
        tz=cal.tz,
        hours=cal.hours,
        holidays=cal.holidays | {start.astimezone(cal.tz).date()},
        makeup_days=cal.makeup_days,
    )
    assert business_seconds(with_more_holidays, start, end) <= business_seconds(cal, start, end)
