"""/api/v1/service/calendars/: CRUD with nested hours and days, load-holidays, due, elapsed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.core.choices import Action
from kehu.service import services
from kehu.service.models import BusinessCalendar, CalendarDay
from kehu.users.tests.factories import grant

from .factories import office

pytestmark = pytest.mark.django_db
URL = "/api/v1/service/calendars/"


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_create_with_nested_hours_and_days_then_read_back(company: Any) -> None:
    body = {
        "name": "上海",
        "time_zone": "Asia/Shanghai",
        "hours": [
            {"weekday": d, "start": s, "end": e}
            for d in range(5)
            for s, e in (("09:00", "12:00"), ("13:30", "18:00"))
        ],
        "days": [
            {"date": "2026-10-01", "kind": "holiday", "name": "国庆节"},
            {"date": "2026-09-20", "kind": "makeup", "name": "国庆节", "works_as": 0},
        ],
    }
    response = api(company.admin).post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["is_default"] is True
    assert len(data["hours"]) == 10
    assert {d["date"] for d in data["days"]} == {"2026-10-01", "2026-09-20"}
    calendar = BusinessCalendar.objects.get(pk=data["id"])
    response = api(company.admin).patch(
        f"{URL}{calendar.pk}/", {"hours": [{"weekday": 5, "start": "10:00", "end": "00:00"}]}, format="json"
    )
    assert response.status_code == 200
    assert [(h["weekday"], h["start"], h["end"]) for h in response.json()["hours"]] == [
        (5, "10:00:00", "00:00:00")
    ]
    assert calendar.days.count() == 2  # untouched


def test_bad_input_is_a_400_with_field_errors_and_changes_nothing(company: Any) -> None:
    client = api(company.admin)
    response = client.post(URL, {"name": "X", "time_zone": "Mars/Base"}, format="json")
    assert response.status_code == 400 and "time_zone" in response.json()["fields"]
    overlapping = [
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "11:00", "end": "13:00"},
    ]
    response = client.post(URL, {"name": "Y", "hours": overlapping}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_hours"
    assert not BusinessCalendar.objects.exists()


def test_the_default_cannot_be_deleted(company: Any) -> None:
    default = office(company.admin)
    other = office(company.admin, name="B")
    client = api(company.admin)
    response = client.delete(f"{URL}{default.pk}/")
    assert response.status_code == 409 and response.json()["code"] == "default_calendar"
    assert client.delete(f"{URL}{other.pk}/").status_code == 204
    assert list(BusinessCalendar.objects.all()) == [default]


def test_load_holidays_due_and_elapsed(company: Any) -> None:
    calendar = office(company.admin)
    client = api(company.admin)
    response = client.post(f"{URL}{calendar.pk}/load-holidays/", {"year": 2026}, format="json")
    assert response.status_code == 200
    first = response.json()
    assert first["changed"] == CalendarDay.objects.filter(calendar=calendar).count() > 30
    assert first["confirmed"] is True  # (2026: checked against the notice)
    again = client.post(f"{URL}{calendar.pk}/load-holidays/", {"year": 2026}, format="json").json()
    assert again["changed"] == 0
    response = client.post(f"{URL}{calendar.pk}/load-holidays/", {"year": 2030}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "unknown_year"

    response = client.post(
        f"{URL}{calendar.pk}/due/", {"start": "2026-09-30T17:00:00+08:00", "seconds": 7200}, format="json"
    )
    assert response.status_code == 200
    assert dt.datetime.fromisoformat(response.json()["due"]) == dt.datetime.fromisoformat(
        "2026-10-08T10:00:00+08:00"
    )
    body = {
        "start": "2026-09-30T17:00:00+08:00",
        "end": "2026-10-08T12:00:00+08:00",
        "pauses": [{"start": "2026-10-08T09:00:00+08:00", "end": "2026-10-08T10:00:00+08:00"}],
    }
    response = client.post(f"{URL}{calendar.pk}/elapsed/", body, format="json")
    assert response.status_code == 200 and response.json() == {"seconds": 3 * 3600}


def test_a_calendar_without_hours_answers_a_clear_400(company: Any) -> None:
    empty = services.calendar_create(by=company.admin, data={"name": "空"})
    response = api(company.admin).post(
        f"{URL}{empty.pk}/due/", {"start": "2026-01-05T09:00:00+08:00", "seconds": 60}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "no_working_time"


def test_permissions(company: Any) -> None:
    calendar = office(company.admin)
    assert APIClient().get(URL).status_code in (401, 403)
    nobody = api(company.nobody)
    assert nobody.get(URL).status_code == 403
    assert nobody.get(f"{URL}{calendar.pk}/").status_code == 404
    assert nobody.post(URL, {"name": "X"}, format="json").status_code == 403
    grant(company.role_rep, "service.businesscalendar", Action.VIEW)
    viewer = api(company.rep1)
    assert viewer.get(URL).json()["results"][0]["id"] == calendar.pk
    due = viewer.post(
        f"{URL}{calendar.pk}/due/", {"start": "2026-11-23T09:00:00+08:00", "seconds": 60}, format="json"
    )
    assert due.status_code == 200
    assert viewer.post(f"{URL}{calendar.pk}/load-holidays/", {"year": 2026}, format="json").status_code == 403
    assert viewer.delete(f"{URL}{calendar.pk}/").status_code == 403
    assert viewer.patch(f"{URL}{calendar.pk}/", {"name": "Z"}, format="json").status_code == 403
    assert not CalendarDay.objects.exists()
    calendar.refresh_from_db()
    assert calendar.name == "上海办公室"
