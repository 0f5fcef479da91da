"""Calendar pages: month and week grids, navigation, people within scope, time zones."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from kehu.activities import calendar
from kehu.activities.tests.factories import InteractionFactory, TaskFactory
from kehu.users.models import User

pytestmark = pytest.mark.django_db

URL = "/activities/calendar/"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def test_url() -> None:
    assert reverse("activities:calendar") == URL


def test_month_shows_my_tasks_and_meetings_on_their_local_day(client, sales: Any) -> None:
    User.objects.filter(pk=sales.rep1.pk).update(time_zone="Asia/Shanghai", language="en")
    # 2026-03-09 20:00 UTC is 10 March 04:00 in Shanghai.
    task = TaskFactory.create(owner=sales.rep1, title="报价 <b>跟进</b>", due_at=_at(2026, 3, 9, 20, 0))
    meeting = InteractionFactory.create(
        owner=sales.rep1,
        kind="meeting",
        subject="季度会议",
        occurred_at=_at(2026, 3, 12, 2, 0),
        duration_minutes=90,
    )
    InteractionFactory.create(
        owner=sales.rep1, kind="call", subject="只是电话", occurred_at=_at(2026, 3, 12, 3, 0)
    )
    TaskFactory.create(owner=sales.rep1, title="已取消", due_at=_at(2026, 3, 13, 3, 0), status="cancelled")
    TaskFactory.create(owner=sales.rep2, title="别人的", due_at=_at(2026, 3, 13, 3, 0))
    client.force_login(sales.rep1)
    response = client.get(URL, {"date": "2026-03-15"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "March 2026" in html
    cell = html.split('data-date="2026-03-10"')[1].split("</td>")[0]
    assert f'data-item="task-{task.pk}"' in cell and "04:00" in cell
    assert "报价 &lt;b&gt;跟进&lt;/b&gt;" in cell  # escaped
    meeting_cell = html.split('data-date="2026-03-12"')[1].split("</td>")[0]
    assert f'data-item="interaction-{meeting.pk}"' in meeting_cell and "10:00" in meeting_cell
    assert f'href="{meeting.get_absolute_url()}"' in meeting_cell
    assert "只是电话" not in html and "已取消" not in html and "别人的" not in html


def test_week_view_and_navigation(client, sales: Any) -> None:
    TaskFactory.create(owner=sales.rep1, title="周二的任务", due_at=_at(2026, 3, 10, 3, 0))
    client.force_login(sales.rep1)
    response = client.get(URL, {"view": "week", "date": "2026-03-11"})
    html = response.content.decode()
    assert 'id="calendar-week"' in html and "周二的任务" in html
    # English weeks start on Sunday: 8–14 March.
    assert 'data-date="2026-03-08"' in html and 'data-date="2026-03-14"' in html
    assert 'data-date="2026-03-15"' not in html
    assert "date=2026-03-01" in response.context["prev_url"]
    assert "date=2026-03-15" in response.context["next_url"]
    # Chinese weeks start on Monday.
    User.objects.filter(pk=sales.rep1.pk).update(language="zh-hans")
    html = client.get(URL, {"view": "week", "date": "2026-03-11"}).content.decode()
    assert 'data-date="2026-03-09"' in html and 'data-date="2026-03-15"' in html
    assert 'data-date="2026-03-08"' not in html


def test_htmx_gets_the_calendar_body_only(client, sales: Any) -> None:
    client.force_login(sales.rep1)
    response = client.get(URL, {"view": "month", "date": "2026-04-01"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="calendar-card"' in html and "<html" not in html


def test_bad_parameters_fall_back_to_defaults(client, sales: Any) -> None:
    client.force_login(sales.rep1)
    for params in ({"date": "2026-13-45"}, {"date": "0001-01-01"}, {"view": "year"}, {"user": ["x", "-1"]}):
        assert client.get(URL, params).status_code == 200


def test_managers_choose_people_within_their_scope(client, sales: Any) -> None:
    due = _at(2026, 5, 6, 3, 0)
    TaskFactory.create(owner=sales.rep1, title="rep1 任务", due_at=due)
    TaskFactory.create(owner=sales.rep2, title="rep2 任务", due_at=due)
    TaskFactory.create(owner=sales.rep3, title="rep3 任务 华东", due_at=due)
    client.force_login(sales.manager1)  # 华北区 manager: department scope
    params = {"date": "2026-05-06"}
    # Default: my own calendar.
    assert "rep1 任务" not in client.get(URL, params).content.decode()
    everyone = client.get(URL, {**params, "user": "all"})
    html = everyone.content.decode()
    assert "rep1 任务" in html and "rep2 任务" in html and "rep3 任务" not in html
    people = {u.pk for u in everyone.context["people"]}
    assert {sales.rep1.pk, sales.rep2.pk, sales.manager1.pk} <= people and sales.rep3.pk not in people
    one = client.get(URL, {**params, "user": str(sales.rep2.pk)}).content.decode()
    assert "rep2 任务" in one and "rep1 任务" not in one
    both = client.get(URL + f"?date=2026-05-06&user={sales.rep1.pk}&user={sales.rep2.pk}").content.decode()
    assert "rep1 任务" in both and "rep2 任务" in both and "rep3 任务" not in both
    # Asking for someone out of scope shows nothing of theirs.
    assert "rep3 任务" not in client.get(URL, {**params, "user": str(sales.rep3.pk)}).content.decode()


def test_needs_sign_in_and_a_permission(client, sales: Any) -> None:
    assert client.get(URL).status_code == 302
    client.force_login(sales.nobody)
    assert client.get(URL).status_code == 403


def test_query_count_does_not_grow_with_items(client, sales: Any, django_assert_max_num_queries) -> None:
    for i in range(15):
        TaskFactory.create(owner=sales.rep1, title=f"t{i}", due_at=_at(2026, 6, 1 + i, 3, 0))
        InteractionFactory.create(
            owner=sales.rep1, kind="visit", subject=f"v{i}", occurred_at=_at(2026, 6, 1 + i, 5, 0)
        )
    client.force_login(sales.rep1)
    with django_assert_max_num_queries(20):
        response = client.get(URL, {"date": "2026-06-10", "user": "all"})
    assert response.content.decode().count("data-item=") >= 30


def test_meeting_across_midnight_reaches_into_the_window(sales: Any) -> None:
    InteractionFactory.create(
        owner=sales.rep1,
        kind="meeting",
        subject="夜会",
        occurred_at=_at(2026, 3, 7, 23, 30),
        duration_minutes=120,
    )
    InteractionFactory.create(
        owner=sales.rep1, kind="meeting", subject="早结束", occurred_at=_at(2026, 3, 7, 22, 0)
    )
    items = calendar.calendar_items(user=sales.rep1, start=_at(2026, 3, 8, 0, 0), end=_at(2026, 3, 15, 0, 0))
    assert [i.title for i in items] == ["夜会"]


def test_calendar_items_selector_respects_restrict(sales: Any) -> None:
    TaskFactory.create(owner=sales.rep2, title="x", due_at=_at(2026, 7, 1, 3, 0))
    start, end = _at(2026, 6, 1, 0, 0), _at(2026, 8, 1, 0, 0)
    assert calendar.calendar_items(user=sales.rep1, start=start, end=end) == []
    assert [i.title for i in calendar.calendar_items(user=sales.manager1, start=start, end=end)] == ["x"]
    assert calendar.calendar_items(user=sales.nobody, start=start, end=end) == []
