"""The iCalendar feed: secret URL (hash only), no session, revocation, content, escaping."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
import vobject
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.activities import calendar
from kehu.activities.models import CalendarFeed
from kehu.activities.tests.factories import InteractionFactory, TaskFactory
from kehu.users.models import User

pytestmark = pytest.mark.django_db


def _feed_url(token: str) -> str:
    return reverse("activities:calendar_feed_ics", args=[token])


def _parse(response: Any) -> Any:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return vobject.readOne(response.content.decode())


def _events(cal: Any) -> dict[str, Any]:
    return {e.uid.value: e for e in cal.contents.get("vevent", [])}


def test_create_stores_only_the_hash_and_regenerate_replaces_it(sales: Any) -> None:
    feed, token = calendar.calendar_feed_create(user=sales.rep1)
    assert token.startswith("kc_") and len(token) > 40
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(CalendarFeed.objects.filter(pk=feed.pk).values().get())
    _feed2, token2 = calendar.calendar_feed_create(user=sales.rep1)
    assert token2 != token and CalendarFeed.objects.count() == 1
    assert calendar.calendar_feed_by_token(token=token) is None
    assert calendar.calendar_feed_by_token(token=token2) is not None


def test_feed_without_a_session_holds_only_my_items(sales: Any) -> None:
    now = timezone.now()
    mine = TaskFactory.create(
        owner=sales.rep1, title="我的任务", due_at=now + dt.timedelta(days=2), remind_before_minutes=15
    )
    done = TaskFactory.create(
        owner=sales.rep1, title="完成了", due_at=now - dt.timedelta(days=2), status="done"
    )
    TaskFactory.create(owner=sales.rep1, title="太久以前", due_at=now - dt.timedelta(days=200))
    TaskFactory.create(
        owner=sales.rep1, title="取消了", due_at=now + dt.timedelta(days=1), status="cancelled"
    )
    TaskFactory.create(owner=sales.rep2, title="别人的任务", due_at=now + dt.timedelta(days=1))
    meeting = InteractionFactory.create(
        owner=sales.rep1,
        kind="visit",
        subject="拜访客户",
        occurred_at=now + dt.timedelta(days=3),
        duration_minutes=45,
        location="北京市海淀区",
    )
    InteractionFactory.create(owner=sales.rep1, kind="call", subject="电话", occurred_at=now)
    # rep2's meeting that rep1 joins: in rep1's feed only if rep1 may view it (own scope: no).
    joined = InteractionFactory.create(owner=sales.rep2, kind="meeting", subject="一起开会", occurred_at=now)
    joined.participants.add(sales.rep1)
    _feed, token = calendar.calendar_feed_create(user=sales.rep1)

    cal = _parse(Client().get(_feed_url(token)))
    events = _events(cal)
    host = "127.0.0.1"
    assert set(events) == {
        f"kehu-task-{mine.pk}@{host}",
        f"kehu-task-{done.pk}@{host}",
        f"kehu-interaction-{meeting.pk}@{host}",
    }
    task_event = events[f"kehu-task-{mine.pk}@{host}"]
    assert task_event.summary.value == "我的任务"
    assert mine.due_at is not None
    assert task_event.dtstart.value == mine.due_at.replace(microsecond=0)
    assert task_event.dtstart.value.utcoffset() == dt.timedelta(0)
    assert task_event.valarm.trigger.value == -dt.timedelta(minutes=15)
    assert task_event.url.value.endswith(mine.get_absolute_url())
    assert events[f"kehu-task-{done.pk}@{host}"].summary.value == "✓ 完成了"
    assert not hasattr(events[f"kehu-task-{done.pk}@{host}"], "valarm")
    visit = events[f"kehu-interaction-{meeting.pk}@{host}"]
    assert visit.location.value == "北京市海淀区"
    assert visit.dtend.value - visit.dtstart.value == dt.timedelta(minutes=45)
    # A manager who may view rep2's meeting sees a joined meeting in their own feed.
    joined.participants.add(sales.manager1)
    _f, manager_token = calendar.calendar_feed_create(user=sales.manager1)
    manager_events = _events(_parse(Client().get(_feed_url(manager_token))))
    assert f"kehu-interaction-{joined.pk}@{host}" in manager_events


def test_feed_text_is_escaped(sales: Any) -> None:
    nasty = "Evil <script>alert(1)</script>\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:injected; a, b\\"
    task = TaskFactory.create(
        owner=sales.rep1,
        title=nasty[:200],
        description="line1\nline2",
        due_at=timezone.now() + dt.timedelta(hours=5),
    )
    _feed, token = calendar.calendar_feed_create(user=sales.rep1)
    response = Client().get(_feed_url(token))
    text = response.content.decode()
    assert "\r\nBEGIN:VEVENT\r\nSUMMARY:injected" not in text
    events = _events(_parse(response))
    assert len(events) == 1
    event = next(iter(events.values()))
    assert event.summary.value == nasty.replace("\r", "")[:200].replace("\r", "")
    assert "line1\nline2" in event.description.value
    assert event.uid.value == f"kehu-task-{task.pk}@127.0.0.1"


def test_all_day_task_is_a_date_in_the_users_time_zone(sales: Any) -> None:
    User.objects.filter(pk=sales.rep1.pk).update(time_zone="Asia/Shanghai")
    due = timezone.now().replace(hour=20, minute=0, second=0, microsecond=0) + dt.timedelta(days=3)
    TaskFactory.create(owner=sales.rep1, title="全天", due_at=due, all_day=True)
    _feed, token = calendar.calendar_feed_create(user=User.objects.get(pk=sales.rep1.pk))
    event = next(iter(_events(_parse(Client().get(_feed_url(token)))).values()))
    local = due.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert event.dtstart.value == local and event.dtend.value == local + dt.timedelta(days=1)


def test_revoked_unknown_and_inactive_answer_404(sales: Any) -> None:
    _feed, token = calendar.calendar_feed_create(user=sales.rep1)
    anonymous = Client()
    assert anonymous.get(_feed_url(token)).status_code == 200
    assert anonymous.head(_feed_url(token)).status_code == 200  # some calendar apps ask first
    assert anonymous.post(_feed_url(token)).status_code == 405
    assert anonymous.get(_feed_url("kc_" + "x" * 43)).status_code == 404
    assert anonymous.get(_feed_url("nope")).status_code == 404
    assert anonymous.get("/activities/calendar/feed/a.b.ics").status_code == 404
    assert calendar.calendar_feed_revoke(user=sales.rep1) is True
    assert calendar.calendar_feed_revoke(user=sales.rep1) is False
    assert anonymous.get(_feed_url(token)).status_code == 404
    _feed, token = calendar.calendar_feed_create(user=sales.rep1)
    User.objects.filter(pk=sales.rep1.pk).update(is_active=False)
    assert anonymous.get(_feed_url(token)).status_code == 404


def test_last_used_is_written_at_most_once_an_hour(sales: Any, django_assert_num_queries) -> None:
    _feed, token = calendar.calendar_feed_create(user=sales.rep1)
    now = timezone.now()
    assert calendar.calendar_feed_by_token(token=token, now=now) is not None
    assert CalendarFeed.objects.get().last_used_at == now
    with django_assert_num_queries(1):  # the lookup only, no UPDATE
        calendar.calendar_feed_by_token(token=token, now=now + dt.timedelta(minutes=59))
    calendar.calendar_feed_by_token(token=token, now=now + dt.timedelta(minutes=61))
    assert CalendarFeed.objects.get().last_used_at == now + dt.timedelta(minutes=61)


def test_subscription_page_shows_the_url_once_then_revokes(client, sales: Any) -> None:
    page = reverse("activities:calendar_feed")
    assert client.get(page).status_code == 302
    client.force_login(sales.rep1)
    assert 'data-state="none"' in client.get(page).content.decode()
    response = client.post(page, {"action": "create"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="new-feed-url"' in html and response["Cache-Control"] == "no-store"
    url = response.context["new_url"]
    assert url.startswith("http://127.0.0.1:8000/activities/calendar/feed/kc_") and url.endswith(".ics")
    assert Client().get(url.removeprefix("http://127.0.0.1:8000")).status_code == 200
    again = client.get(page).content.decode()
    assert url not in again and 'data-state="active"' in again
    client.post(page, {"action": "revoke"})
    assert 'data-state="revoked"' in client.get(page).content.decode()
    assert Client().get(url.removeprefix("http://127.0.0.1:8000")).status_code == 404
    client.force_login(sales.nobody)
    assert client.get(page).status_code == 403
