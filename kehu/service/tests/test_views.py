"""Settings → Business calendars: pages in both languages, permissions, htmx edits, the
calculator, query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.core.choices import Action
from kehu.service import services
from kehu.service.models import BusinessCalendar, CalendarDay, WorkingHours
from kehu.users.tests.factories import grant

from .factories import office

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin(client: Client, company: Any) -> Client:
    client.force_login(company.admin)
    return client


@pytest.mark.parametrize(
    ("lang", "texts"), [("en", ["Weekly working hours", "Monday"]), ("zh-hans", ["每周工作时间", "星期一"])]
)
def test_pages_render_in_both_languages(admin: Client, company: Any, lang: str, texts: list[str]) -> None:
    calendar = office(company.admin)
    services.calendar_days_load_holidays(calendar=calendar, year=2026, by=company.admin)
    admin.cookies["django_language"] = lang
    for url in (
        reverse("service:calendar_list"),
        reverse("service:calendar_add"),
        reverse("service:calendar_edit", args=[calendar.pk]),
        reverse("service:calendar_detail", args=[calendar.pk]) + "?year=2026",
    ):
        response = admin.get(url)
        assert response.status_code == 200, url
    content = response.content.decode()
    for text in texts:
        assert text in content
    assert "国庆节" in content


def test_anonymous_is_sent_to_sign_in(client: Client, company: Any) -> None:
    calendar = office(company.admin)
    for url in (reverse("service:calendar_list"), reverse("service:calendar_detail", args=[calendar.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    response = client.post(reverse("service:calendar_delete", args=[office(company.admin, name="B").pk]))
    assert response.status_code == 302
    assert BusinessCalendar.objects.count() == 2


def test_without_permission_403_and_nothing_changes(client: Client, company: Any) -> None:
    calendar = office(company.admin)
    other = office(company.admin, name="B")
    client.force_login(company.nobody)
    assert client.get(reverse("service:calendar_list")).status_code == 403
    assert client.get(reverse("service:calendar_detail", args=[calendar.pk])).status_code == 403
    assert client.post(reverse("service:calendar_delete", args=[other.pk])).status_code == 403
    response = client.post(
        reverse("service:calendar_hours_add", args=[calendar.pk]),
        {"weekday": 5, "start": "09:00", "end": "10:00"},
    )
    assert response.status_code == 403
    assert not WorkingHours.objects.filter(weekday=5).exists()
    assert BusinessCalendar.objects.count() == 2


def test_a_viewer_sees_but_cannot_change(client: Client, company: Any) -> None:
    calendar = office(company.admin)
    grant(company.role_rep, "service.businesscalendar", Action.VIEW)
    client.force_login(company.rep1)
    response = client.get(reverse("service:calendar_detail", args=[calendar.pk]))
    assert response.status_code == 200
    assert b'data-action="add-hours"' not in response.content
    assert b'data-action="load-holidays"' not in response.content
    response = client.post(
        reverse("service:calendar_load_holidays", args=[calendar.pk]), {"year": 2026}, headers=HTMX
    )
    assert response.status_code == 403
    assert not CalendarDay.objects.exists()
    assert client.get(reverse("service:calendar_detail", args=[999999])).status_code == 404


def test_admin_creates_edits_and_deletes_a_calendar(admin: Client, company: Any) -> None:
    response = admin.post(
        reverse("service:calendar_add"), {"name": "广州", "time_zone": "Asia/Shanghai", "is_active": "on"}
    )
    calendar = BusinessCalendar.objects.get(name="广州")
    assert response.status_code == 302 and response["Location"] == calendar.get_absolute_url()
    assert calendar.is_default  # the first one
    response = admin.post(reverse("service:calendar_add"), {"name": "X", "time_zone": "Nowhere/City"})
    assert response.status_code == 400 and "Nowhere/City" in response.content.decode()
    other = office(company.admin, name="B")
    response = admin.post(reverse("service:calendar_delete", args=[calendar.pk]))
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()  # the default stays
    response = admin.post(reverse("service:calendar_delete", args=[other.pk]))
    assert response.status_code == 302
    assert not BusinessCalendar.objects.filter(pk=other.pk).exists()


def test_hours_are_added_and_removed_with_htmx(admin: Client, company: Any) -> None:
    calendar = office(company.admin)
    url = reverse("service:calendar_hours_add", args=[calendar.pk])
    response = admin.post(url, {"weekday": 5, "start": "10:00", "end": "14:00"}, headers=HTMX)
    assert response.status_code == 200
    assert "10:00–14:00" in response.content.decode()
    response = admin.post(url, {"weekday": 5, "start": "13:00", "end": "15:00"}, headers=HTMX)
    assert response.status_code == 200  # htmx swaps the section with its error
    assert "overlaps" in response.content.decode()
    assert calendar.hours.filter(weekday=5).count() == 1
    row = calendar.hours.get(weekday=5)
    response = admin.post(reverse("service:calendar_hours_delete", args=[calendar.pk, row.pk]), headers=HTMX)
    assert response.status_code == 200
    assert not calendar.hours.filter(weekday=5).exists()


def test_days_are_added_loaded_copied_and_removed(admin: Client, company: Any) -> None:
    calendar = office(company.admin)
    other = office(company.admin, name="B")
    response = admin.post(
        reverse("service:calendar_day_add", args=[calendar.pk]),
        {"date": "2026-12-31", "kind": "holiday", "name": "年会"},
        headers=HTMX,
    )
    assert response.status_code == 200 and "年会" in response.content.decode()
    response = admin.post(
        reverse("service:calendar_load_holidays", args=[calendar.pk]), {"year": 2026}, headers=HTMX
    )
    assert response.status_code == 200 and "春节" in response.content.decode()
    count = calendar.days.count()
    assert count > 30
    response = admin.post(
        reverse("service:calendar_days_copy", args=[calendar.pk]),
        {"target": other.pk, "year": 2026},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert other.days.count() == count
    day = calendar.days.get(date=dt.date(2026, 12, 31))
    response = admin.post(reverse("service:calendar_day_delete", args=[calendar.pk, day.pk]), headers=HTMX)
    assert response.status_code == 200 and "年会" not in response.content.decode()
    response = admin.post(
        reverse("service:calendar_day_add", args=[calendar.pk]), {"date": "", "kind": "holiday"}
    )
    assert response.status_code == 302  # a plain browser post goes back to the page


def test_the_calculator_answers_due_times_and_business_time(admin: Client, company: Any) -> None:
    calendar = office(company.admin)
    services.calendar_days_load_holidays(calendar=calendar, year=2026, by=company.admin)
    url = reverse("service:calendar_calculator", args=[calendar.pk])
    response = admin.get(url, {"start": "2026-09-30T17:00", "hours": "2"}, headers=HTMX)
    assert response.status_code == 200
    assert "2026-10-08 10:00" in response.content.decode()
    response = admin.get(url, {"start": "2026-09-30T17:00", "end": "2026-10-08T10:00"}, headers=HTMX)
    assert "2.0 business hours (7200 seconds)" in response.content.decode()
    response = admin.get(url, {"start": "x", "hours": "1"}, headers=HTMX)
    assert response.status_code == 200 and "data-calculator-error" in response.content.decode()
    assert admin.get(url, {"start": "x", "hours": "1"}).status_code == 400
    assert admin.get(url, {"start": "2026-09-30T17:00"}, headers=HTMX).content == b""
    empty = services.calendar_create(by=company.admin, data={"name": "空"})
    response = admin.get(
        reverse("service:calendar_calculator", args=[empty.pk]), {"start": "2026-01-05T09:00", "hours": "1"}
    )
    assert "no working hours" in response.content.decode()


def test_the_calendar_page_query_count_does_not_grow_with_days(
    admin: Client, company: Any, django_assert_max_num_queries: Any
) -> None:
    calendar = office(company.admin)
    url = reverse("service:calendar_detail", args=[calendar.pk]) + "?year=2026"
    admin.get(url)
    with django_assert_max_num_queries(25) as few:
        admin.get(url)
    services.calendar_days_load_holidays(calendar=calendar, year=2026, by=company.admin)
    for weekday in (5, 6):
        services.calendar_add_hours(
            calendar=calendar, weekday=weekday, start="10:00", end="12:00", by=company.admin
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin.get(url)
    assert response.content.decode().count("data-day=") > 30
