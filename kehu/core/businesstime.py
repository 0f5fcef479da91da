"""Business-time arithmetic: working hours per weekday in a time zone, public holidays, make-up
working days (调休) and pauses.

Pure functions over a `WorkCalendar` value (no database): the service app's SLA timers build one
from its business-calendar records and ask two questions —

* `business_seconds(cal, start, end, pauses=...)`: how much working time lies between two moments,
  not counting the paused spans (a ticket waiting on the customer);
* `add_business_seconds(cal, start, seconds, pauses=...)`: the moment at which that much working
  time has passed after `start` (a due time).

Rules:

* Working hours are intervals of minutes after local midnight per weekday (0 = Monday),
  ``(540, 720)`` being 09:00–12:00; ``1440`` is the next midnight, so ``(0, 1440)`` is a whole day.
* A holiday has no working time even on a working weekday. A make-up day is worked although it
  falls on a weekend, with the hours of the weekday it names (调休 usually works "as a Monday" or
  by the normal weekday pattern; the default is Monday's hours).
* Intervals are read in the calendar's time zone and measured in absolute time, so a day with a
  daylight-saving change counts the hours that really passed (a wall time skipped or repeated by
  a DST change is read with the offset before the change, PEP 495's ``fold=0``).
* Results are whole seconds; inputs must be aware datetimes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
DAY_MINUTES = 1440
# How far ahead a due time is looked for before the calendar is called empty (ten years of days).
MAX_DAYS = 3660

Interval = tuple[int, int]  # minutes after local midnight, start < end <= 1440
Span = tuple[dt.datetime, dt.datetime]


class CalendarError(ValueError):
    """A calendar that cannot be used: bad intervals, or no working time at all."""


@dataclass(frozen=True)
class WorkCalendar:
    tz: ZoneInfo
    hours: Mapping[int, tuple[Interval, ...]]  # weekday (0 = Monday) -> sorted, disjoint intervals
    holidays: frozenset[dt.date] = frozenset()
    makeup_days: Mapping[dt.date, int] = field(default_factory=dict)  # date -> weekday whose hours apply

    def __post_init__(self) -> None:
        for weekday, intervals in self.hours.items():
            if not 0 <= weekday <= 6:
                raise CalendarError(f"weekday {weekday} is not 0–6")
            last_end = -1
            for start, end in intervals:
                if not (0 <= start < end <= DAY_MINUTES):
                    raise CalendarError(f"interval {start}–{end} is not within one day")
                if start < last_end:
                    raise CalendarError("a weekday's intervals must be sorted and must not overlap")
                last_end = end

    def day_spans(self, day: dt.date) -> tuple[Span, ...]:
        """The working spans (UTC) of a local date, computed once per date (an SLA sweep asks for
        the same few hundred dates for every ticket)."""
        cache: dict[dt.date, tuple[Span, ...]] = self.__dict__.setdefault("_spans", {})
        found = cache.get(day)
        if found is None:
            spans = []
            last = None
            for begin, end in self.day_intervals(day):
                # (around a DST gap an interval may come out empty or reach into the one before)
                a, b = _local(day, begin, self.tz), _local(day, end, self.tz)
                if last is not None and a < last:
                    a = last
                if b > a:
                    spans.append((a, b))
                    last = b
            found = cache[day] = tuple(spans)
        return found

    def day_intervals(self, day: dt.date) -> tuple[Interval, ...]:
        """The working intervals of a local date."""
        if day in self.holidays:
            return ()
        if day in self.makeup_days:
            return tuple(self.hours.get(self.makeup_days[day], ()))
        return tuple(self.hours.get(day.weekday(), ()))

    def has_working_time(self) -> bool:
        return any(self.hours.get(d) for d in range(7)) or bool(self.makeup_days)


def always_open(tz: ZoneInfo | None = None) -> WorkCalendar:
    """A 24×7 calendar (an SLA counted on calendar time)."""
    return WorkCalendar(tz=tz or ZoneInfo("UTC"), hours=dict.fromkeys(range(7), ((0, DAY_MINUTES),)))


def _local(day: dt.date, minute: int, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of `minute` after local midnight on `day` (1440: the next midnight)."""
    if minute >= DAY_MINUTES:
        day, minute = day + dt.timedelta(days=1), minute - DAY_MINUTES
    naive = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
    return naive.replace(tzinfo=tz).astimezone(UTC)  # (PEP 495 fold=0 for skipped or repeated wall times)


def _as_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("business-time arithmetic needs aware datetimes")
    return moment.astimezone(UTC)


def working_spans(cal: WorkCalendar, start: dt.datetime, *, days: int = MAX_DAYS) -> Iterator[Span]:
    """The working spans (UTC) from the local day of `start` on, in order, for `days` days; the
    first may begin before `start` (callers clip)."""
    day = _as_utc(start).astimezone(cal.tz).date()
    last = dt.datetime.min.replace(tzinfo=UTC)
    one_day = dt.timedelta(days=1)
    for _ in range(days):
        for a, b in cal.day_spans(day):
            if a < last:  # (a DST change at midnight: never go back in time)
                a = last
            if b > a:
                yield a, b
                last = b
        day += one_day


def _merge(pauses: Iterable[Span]) -> list[Span]:
    spans = sorted((_as_utc(a), _as_utc(b)) for a, b in pauses if _as_utc(b) > _as_utc(a))
    merged: list[Span] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _subtract(span: Span, pauses: list[Span]) -> Iterator[Span]:
    """`span` without the (merged, sorted) pauses."""
    a, b = span
    for p, q in pauses:
        if q <= a:
            continue
        if p >= b:
            break
        if p > a:
            yield a, p
        a = max(a, q)
        if a >= b:
            return
    if a < b:
        yield a, b


def business_seconds(
    cal: WorkCalendar, start: dt.datetime, end: dt.datetime, *, pauses: Iterable[Span] = ()
) -> int:
    """Working seconds between `start` and `end` outside `pauses` (0 when `end` ≤ `start`)."""
    start, end = _as_utc(start), _as_utc(end)
    if end <= start:
        return 0
    merged = _merge(pauses)
    total = 0
    days = (end - start).days + 3
    for a, b in working_spans(cal, start, days=days):
        if b <= start:
            continue
        if a >= end:
            break
        for x, y in _subtract((max(a, start), min(b, end)), merged):
            total += int((y - x).total_seconds())
    return total


def add_business_seconds(
    cal: WorkCalendar, start: dt.datetime, seconds: int, *, pauses: Iterable[Span] = ()
) -> dt.datetime:
    """The first moment at which `seconds` working seconds outside `pauses` have passed after
    `start` (UTC). `seconds` ≤ 0 gives `start`. CalendarError when the calendar has no working time
    within ten years."""
    start = _as_utc(start)
    if seconds <= 0:
        return start
    if not cal.has_working_time():
        raise CalendarError("the calendar has no working hours")
    merged = _merge(pauses)
    left = dt.timedelta(seconds=seconds)
    for a, b in working_spans(cal, start):
        if b <= start:
            continue
        for x, y in _subtract((max(a, start), b), merged):
            if y - x >= left:
                return x + left
            left -= y - x
    raise CalendarError("no working time found within ten years")
