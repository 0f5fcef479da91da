"""China's public holidays and make-up working days (调休上班) per year, as the General Office of
the State Council (国务院办公厅) publishes them each autumn for the next year.

The 2026 table is the notice 《国务院办公厅关于2026年部分节假日安排的通知》 of 4 November 2025
(published by Xinhua, e.g. https://politics.gmw.cn/2025-11/04/content_38391083.htm), checked
date by date. `CONFIRMED` says whether a year's table was checked against the official notice;
the calendar page warns about unchecked years.

Add a year as a new entry of `YEARS`; `services.calendar_days_load_holidays` loads it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Festival:
    name: str  # the festival's Chinese name, as the notice writes it (stored on the day)
    holidays: tuple[dt.date, ...]
    makeup_days: tuple[dt.date, ...] = ()


def _days(year: int, month: int, first: int, last: int) -> tuple[dt.date, ...]:
    return tuple(dt.date(year, month, d) for d in range(first, last + 1))


YEARS: dict[int, tuple[Festival, ...]] = {
    2026: (
        Festival("元旦", _days(2026, 1, 1, 3), (dt.date(2026, 1, 4),)),
        Festival("春节", _days(2026, 2, 15, 23), (dt.date(2026, 2, 14), dt.date(2026, 2, 28))),
        Festival("清明节", _days(2026, 4, 4, 6)),
        Festival("劳动节", _days(2026, 5, 1, 5), (dt.date(2026, 5, 9),)),
        Festival("端午节", _days(2026, 6, 19, 21)),
        Festival("中秋节", _days(2026, 9, 25, 27)),
        Festival("国庆节", _days(2026, 10, 1, 7), (dt.date(2026, 9, 20), dt.date(2026, 10, 10))),
    ),
}

# Whether a year's table has been checked against the official notice (see the module docstring).
CONFIRMED: dict[int, bool] = {2026: True}


def available_years() -> list[int]:
    return sorted(YEARS)
