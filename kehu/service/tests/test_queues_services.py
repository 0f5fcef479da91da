"""Queues (服务组), their members, `member_queue_ids`, `queue_list`, and canned responses
(快捷回复): rules, permissions, visibility, placeholder rendering without template injection."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core.choices import Action
from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.core.permissions import can
from kehu.customers.tests.factories import ContactFactory
from kehu.service.models import CannedResponse, Queue, QueueMember
from kehu.service.selectors import queues as selectors
from kehu.service.services import queues as services
from kehu.users.tests.factories import UserFactory, grant

from .factories import queue_with, status
from .factories_queues import make_canned, make_queue, make_ticket

pytestmark = pytest.mark.django_db


def fresh(user: Any) -> Any:
    """The user as a new request loads it (permissions are cached on the user object)."""
    return type(user).objects.get(pk=user.pk)


# --- queues ---------------------------------------------------------------------------------------


def test_create_with_members_and_manager(company: Any) -> None:
    queue = services.queue_create(
        by=company.admin,
        data={
            "name": " 售后服务组 ",
            "name_en": "After-sales",
            "assignment": "round_robin",
            "manager": company.manager1,
            "members": [company.rep1, company.rep2],
        },
    )
    assert queue.name == "售后服务组"
    assert queue.manager == company.manager1
    assert set(queue.members.all()) == {company.rep1, company.rep2}
    assert all(m.is_available for m in QueueMember.objects.filter(queue=queue))


def test_bad_input_gives_field_errors_and_changes_nothing(company: Any) -> None:
    make_queue(name="一线")
    inactive = UserFactory(is_active=False)
    for data, field in (
        ({"name": ""}, "name"),
        ({"name": "一线"}, "name"),
        ({"name": "二线", "assignment": "random"}, "assignment"),
        ({"name": "二线", "manager": inactive}, "manager"),
        ({"name": "二线", "email": "not an address"}, "email"),
    ):
        with pytest.raises(DomainError) as refused:
            services.queue_create(by=company.admin, data=data)
        assert field in refused.value.fields, data
    assert Queue.objects.count() == 1


def test_without_permission_nothing_is_written(company: Any) -> None:
    queue = make_queue()
    with pytest.raises(PermissionDeniedError):
        services.queue_create(by=company.nobody, data={"name": "x"})
    with pytest.raises(PermissionDeniedError):
        services.queue_update(queue=queue, by=company.rep1, data={"name": "y"})
    with pytest.raises(PermissionDeniedError):
        services.queue_member_add(queue=queue, user=company.rep1, by=company.rep1)
    grant(company.role_rep, "service.queue", Action.VIEW, Action.CHANGE)
    rep1 = fresh(company.rep1)
    services.queue_update(queue=queue, by=rep1, data={"name": "y"})
    with pytest.raises(PermissionDeniedError):
        services.queue_delete(queue=queue, by=rep1)
    queue.refresh_from_db()
    assert queue.name == "y"


def test_a_queue_with_tickets_is_not_deleted_deactivate_instead(company: Any) -> None:
    queue = queue_with(company.rep1)
    make_ticket(queue=queue, status=status("closed"))
    with pytest.raises(DomainError) as refused:
        services.queue_delete(queue=queue, by=company.admin)
    assert refused.value.code == services.QUEUE_IN_USE and refused.value.status == 409
    assert Queue.objects.filter(pk=queue.pk).exists() and queue.memberships.count() == 1
    services.queue_update(queue=queue, by=company.admin, data={"is_active": False})
    queue.refresh_from_db()
    assert not queue.is_active


def test_an_empty_queue_is_deleted_with_its_members_and_responses(company: Any) -> None:
    queue = queue_with(company.rep1, company.rep2)
    make_canned(queue=queue, owner=company.admin)
    services.queue_delete(queue=queue, by=company.admin)
    assert not Queue.objects.exists()
    assert not QueueMember.objects.exists() and not CannedResponse.objects.exists()


def test_members_add_is_idempotent_remove_and_availability(company: Any) -> None:
    queue = make_queue()
    first = services.queue_member_add(queue=queue, user=company.rep1, by=company.admin)
    again = services.queue_member_add(queue=queue, user=company.rep1, by=company.admin, is_available=False)
    assert first.pk == again.pk and again.is_available
    with pytest.raises(DomainError) as refused:
        services.queue_member_add(queue=queue, user=UserFactory(is_active=False), by=company.admin)
    assert "user" in refused.value.fields
    # A member sets their own availability; someone else's needs "change".
    member = services.queue_member_set_available(
        queue=queue, user=company.rep1, is_available=False, by=company.rep1
    )
    assert member.is_available is False
    services.queue_member_add(queue=queue, user=company.rep2, by=company.admin)
    with pytest.raises(PermissionDeniedError):
        services.queue_member_set_available(
            queue=queue, user=company.rep2, is_available=False, by=company.rep1
        )
    with pytest.raises(DomainError):
        services.queue_member_set_available(
            queue=queue, user=company.rep3, is_available=False, by=company.admin
        )
    Queue.objects.filter(pk=queue.pk).update(last_assigned=company.rep1)
    queue.refresh_from_db()
    services.queue_member_remove(queue=queue, user=company.rep1, by=company.admin)
    services.queue_member_remove(queue=queue, user=company.rep3, by=company.admin)  # not a member: nothing
    assert list(queue.members.all()) == [company.rep2]
    queue.refresh_from_db()
    assert queue.last_assigned is None


def test_member_queue_ids_is_one_query_per_request(company: Any, django_assert_num_queries: Any) -> None:
    a, b = queue_with(company.rep1), queue_with(company.rep1, company.rep2)
    queue_with(company.rep2)
    queue_with(company.rep1, is_active=False)  # an inactive queue is nobody's work
    with django_assert_num_queries(1):
        assert selectors.member_queue_ids(company.rep1) == {a.pk, b.pk}
        assert selectors.member_queue_ids(company.rep1) == {a.pk, b.pk}
    assert selectors.member_queue_ids(company.nobody) == frozenset()
    selectors.forget_member_queue_ids(company.rep1)
    with django_assert_num_queries(1):
        selectors.member_queue_ids(company.rep1)


def test_queue_list_counts_open_tickets_and_members(
    tickets_granted: Any, django_assert_num_queries: Any
) -> None:
    company = tickets_granted
    grant(company.role_rep, "service.queue", Action.VIEW)
    busy = queue_with(company.rep1, company.rep2, name="A")
    quiet = queue_with(name="B")
    for code in ("new", "in_progress", "waiting"):
        make_ticket(queue=busy, status=status(code))
    make_ticket(queue=busy, status=status("resolved"))
    make_ticket(queue=quiet, status=status("closed"))
    rep1 = fresh(company.rep1)
    assert can(rep1, Queue, Action.VIEW)  # the user's permissions, read once per request
    # The ticket scope reads the user's queues and pools once (kept for the request), then one
    # query for the queues (their open tickets the user sees counted) and one for the members.
    with django_assert_num_queries(4):
        rows = {q.name: q for q in selectors.queue_list(user=rep1)}
        assert [m.user.username for m in rows["A"].memberships.all()] == ["rep1", "rep2"]
    assert (rows["A"].open_count, rows["A"].member_count) == (3, 2)  # type: ignore[attr-defined]
    assert (rows["B"].open_count, rows["B"].member_count) == (0, 0)  # type: ignore[attr-defined]
    assert not selectors.queue_list(user=company.nobody).exists()


def test_queue_members_carry_their_open_tickets(company: Any) -> None:
    queue = queue_with(company.rep1, company.rep2)
    make_ticket(queue=queue, assignee=company.rep1)
    make_ticket(queue=queue, assignee=company.rep1, status=status("resolved"))
    members = selectors.queue_members(queue, user=company.admin)
    loads = {m.user.username: getattr(m, "open_count", None) for m in members}
    assert loads == {"rep1": 1, "rep2": 0}
    assert selectors.queue_open_by_state(queue, user=company.admin) == {"new": 1}


# --- canned responses ---------------------------------------------------------------------------


@pytest.fixture
def agents(company: Any) -> Any:
    grant(company.role_rep, "service.cannedresponse", Action.VIEW, Action.ADD)
    grant(
        company.role_manager, "service.cannedresponse", Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE
    )
    return company


def test_personal_and_shared_creation_rules(agents: Any) -> None:
    c = agents
    mine = services.canned_response_create(
        by=c.rep1, data={"name": "问候", "body": "<p>Hi<script>x()</script></p>", "is_shared": False}
    )
    assert mine.owner == c.rep1 and mine.body == "<p>Hi</p>"
    with pytest.raises(PermissionDeniedError):
        services.canned_response_create(by=c.rep1, data={"name": "全员", "body": "x", "is_shared": True})
    queue = queue_with(c.rep1, manager=c.rep2)
    # A queue's manager shares responses with their queue; a member does not.
    with pytest.raises(PermissionDeniedError):
        services.canned_response_create(by=c.rep1, data={"name": "q", "body": "x", "queue": queue})
    shared = services.canned_response_create(by=c.rep2, data={"name": "q", "body": "x", "queue": queue})
    assert shared.is_shared and shared.queue == queue
    everyone = services.canned_response_create(by=c.manager1, data={"name": "全员", "body": "x"})
    assert everyone.is_shared and everyone.queue is None
    with pytest.raises(DomainError) as refused:
        services.canned_response_create(
            by=c.manager1, data={"name": "", "body": "", "queue": queue, "is_shared": False}
        )
    assert set(refused.value.fields) == {"name", "body", "queue"}
    with pytest.raises(PermissionDeniedError):
        services.canned_response_create(by=c.nobody, data={"name": "n", "body": "x", "is_shared": False})
    assert CannedResponse.objects.count() == 3


def test_only_the_owner_or_a_manager_changes_a_response(agents: Any) -> None:
    c = agents
    mine = make_canned(owner=c.rep1, is_shared=False)
    everyone = make_canned(owner=c.manager1)
    with pytest.raises(PermissionDeniedError):
        services.canned_response_update(response=mine, by=c.rep2, data={"name": "x"})
    with pytest.raises(PermissionDeniedError):
        services.canned_response_update(response=everyone, by=c.rep1, data={"name": "x"})
    with pytest.raises(PermissionDeniedError):
        services.canned_response_delete(response=everyone, by=c.rep1)
    # Sharing a personal response needs the right to manage shared ones.
    with pytest.raises(PermissionDeniedError):
        services.canned_response_update(response=mine, by=c.rep1, data={"is_shared": True})
    services.canned_response_update(response=mine, by=c.rep1, data={"name": "改名"})
    services.canned_response_update(response=everyone, by=c.manager1, data={"is_active": False})
    services.canned_response_delete(response=mine, by=c.rep1)
    everyone.refresh_from_db()
    assert not everyone.is_active and not CannedResponse.objects.filter(pk=mine.pk).exists()


def test_visibility_personal_queue_and_global(agents: Any) -> None:
    c = agents
    queue, other = queue_with(c.rep1), queue_with(c.rep3)
    mine = make_canned(name="a mine", owner=c.rep1, is_shared=False)
    make_canned(name="b theirs", owner=c.rep2, is_shared=False)
    for_queue = make_canned(name="c queue", queue=queue, owner=c.admin)
    for_other = make_canned(name="d other", queue=other, owner=c.admin)
    everyone = make_canned(name="e all", owner=c.admin)
    make_canned(name="f off", owner=c.admin, is_active=False)
    assert list(selectors.canned_responses_for(user=c.rep1)) == [mine, for_queue, everyone]
    assert list(selectors.canned_responses_for(user=c.rep3)) == [for_other, everyone]
    # A ticket of another queue brings its queue's responses, first.
    ticket = make_ticket(queue=other)
    assert list(selectors.canned_responses_for(user=c.rep1, ticket=ticket)) == [
        for_other,
        mine,
        for_queue,
        everyone,
    ]
    assert not selectors.canned_responses_for(user=c.nobody).exists()
    # The settings list: managers see every shared one (they manage them), never others' personal ones.
    assert {r.name for r in selectors.canned_response_list(user=c.manager1)} == {
        "c queue",
        "d other",
        "e all",
        "f off",
    }
    assert selectors.canned_response_editable_ids(user=c.rep1) == {mine.pk}


def test_render_fills_placeholders_with_escaped_values(agents: Any) -> None:
    c = agents
    c.rep1.first_name, c.rep1.last_name = "", ""
    contact = ContactFactory(name="<b>张三</b>")
    ticket = make_ticket(subject="{% debug %} <img src=x onerror=alert(1)>", contact=contact, number="TK-1")
    response = make_canned(
        owner=c.admin,
        body=(
            "<p>{{ contact.name }}，{{ticket.number}}：{{ ticket.subject }} — {{ agent.name }}"
            " {{ ticket.secret }} {% load x %} {{ request.user }}</p>"
        ),
    )
    rendered = services.canned_response_render(response=response, ticket=ticket, user=c.rep1)
    assert "&lt;b&gt;张三&lt;/b&gt;，TK-1：" in rendered
    assert "{% debug %} &lt;img src=x onerror=alert(1)&gt;" in rendered
    assert "— rep1" in rendered
    assert "{{ ticket.secret }} {% load x %} {{ request.user }}" in rendered  # not ours: as written
    assert "<img" not in rendered and "<b>" not in rendered
    # Without a ticket, its placeholders are empty; a requester name stands in for a contact.
    assert services.canned_response_render(response=response, ticket=None, user=c.rep1).startswith("<p>，：")
    ticket2 = make_ticket(requester_name="李四")
    assert "李四" in services.canned_response_render(response=response, ticket=ticket2, user=c.rep1)


def test_usage_count_is_an_atomic_increment(agents: Any) -> None:
    response = make_canned(owner=agents.admin)
    stale = CannedResponse.objects.get(pk=response.pk)
    services.canned_response_used(response=response)
    services.canned_response_used(response=stale)
    response.refresh_from_db()
    assert response.usage_count == 2
