"""Service → Queues and canned responses: pages in both languages, permissions (anonymous, no
permission, view only, change), htmx member management, the canned-response render endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.core.choices import Action
from kehu.customers.tests.factories import ContactFactory
from kehu.service.models import CannedResponse, Queue, QueueMember
from kehu.users.tests.factories import grant

from .factories import queue_with, status
from .factories_queues import make_canned, make_queue, make_ticket

pytestmark = pytest.mark.django_db
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def admin(client: Client, company: Any) -> Client:
    client.force_login(company.admin)
    return client


@pytest.mark.parametrize(("lang", "text"), [("en", "Queues"), ("zh-hans", "服务")])
def test_pages_render_in_both_languages(admin: Client, company: Any, lang: str, text: str) -> None:
    queue = queue_with(
        company.rep1, company.rep2, manager=company.manager1, name="一线客服", name_en="First line"
    )
    make_ticket(queue=queue, assignee=company.rep1)
    make_canned(owner=company.admin, name="已收到")
    admin.cookies["django_language"] = lang
    for url in (
        reverse("service:queue_list"),
        reverse("service:queue_add"),
        reverse("service:queue_detail", args=[queue.pk]),
        reverse("service:queue_edit", args=[queue.pk]),
        reverse("service:queue_delete", args=[queue.pk]),
        reverse("service:cannedresponse_list"),
        reverse("service:cannedresponse_add"),
    ):
        response = admin.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url
    page = admin.get(reverse("service:queue_list")).content.decode()
    assert ("First line" if lang == "en" else "一线客服") in page
    assert f'?queue={queue.pk}&amp;open=true" class="fw-medium">1</a>' in page
    detail = admin.get(reverse("service:queue_detail", args=[queue.pk])).content.decode()
    assert f'data-member="{company.rep2.pk}"' in detail and "data-member-add" in detail


def test_list_and_detail_query_counts(
    admin: Client, company: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(5):
        queue = queue_with(company.rep1, company.rep2, name=f"Q{n}")
        make_ticket(queue=queue, assignee=company.rep1)
    admin.get(reverse("service:queue_list"))
    with django_assert_max_num_queries(12):
        assert admin.get(reverse("service:queue_list")).status_code == 200
    with django_assert_max_num_queries(16):
        assert admin.get(reverse("service:queue_detail", args=[queue.pk])).status_code == 200


def test_anonymous_is_sent_to_sign_in_and_nothing_changes(client: Client, company: Any) -> None:
    queue = queue_with(company.rep1)
    for url in (
        reverse("service:queue_list"),
        reverse("service:queue_detail", args=[queue.pk]),
        reverse("service:cannedresponse_list"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    client.post(reverse("service:queue_delete", args=[queue.pk]))
    client.post(reverse("service:queue_member_remove", args=[queue.pk, company.rep1.pk]))
    assert Queue.objects.count() == 1 and QueueMember.objects.count() == 1


def test_without_permission_403_and_nothing_changes(client: Client, company: Any) -> None:
    queue = queue_with(company.rep1)
    client.force_login(company.nobody)
    assert client.get(reverse("service:queue_list")).status_code == 403
    assert client.get(reverse("service:queue_detail", args=[queue.pk])).status_code == 403
    assert client.post(reverse("service:queue_add"), {"name": "X", "assignment": "manual"}).status_code == 403
    assert client.post(reverse("service:queue_delete", args=[queue.pk])).status_code == 403
    response = client.post(reverse("service:queue_member_add", args=[queue.pk]), {"user": company.rep2.pk})
    assert response.status_code == 403
    assert client.get(reverse("service:cannedresponse_list")).status_code == 403
    assert Queue.objects.count() == 1 and QueueMember.objects.count() == 1


def test_a_viewer_sees_but_does_not_change(client: Client, company: Any) -> None:
    queue = queue_with(company.rep1, company.rep2)
    grant(company.role_rep, "service.queue", Action.VIEW)
    client.force_login(company.rep1)
    page = client.get(reverse("service:queue_detail", args=[queue.pk])).content.decode()
    assert "data-member-add" not in page and 'data-action="edit"' not in page
    assert client.get(reverse("service:queue_edit", args=[queue.pk])).status_code == 403
    assert client.post(reverse("service:queue_delete", args=[queue.pk])).status_code == 403
    remove = reverse("service:queue_member_remove", args=[queue.pk, company.rep2.pk])
    assert client.post(remove, **HTMX).status_code == 403
    # ... but sets their own availability (on leave), not a colleague's.
    own = reverse("service:queue_member_available", args=[queue.pk, company.rep1.pk])
    assert client.post(own, {"available": "0"}, **HTMX).status_code == 200
    other = reverse("service:queue_member_available", args=[queue.pk, company.rep2.pk])
    assert client.post(other, {"available": "0"}, **HTMX).status_code == 403
    assert list(QueueMember.objects.filter(is_available=False).values_list("user__username", flat=True)) == [
        "rep1"
    ]


def test_create_edit_and_delete_through_the_modal(admin: Client, company: Any) -> None:
    response = admin.post(
        reverse("service:queue_add"),
        {
            "name": "售后",
            "assignment": "least_loaded",
            "manager": company.manager1.pk,
            "members": [company.rep1.pk],
            "position": 0,
            "is_active": "on",
        },
        **HTMX,
    )
    assert response.status_code == 204, response.content
    queue = Queue.objects.get(name="售后")
    assert json.loads(response["HX-Location"])["path"] == queue.get_absolute_url()
    assert list(queue.members.all()) == [company.rep1]
    # A duplicate name: a field error, nothing saved.
    response = admin.post(
        reverse("service:queue_add"), {"name": "售后", "assignment": "manual", "position": 0}, **HTMX
    )
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    assert Queue.objects.count() == 1
    response = admin.post(
        reverse("service:queue_edit", args=[queue.pk]),
        {"name": "售后服务", "assignment": "round_robin", "position": 0, "is_active": "on"},
        **HTMX,
    )
    assert response.status_code == 204
    queue.refresh_from_db()
    assert (queue.name, queue.assignment) == ("售后服务", "round_robin")
    make_ticket(queue=queue, status=status("closed"))
    response = admin.post(reverse("service:queue_delete", args=[queue.pk]), **HTMX)
    assert response.status_code == 200 and "Deactivate it instead" in response.content.decode()
    empty = make_queue()
    assert admin.post(reverse("service:queue_delete", args=[empty.pk]), **HTMX).status_code == 204
    assert list(Queue.objects.all()) == [queue]


def test_members_are_added_removed_and_put_on_leave_with_htmx(admin: Client, company: Any) -> None:
    queue = make_queue()
    url = reverse("service:queue_member_add", args=[queue.pk])
    response = admin.post(url, {"user": company.rep1.pk}, **HTMX)
    assert response.status_code == 200 and f'data-member="{company.rep1.pk}"' in response.content.decode()
    # An unknown or already-member user is a field error.
    response = admin.post(url, {"user": company.rep1.pk}, **HTMX)
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    available = reverse("service:queue_member_available", args=[queue.pk, company.rep1.pk])
    admin.post(available, {"available": "0"}, **HTMX)
    assert not QueueMember.objects.get(queue=queue, user=company.rep1).is_available
    remove = reverse("service:queue_member_remove", args=[queue.pk, company.rep1.pk])
    assert admin.post(remove, **HTMX).status_code == 200
    assert not QueueMember.objects.exists()
    assert admin.post(remove, **HTMX).status_code == 404
    # A plain browser post goes back to the page.
    response = admin.post(url, {"user": company.rep2.pk})
    assert response.status_code == 302 and response["Location"] == queue.get_absolute_url()


# --- canned responses ---------------------------------------------------------------------------


@pytest.fixture
def agent(client: Client, company: Any) -> Client:
    grant(company.role_rep, "service.cannedresponse", Action.VIEW, Action.ADD)
    client.force_login(company.rep1)
    return client


def test_canned_list_shows_what_the_user_may_see_and_edit(agent: Client, company: Any) -> None:
    mine = make_canned(name="我的", owner=company.rep1, is_shared=False)
    make_canned(name="别人的", owner=company.rep2, is_shared=False)
    everyone = make_canned(name="全员", owner=company.admin)
    page = agent.get(reverse("service:cannedresponse_list")).content.decode()
    assert "我的" in page and "全员" in page and "别人的" not in page
    assert reverse("service:cannedresponse_edit", args=[mine.pk]) in page
    assert reverse("service:cannedresponse_edit", args=[everyone.pk]) not in page
    assert agent.get(reverse("service:cannedresponse_edit", args=[everyone.pk])).status_code == 403
    theirs = CannedResponse.objects.get(name="别人的")
    assert agent.get(reverse("service:cannedresponse_edit", args=[theirs.pk])).status_code == 404
    assert agent.post(reverse("service:cannedresponse_delete", args=[theirs.pk])).status_code == 404


def test_an_agent_keeps_personal_responses(agent: Client, company: Any) -> None:
    response = agent.post(
        reverse("service:cannedresponse_add"),
        {"name": "签名", "body": "<p>祝好 {{ agent.name }}<script>x</script></p>", "is_active": "on"},
        **HTMX,
    )
    assert response.status_code == 204, response.content
    saved = CannedResponse.objects.get()
    assert (saved.owner, saved.is_shared, saved.body) == (company.rep1, False, "<p>祝好 {{ agent.name }}</p>")
    # Sharing needs the right to manage shared responses: refused, nothing changes.
    response = agent.post(
        reverse("service:cannedresponse_edit", args=[saved.pk]),
        {"name": "签名", "body": "x", "is_shared": "on", "is_active": "on"},
        **HTMX,
    )
    assert (
        response.status_code == 200
        and "You may not manage shared canned responses." in response.content.decode()
    )
    saved.refresh_from_db()
    assert not saved.is_shared
    assert agent.post(reverse("service:cannedresponse_delete", args=[saved.pk]), **HTMX).status_code == 204
    assert not CannedResponse.objects.exists()


def test_render_endpoint_fills_the_ticket_and_counts_a_use(agent: Client, company: Any) -> None:
    grant(company.role_rep, "service.ticket", Action.VIEW, scope="own")
    contact = ContactFactory(name="张三")
    ticket = make_ticket(assignee=company.rep1, contact=contact, number="TK-9", subject="<b>坏了</b>")
    hidden = make_ticket(assignee=company.rep3)
    response = make_canned(
        owner=company.admin, body="<p>{{ contact.name }}：{{ ticket.number }} {{ ticket.subject }}</p>"
    )
    url = reverse("service:cannedresponse_render", args=[response.pk])
    answer = agent.get(url, {"ticket": ticket.pk}, **HTMX)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/html")
    assert answer.content.decode() == "<p>张三：TK-9 &lt;b&gt;坏了&lt;/b&gt;</p>"
    assert json.loads(answer["HX-Trigger"])["kehu:cannedInserted"]["id"] == response.pk
    assert agent.get(url).status_code == 200  # without a ticket
    assert agent.get(url, {"ticket": hidden.pk}).status_code == 404  # a ticket out of reach
    assert agent.get(url, {"ticket": "x"}).status_code == 404
    personal = make_canned(owner=company.rep2, is_shared=False)
    assert agent.get(reverse("service:cannedresponse_render", args=[personal.pk])).status_code == 404
    response.refresh_from_db()
    assert response.usage_count == 2
