from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from kehu.customers.models import AccountContactRelation
from kehu.customers.tests.factories import AccountFactory, ContactFactory

from ..choices import TaskStatus
from ..models import Interaction, Task
from .factories import InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db


def test_my_day_sections_and_one_click_complete(sales: Any, client: Any) -> None:
    now = timezone.now()
    overdue = TaskFactory.create(owner=sales.rep1, title="逾期任务", due_at=now - dt.timedelta(days=2))
    today = TaskFactory.create(owner=sales.rep1, title="今天任务", due_at=now + dt.timedelta(minutes=1))
    upcoming = TaskFactory.create(owner=sales.rep1, title="下周任务", due_at=now + dt.timedelta(days=3))
    TaskFactory.create(owner=sales.rep1, title="很久以后", due_at=now + dt.timedelta(days=30))
    TaskFactory.create(owner=sales.rep2, title="别人的任务", due_at=now - dt.timedelta(days=1))
    client.force_login(sales.rep1)
    response = client.get("/activities/my-day/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "逾期任务" in html and "下周任务" in html
    assert "很久以后" not in html and "别人的任务" not in html
    assert response.context["day"].overdue == [overdue]
    assert upcoming in response.context["day"].upcoming
    # today's task is today unless the day just ended
    assert today in response.context["day"].today or today in response.context["day"].upcoming

    response = client.post(
        f"/activities/tasks/{overdue.pk}/complete/?fragment=item", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert f'id="task-{overdue.pk}"' in response.content.decode()
    overdue.refresh_from_db()
    assert overdue.status == TaskStatus.DONE
    response = client.get("/activities/my-day/")
    assert response.context["day"].done_today == [overdue]


def test_my_day_query_count_does_not_grow(
    sales: Any, client: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(sales.rep1)
    for i in range(3):
        TaskFactory.create(
            owner=sales.rep1,
            account=AccountFactory.create(owner=sales.rep1),
            due_at=timezone.now() + dt.timedelta(hours=i),
        )
    client.get("/activities/my-day/")
    with django_assert_max_num_queries(14) as few:
        client.get("/activities/my-day/")
    for i in range(20):
        TaskFactory.create(
            owner=sales.rep1,
            account=AccountFactory.create(owner=sales.rep1),
            due_at=timezone.now() - dt.timedelta(hours=i),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/activities/my-day/")


def test_team_view_groups_by_assignee_within_scope(sales: Any, client: Any) -> None:
    now = timezone.now()
    TaskFactory.create(owner=sales.rep1, due_at=now - dt.timedelta(days=1))
    TaskFactory.create(owner=sales.rep1, due_at=now + dt.timedelta(days=1))
    TaskFactory.create(owner=sales.rep2, due_at=now + dt.timedelta(days=1))
    TaskFactory.create(
        owner=sales.rep3, due_at=now - dt.timedelta(days=1)
    )  # 华东区: outside manager1's scope
    client.force_login(sales.manager1)
    response = client.get("/activities/team/")
    assert response.status_code == 200
    members = {m.user.username: m for m in response.context["members"]}
    assert set(members) == {"rep1", "rep2"}
    assert (members["rep1"].open, members["rep1"].overdue) == (2, 1)
    assert (members["rep2"].open, members["rep2"].overdue) == (1, 0)
    assert response.context["members"][0].user == sales.rep1  # most overdue first
    assert [t.owner for t in response.context["overdue"]] == [sales.rep1]


def test_my_day_and_team_need_the_task_permission(company: Any, client: Any) -> None:
    client.force_login(company.nobody)
    assert client.get("/activities/my-day/").status_code == 403
    assert client.get("/activities/team/").status_code == 403


def test_account_activities_tab_and_overview_panel(
    sales: Any, client: Any, django_assert_max_num_queries: Any
) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    contact = ContactFactory.create(owner=sales.rep1, account=account)
    InteractionFactory.create(owner=sales.rep1, account=account, contact=contact, subject="<b>首次拜访</b>")
    TaskFactory.create(owner=sales.rep1, account=account, title="寄样品")
    InteractionFactory.create(owner=sales.rep2, account=account, subject="别人的记录")  # rep1 cannot see it
    client.force_login(sales.rep1)
    response = client.get(f"/customers/accounts/{account.pk}/?tab=activities")
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;b&gt;首次拜访&lt;/b&gt;" in html and "<b>首次拜访</b>" not in html
    assert "寄样品" in html and "别人的记录" not in html
    assert 'data-form="quick-interaction"' in html
    for _i in range(10):
        InteractionFactory.create(owner=sales.rep1, account=account, contact=contact)
        TaskFactory.create(owner=sales.rep1, account=account)
    with django_assert_max_num_queries(45):
        client.get(
            f"/customers/accounts/{account.pk}/?tab=activities",
            headers={"HX-Request": "true", "HX-Target": "object-tab"},
        )
    response = client.get(f"/customers/contacts/{contact.pk}/?tab=activities")
    assert response.status_code == 200 and "首次拜访" in response.content.decode()
    response = client.get(f"/customers/accounts/{account.pk}/")
    assert 'data-panel="activities"' in response.content.decode()


def test_quick_log_from_the_account_page(sales: Any, client: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    client.force_login(sales.rep1)
    response = client.post(
        f"/activities/interactions/add/?next=/customers/accounts/{account.pk}/%3Ftab%3Dactivities",
        {
            "kind": "visit",
            "occurred_at": "2025-05-01T10:00",
            "subject": "上门拜访",
            "account": account.pk,
            "next_follow_up_at": "2025-05-08T10:00",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    assert f"/customers/accounts/{account.pk}/?tab=activities" in response["HX-Location"]
    interaction = Interaction.objects.get()
    assert interaction.task is not None and interaction.task.owner == sales.rep1


def test_form_errors_are_field_errors(sales: Any, client: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    client.force_login(sales.rep1)
    response = client.post(
        "/activities/interactions/add/",
        {
            "kind": "call",
            "subject": "x",
            "account": account.pk,
            "occurred_at": "2025-05-01T10:00",
            "next_follow_up_at": "2025-04-01T10:00",
            "duration_minutes": "-3",
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "next_follow_up_at" in form.errors and "duration_minutes" in form.errors
    response = client.post(
        "/activities/tasks/add/",
        {
            "title": "x",
            "priority": "normal",
            "recurrence": "weekly",
            "due_at": "2025-05-01T10:00",
            "recurrence_until": "2025-04-01",
        },
    )
    assert response.status_code == 400 and "recurrence_until" in response.context["form"].errors
    assert not Interaction.objects.exists() and not Task.objects.exists()


def test_stale_task_edit_is_refused_and_nothing_lost(sales: Any, client: Any) -> None:
    task = TaskFactory.create(owner=sales.rep1, title="原标题")
    Task.objects.filter(pk=task.pk).update(title="别人改的", version=2)
    client.force_login(sales.rep1)
    response = client.post(
        f"/activities/tasks/{task.pk}/edit/",
        {"title": "我的修改", "priority": "normal", "status": "open", "recurrence": "none", "version": 1},
    )
    assert response.status_code == 400
    assert "Someone else changed" in response.content.decode()
    task.refresh_from_db()
    assert task.title == "别人改的"


def test_list_filters(sales: Any, client: Any) -> None:
    now = timezone.now()
    late = TaskFactory.create(owner=sales.rep1, title="迟了", due_at=now - dt.timedelta(days=1))
    TaskFactory.create(owner=sales.rep1, title="还早", due_at=now + dt.timedelta(days=1))
    client.force_login(sales.rep1)
    response = client.get("/activities/tasks/?overdue=true")
    assert [r.record for r in response.context["rows"]] == [late]
    response = client.get("/activities/tasks/?due_after=2025-05-10&due_before=2025-05-01")
    assert response.status_code == 200
    assert "due_before" in response.context["filterset"].form.errors and response.context["rows"] == []
    response = client.get("/activities/interactions/?occurred_after=2025-05-10&occurred_before=2025-05-01")
    assert "occurred_before" in response.context["filterset"].form.errors


def test_list_query_counts(sales: Any, client: Any, django_assert_max_num_queries: Any) -> None:
    client.force_login(sales.rep1)
    for _ in range(3):
        InteractionFactory.create(owner=sales.rep1)
        TaskFactory.create(owner=sales.rep1, account=AccountFactory.create(owner=sales.rep1))
    for url in ("/activities/interactions/", "/activities/tasks/"):
        client.get(url)
        with django_assert_max_num_queries(30) as few:
            client.get(url)
        for _ in range(15):
            InteractionFactory.create(owner=sales.rep1)
            TaskFactory.create(owner=sales.rep1, account=AccountFactory.create(owner=sales.rep1))
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(url)


def test_detail_pages(sales: Any, client: Any, django_assert_max_num_queries: Any) -> None:
    interaction = InteractionFactory.create(owner=sales.rep1, body="<script>alert(1)</script>")
    task = TaskFactory.create(owner=sales.rep1, account=interaction.account, interaction=interaction)
    client.force_login(sales.rep1)
    with django_assert_max_num_queries(30):
        response = client.get(f"/activities/interactions/{interaction.pk}/")
    assert "<script>alert(1)</script>" not in response.content.decode()
    with django_assert_max_num_queries(30):
        response = client.get(f"/activities/tasks/{task.pk}/")
    assert 'data-action="complete"' in response.content.decode()


def test_account_page_fact_and_panel_cost_a_few_queries(
    sales: Any, client: Any, django_assert_max_num_queries: Any
) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    client.force_login(sales.rep1)
    TaskFactory.create(owner=sales.rep1, account=account)
    InteractionFactory.create(owner=sales.rep1, account=account)
    client.get(f"/customers/accounts/{account.pk}/")
    with django_assert_max_num_queries(80) as few:
        response = client.get(f"/customers/accounts/{account.pk}/")
    assert response.status_code == 200
    for _ in range(8):
        TaskFactory.create(owner=sales.rep1, account=account)
        InteractionFactory.create(owner=sales.rep1, account=account)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"/customers/accounts/{account.pk}/")
    facts = {f.fact.key: f.value for f in response.context["facts"]}
    assert facts["open_tasks"] == 9


def test_no_task_permission_hides_the_tab_fact_and_panel(company: Any, client: Any) -> None:
    from kehu.core.choices import Action, Scope
    from kehu.users.tests.factories import grant

    grant(company.role_rep, "customers.account", Action.VIEW, scope=Scope.OWN)
    account = AccountFactory.create(owner=company.rep1)
    TaskFactory.create(owner=company.rep1, account=account, title="看不到的任务")
    client.force_login(company.rep1)
    response = client.get(f"/customers/accounts/{account.pk}/")
    html = response.content.decode()
    assert 'data-tab="activities"' not in html and "看不到的任务" not in html
    assert "open_tasks" not in {f.fact.key for f in response.context["facts"]}
    assert client.get(f"/customers/accounts/{account.pk}/?tab=activities").status_code == 200


def test_interaction_form_records_other_contacts_of_the_account(sales: Any, client: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    boss = ContactFactory.create(owner=sales.rep1, account=account, name="王总")
    buyer = ContactFactory.create(owner=sales.rep1, account=account, name="采购李")
    elsewhere = ContactFactory.create(owner=sales.rep1, name="别家的人")
    hidden = ContactFactory.create(owner=sales.rep2, account=account, name="看不见")
    client.force_login(sales.rep1)
    html = client.get(f"/activities/interactions/add/?account={account.pk}").content.decode()
    picker = html.split('<select name="participant_contacts"')[1].split(">")[0]
    assert "multiple" in picker and 'data-tom-select-forward="account"' in picker
    assert 'data-tom-select-url="/activities/contacts/autocomplete/"' in picker
    contact_picker = html.split('<select name="contact"')[1].split(">")[0]
    assert 'data-tom-select-forward="account"' in contact_picker
    data = {
        "kind": "meeting",
        "occurred_at": "2025-05-01T10:00",
        "subject": "年度洽谈",
        "account": account.pk,
        "contact": boss.pk,
        "participant_contacts": [buyer.pk],
    }
    # Another account's contact, or one the user cannot see: a field error, nothing saved.
    for wrong in (elsewhere, hidden):
        response = client.post("/activities/interactions/add/", {**data, "participant_contacts": [wrong.pk]})
        assert response.status_code == 400
        assert "participant_contacts" in response.context["form"].errors
    assert not Interaction.objects.exists()
    response = client.post("/activities/interactions/add/", data)
    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert list(interaction.participant_contacts.all()) == [buyer]
    # The edit form shows the chosen one (only it is rendered: the rest is searched on the server).
    html = client.get(f"/activities/interactions/{interaction.pk}/edit/").content.decode()
    picker = html.split('name="participant_contacts"')[1].split("</select>")[0]
    assert f'value="{buyer.pk}" selected' in picker and "王总" not in picker and "---------" not in picker
    # The detail page lists them.
    assert "采购李" in client.get(interaction.get_absolute_url()).content.decode()


def test_contact_picker_search_is_narrowed_to_the_chosen_account(sales: Any, client: Any) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    other = AccountFactory.create(owner=sales.rep1)
    mine = ContactFactory.create(owner=sales.rep1, account=account, name="张三")
    partner = ContactFactory.create(owner=sales.rep1, account=other, name="张四")
    # A contact of another account who also works with this one (an account-contact relation).
    AccountContactRelation.objects.create(account=account, contact=partner)
    ContactFactory.create(owner=sales.rep1, account=other, name="张五")
    ContactFactory.create(owner=sales.rep2, account=account, name="张六")  # out of rep1's scope
    client.force_login(sales.rep1)

    def search(**params: Any) -> set[str]:
        response = client.get("/activities/contacts/autocomplete/", params)
        assert response.status_code == 200
        return {r["text"].split(" · ")[0] for r in response.json()["results"]}

    assert search(q="张") == {"张三", "张四", "张五"}
    assert search(q="张", account=account.pk) == {"张三", "张四"}
    assert search(account=account.pk) == {"张三", "张四"}  # on focus, before typing
    assert mine.pk and search(account="x") == {"张三", "张四", "张五"}  # junk is ignored
