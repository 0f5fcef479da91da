"""kehu.core.dates formats exactly like django.utils.formats.date_format, in both languages."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, timezone, translation
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.core import dates

DATE_FORMATS = ["DATE_FORMAT", "SHORT_DATE_FORMAT", "MONTH_DAY_FORMAT", "YEAR_MONTH_FORMAT"]
DATETIME_FORMATS = [*DATE_FORMATS, "DATETIME_FORMAT", "SHORT_DATETIME_FORMAT", "TIME_FORMAT"]
LANGUAGES = ["zh-hans", "en"]


@settings(max_examples=150, deadline=None)
@given(value=st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)))
@pytest.mark.parametrize("language", LANGUAGES)
def test_datetimes_are_formatted_like_django(language: str, value: dt.datetime) -> None:
    with translation.override(language):
        for name in DATETIME_FORMATS:
            assert dates.date_format(value, name) == formats.date_format(value, name), name


@settings(max_examples=150, deadline=None)
@given(value=st.dates(min_value=dt.date(1, 1, 1)))
@pytest.mark.parametrize("language", LANGUAGES)
def test_dates_are_formatted_like_django(language: str, value: dt.date) -> None:
    with translation.override(language):
        for name in DATE_FORMATS:
            assert dates.date_format(value, name) == formats.date_format(value, name), name


def test_a_time_format_for_a_date_is_refused_like_django() -> None:
    with pytest.raises(TypeError):
        formats.date_format(dt.date(2026, 3, 5), "DATETIME_FORMAT")
    with pytest.raises(TypeError):
        dates.date_format(dt.date(2026, 3, 5), "DATETIME_FORMAT")


def test_the_exact_chinese_and_english_texts() -> None:
    value = dt.datetime(2026, 3, 5, 16, 7)
    with translation.override("zh-hans"):
        assert dates.date_format(value, "DATETIME_FORMAT") == "2026年3月5日 16:07"
        assert dates.date_format(value, "SHORT_DATE_FORMAT") == "2026年3月5日"
    with translation.override("en"):
        assert dates.date_format(value, "DATETIME_FORMAT") == "March 5, 2026, 4:07 p.m."
        assert dates.date_format(value, "SHORT_DATE_FORMAT") == "03/05/2026"


def test_localtime_is_djangos() -> None:
    value = dt.datetime(2026, 3, 5, 23, 30, tzinfo=dt.UTC)
    with timezone.override(ZoneInfo("Asia/Shanghai")):
        assert dates.localtime(value) == timezone.localtime(value)
        assert dates.localtime(value).hour == 7 and dates.localtime(value).day == 6
