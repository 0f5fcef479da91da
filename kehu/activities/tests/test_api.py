from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from kehu.customers.tests.factories import AccountFactory, ContactFactory

from ..choices import TaskStatus
from ..models import Interaction, Task
from .factories import InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/activities"


def test_log_an_interaction_with_a_contact_only(sales: Any, client: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    contact = ContactFactory.create(owner=sales.rep1, account=account)
    client.force_login(sales.rep1)
    follow = (timezone.now() + dt.timedelta(days=2)).isoformat()
    response = client.post(
        f"{API}/interactions/",
        {"subject": "微信沟通", "kind": "wechat", "contact": contact.pk, "next_follow_up_at": follow},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["account"] == account.pk and body["task"] is not None
    assert Task.objects.get(pk=body["task"]).owner == sales.rep1


def test_bad_input_answers_400_with_fields(sales: Any, client: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    client.force_login(sales.rep1)
    cases = [
        {"subject": "x"},  # neither account nor contact
        {"subject": "x", "account": account.pk, "duration_minutes": -1},
        {"subject": "x", "account": account.pk, "kind": "fax"},
        {
            "subject": "x",
            "account": account.pk,
            "occurred_at": "2025-05-01T10:00:00Z",
            "next_follow_up_at": "2025-04-01T10:00:00Z",
        },
        {
            "subject": "x",
            "account": AccountFactory.create(owner=sales.rep2).pk,
        },  # out of scope: "does not exist"
    ]
    for body in cases:
        response = client.post(f"{API}/interactions/", body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)
        assert response.json().get("fields") or response.json()
    assert not Interaction.objects.exists()
    for body in (
        {"title": "x", "recurrence": "daily"},
        {
            "title": "x",
            "due_at": "2025-05-01T10:00:00Z",
            "recurrence": "weekly",
            "recurrence_until": "2025-04-01",
        },
        {"title": "x", "recurrence_interval": 0, "due_at": "2025-05-01T10:00:00Z"},
        {"title": "x", "remind_before_minutes": -5, "due_at": "2025-05-01T10:00:00Z"},
        {"title": ""},
    ):
        response = client.post(f"{API}/tasks/", body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)
    assert not Task.objects.exists()


def test_complete_and_reopen_actions(sales: Any, client: Any) -> None:
    task = TaskFactory.create(
        owner=sales.rep1, recurrence="daily", due_at=timezone.now() + dt.timedelta(hours=1)
    )
    client.force_login(sales.rep1)
    response = client.post(
        f"{API}/tasks/{task.pk}/complete/", {"version": 1}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == TaskStatus.DONE
    assert Task.objects.filter(series=task).count() == 1
    response = client.post(f"{API}/tasks/{task.pk}/reopen/", {"version": 1}, content_type="application/json")
    assert response.status_code == 409  # stale: the completion moved the version on
    response = client.post(f"{API}/tasks/{task.pk}/reopen/", {}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == TaskStatus.OPEN
    response = client.post(f"{API}/tasks/{task.pk}/cancel/", {}, content_type="application/json")
    assert response.json()["status"] == TaskStatus.CANCELLED
    response = client.post(f"{API}/tasks/{task.pk}/complete/", {}, content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "task_state"


def test_stale_update_answers_409(sales: Any, client: Any) -> None:
    interaction = InteractionFactory.create(owner=sales.rep1)
    client.force_login(sales.rep1)
    ok = client.patch(
        f"{API}/interactions/{interaction.pk}/",
        {"subject": "一", "version": 1},
        content_type="application/json",
    )
    assert ok.status_code == 200
    stale = client.patch(
        f"{API}/interactions/{interaction.pk}/",
        {"subject": "二", "version": 1},
        content_type="application/json",
    )
    assert stale.status_code == 409
    interaction.refresh_from_db()
    assert interaction.subject == "一"


def test_filters_and_keyset_pagination(sales: Any, client: Any) -> None:
    now = timezone.now()
    for i in range(5):
        TaskFactory.create(owner=sales.rep1, due_at=now - dt.timedelta(days=i + 1))
    TaskFactory.create(owner=sales.rep1, due_at=now + dt.timedelta(days=1))
    client.force_login(sales.rep1)
    response = client.get(f"{API}/tasks/?overdue=true&page_size=2")
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 2 and body["next"]
    seen = {r["id"] for r in body["results"]}
    while body.get("next"):
        body = client.get(body["next"]).json()
        seen |= {r["id"] for r in body["results"]}
    assert len(seen) == 5
    assert client.get(f"{API}/tasks/?due_after=2025-05-10&due_before=2025-05-01").status_code == 400


def test_api_list_query_count(sales: Any, client: Any, django_assert_max_num_queries: Any) -> None:
    client.force_login(sales.rep1)
    for _ in range(3):
        InteractionFactory.create(owner=sales.rep1)
    client.get(f"{API}/interactions/")
    with django_assert_max_num_queries(20) as few:
        client.get(f"{API}/interactions/")
    for _ in range(15):
        InteractionFactory.create(owner=sales.rep1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"{API}/interactions/")


def test_export_of_tasks(sales: Any, client: Any) -> None:
    from kehu.core.exports import get_exporter

    TaskFactory.create(owner=sales.rep1, title="=HYPERLINK(1)")
    TaskFactory.create(owner=sales.rep2, title="别人的")
    exporter = get_exporter("activities.task")
    rows = list(exporter.queryset(sales.rep1, {}))
    assert [t.title for t in rows] == ["=HYPERLINK(1)"]
    assert {c.key for c in exporter.columns(sales.rep1)} >= {"title", "due_at", "status", "owner"}
    assert get_exporter("activities.interaction").queryset(sales.rep1, {"kind": ["call"]}).count() == 0


def test_task_created_without_remind_before_gets_the_default_and_null_means_none(
    sales: Any, client: Any
) -> None:
    from kehu.activities import preferences

    preferences.reminder_defaults_set(user=sales.rep1, before_minutes=10, all_day_at=None)
    client.force_login(sales.rep1)
    body = {"title": "API 默认提醒", "due_at": "2030-01-01T09:00:00+08:00"}
    response = client.post(f"{API}/tasks/", body, content_type="application/json")
    assert response.status_code == 201 and response.json()["remind_before_minutes"] == 10
    response = client.post(
        f"{API}/tasks/", {**body, "remind_before_minutes": None}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["remind_before_minutes"] is None
    # An other account's contact among the participants: a field error.
    account = AccountFactory.create(owner=sales.rep1)
    stranger = ContactFactory.create(owner=sales.rep1)
    response = client.post(
        f"{API}/interactions/",
        {"subject": "会", "account": account.pk, "participant_contacts": [stranger.pk]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"participant_contacts"}
