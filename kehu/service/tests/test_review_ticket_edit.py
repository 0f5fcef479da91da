"""One service edits a ticket as its form does (`ticket_edit`: fields, then the assignee, then the
watchers, all or nothing); the edit page and the API's update go through it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.customers.tests.factories import AccountFactory
from kehu.service.models import Ticket
from kehu.service.services import tickets as services
from kehu.service.tests.factories import TicketFactory, ticket_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(tickets_granted: Any) -> Any:
    company = tickets_granted
    company.account = AccountFactory(owner=company.rep1, name="北京客户")
    return company


def _ticket(desk: Any) -> Ticket:
    ticket: Any = TicketFactory(assignee=desk.rep1, account=desk.account, subject="旧标题")
    return ticket


def _watchers(ticket: Ticket) -> set[int]:
    return set(ticket.watcher_links.values_list("user_id", flat=True))


def test_fields_assignee_and_watchers_in_one_call(desk: Any) -> None:
    ticket = _ticket(desk)
    services.ticket_watch(ticket=ticket, by=desk.manager1, user=desk.manager1)
    edited = services.ticket_edit(
        ticket=ticket,
        by=desk.manager1,
        data={"subject": "新标题"},
        version=ticket.version,
        assignee=desk.rep2,
        watchers=[desk.rep1],
    )
    edited.refresh_from_db()
    assert (edited.subject, edited.assignee_id) == ("新标题", desk.rep2.pk)
    assert _watchers(edited) == {desk.rep1.pk}  # manager1 stopped watching, rep1 (the account's) started
    # the defaults leave the assignee and the watchers alone
    again = services.ticket_edit(ticket=edited, by=desk.manager1, data={"subject": "第三版"})
    again.refresh_from_db()
    assert (again.subject, again.assignee_id, _watchers(again)) == ("第三版", desk.rep2.pk, {desk.rep1.pk})
    services.ticket_edit(ticket=again, by=desk.manager1, data={}, assignee=None)
    again.refresh_from_db()
    assert again.assignee_id is None


def test_a_refused_step_undoes_the_whole_edit(desk: Any) -> None:
    ticket = _ticket(desk)
    before = Ticket.objects.get(pk=ticket.pk)
    with pytest.raises(DomainError) as caught:  # rep3 (another region) cannot see the ticket
        services.ticket_edit(
            ticket=ticket,
            by=desk.manager1,
            data={"subject": "新标题"},
            assignee=desk.rep2,
            watchers=[desk.rep3],
        )
    assert "user" in (caught.value.fields or {})
    with pytest.raises(PermissionDeniedError):  # a rep may not give the ticket to someone else
        services.ticket_edit(ticket=ticket, by=desk.rep1, data={"subject": "新标题"}, assignee=desk.rep2)
    after = Ticket.objects.get(pk=ticket.pk)
    assert (after.subject, after.assignee_id, after.version) == ("旧标题", desk.rep1.pk, before.version)
    assert _watchers(after) == set()


def test_the_edit_page_and_the_api_update_use_it(desk: Any) -> None:
    ticket = _ticket(desk)
    client = Client()
    client.force_login(desk.manager1)
    post = {
        "type": ticket_type("request").pk,
        "subject": "页面标题",
        "channel": "phone",
        "priority": 2,
        "account": desk.account.pk,
        "assignee": desk.rep2.pk,
        "watchers": [desk.rep1.pk],
        "version": ticket.version,
    }
    response = client.post(reverse("service:ticket_edit", args=[ticket.pk]), post)
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.assignee_id, _watchers(ticket)) == (
        "页面标题",
        desk.rep2.pk,
        {desk.rep1.pk},
    )

    bad = client.post(
        reverse("service:ticket_edit", args=[ticket.pk]),
        {**post, "subject": "不该保存", "watchers": [desk.rep3.pk], "version": ticket.version},
    )
    assert bad.status_code == 400
    ticket.refresh_from_db()
    assert ticket.subject == "页面标题" and _watchers(ticket) == {desk.rep1.pk}

    # the API's update: the fields; the assignee stays (documented: on create only, …/assign/)
    api = client.patch(
        f"/api/v1/service/tickets/{ticket.pk}/",
        {"subject": "接口标题", "assignee": desk.manager1.pk, "version": ticket.version},
        content_type="application/json",
    )
    assert api.status_code == 200, api.content
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.assignee_id) == ("接口标题", desk.rep2.pk)
