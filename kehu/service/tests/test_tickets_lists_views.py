"""Ticket list, my tickets, queue switcher and kanban pages: the permission matrix (anonymous,
nobody, rep own, manager department, director department and below, viewer all, queue member,
account owner read-only), the kanban drop through `ticket_move`, and the account/contact panel."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.service.choices import TicketPriority
from kehu.service.models import Ticket, TicketStatusHistory
from kehu.service.tests.factories import TicketFactory, queue_with, status

pytestmark = pytest.mark.django_db

LIST = reverse("service:ticket_list")
MINE = reverse("service:ticket_mine")
KANBAN = reverse("service:ticket_kanban")


@pytest.fixture
def world(tickets_granted: Any) -> Any:
    c = tickets_granted
    acc2 = AccountFactory(name="二号客户", owner=c.rep2)
    queue = queue_with(c.rep3, name="技术支持", name_en="Tech support")
    t = SimpleNamespace(
        rep1=TicketFactory(subject="rep1 打印机", assignee=c.rep1, status=status("assigned")),
        rep1_done=TicketFactory(subject="rep1 已解决", assignee=c.rep1, status=status("resolved")),
        rep2=TicketFactory(subject="rep2 网络", assignee=c.rep2, status=status("in_progress")),
        rep3=TicketFactory(subject="rep3 发票", assignee=c.rep3, status=status("new")),
        queued=TicketFactory(subject="queued 服务组", assignee=c.rep1, queue=queue, status=status("new")),
        account=TicketFactory(
            subject="account 客户工单", assignee=c.rep3, account=acc2, status=status("waiting")
        ),
        unassigned=TicketFactory(subject="unassigned 无人", status=status("new")),
    )
    return SimpleNamespace(c=c, t=t, acc2=acc2, queue=queue)


def _subjects(response: Any) -> set[str]:
    html = response.content.decode()
    return {s for s in (t.subject for t in Ticket.objects.all()) if s in html}


def _client(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_anonymous_is_sent_to_login(world: Any) -> None:
    for url in (LIST, MINE, KANBAN):
        response = Client().get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    response = Client().post(reverse("service:ticket_board_move", args=[world.t.rep1.pk]), {"status": 1})
    assert response.status_code == 302


def test_nobody_is_refused(world: Any) -> None:
    client = _client(world.c.nobody)
    assert client.get(LIST).status_code == 403
    assert client.get(KANBAN).status_code == 403
    response = client.post(
        reverse("service:ticket_board_move", args=[world.t.rep1.pk]), {"status": status("in_progress").pk}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("rep1", {"rep1", "rep1_done", "queued"}),
        ("rep2", {"rep2", "account"}),  # own + the tickets of the account they own (read-only)
        ("rep3", {"rep3", "account", "queued"}),  # own + their queue's
        ("manager1", {"rep1", "rep1_done", "rep2", "queued"}),
        ("director", {"rep1", "rep1_done", "rep2", "rep3", "queued", "account"}),
        ("viewer_all", {"rep1", "rep1_done", "rep2", "rep3", "queued", "account", "unassigned"}),
    ],
)
def test_list_shows_the_tickets_in_scope(world: Any, who: str, expected: set[str]) -> None:
    response = _client(getattr(world.c, who)).get(LIST)
    assert response.status_code == 200
    wanted = {getattr(world.t, k).subject for k in expected}
    assert _subjects(response) == wanted


def test_my_tickets_are_mine_and_open(world: Any) -> None:
    response = _client(world.c.rep1).get(MINE)
    assert response.status_code == 200
    assert _subjects(response) == {world.t.rep1.subject, world.t.queued.subject}
    html = response.content.decode()
    assert 'data-mode="mine"' in html
    # other filters given: the list with those
    response = _client(world.c.rep1).get(MINE + "?state=resolved")
    assert _subjects(response) == {world.t.rep1_done.subject}


def test_queue_switcher_lists_my_queues_with_open_counts(world: Any) -> None:
    response = _client(world.c.rep3).get(LIST)
    html = response.content.decode()
    assert 'id="kehu-queue-switcher"' in html and f'data-queue="{world.queue.pk}"' in html
    response = _client(world.c.rep3).get(LIST + f"?queue={world.queue.pk}&open=true")
    assert _subjects(response) == {world.t.queued.subject}
    # not a member: no switcher
    assert 'id="kehu-queue-switcher"' not in _client(world.c.rep1).get(LIST).content.decode()


def test_list_htmx_table_sort_count_and_bad_filters(world: Any) -> None:
    client = _client(world.c.viewer_all)
    response = client.get(LIST + "?sort=-priority", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="object-list")
    assert response.status_code == 200 and "<html" not in response.content.decode()
    response = client.get(LIST + "?_count=1")
    assert response.status_code == 200 and "7" in response.content.decode()
    # an invalid filter value shows an empty list, never a 500
    response = client.get(LIST + "?created_after=not-a-date")
    assert response.status_code == 200 and _subjects(response) == set()
    response = client.get(LIST + "?sort=nonsense&page=abc")
    assert response.status_code == 200


def test_list_page_has_columns_bulk_actions_and_export(world: Any) -> None:
    html = _client(world.c.manager1).get(LIST).content.decode()
    assert world.t.rep1.number in html
    assert 'data-bulk-action="assign"' in html or "assign" in html
    assert "service.ticket" in html  # the exporter


def test_kanban_columns_and_cards_in_scope(world: Any) -> None:
    response = _client(world.c.rep1).get(KANBAN)
    assert response.status_code == 200
    html = response.content.decode()
    assert _subjects(response) == {world.t.rep1.subject, world.t.rep1_done.subject, world.t.queued.subject}
    for code in ("new", "assigned", "in_progress", "waiting", "resolved", "closed"):
        assert f'data-status="{status(code).pk}"' in html
    # one column's next page (htmx partial)
    response = _client(world.c.rep1).get(KANBAN + f"?status_col={status('new').pk}&offset=0")
    assert response.status_code == 200 and world.t.queued.subject in response.content.decode()
    # filters apply to the board
    response = _client(world.c.viewer_all).get(KANBAN + "?assignee=unassigned")
    assert _subjects(response) == {world.t.unassigned.subject}


def test_kanban_drop_moves_through_the_service(world: Any) -> None:
    url = reverse("service:ticket_board_move", args=[world.t.rep1.pk])
    response = _client(world.c.rep1).post(
        url,
        {"status": status("in_progress").pk, "version": world.t.rep1.version},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] and str(status("in_progress").pk) in body["columns"]
    world.t.rep1.refresh_from_db()
    assert world.t.rep1.status.code == "in_progress"
    assert TicketStatusHistory.objects.filter(ticket=world.t.rep1, to_status__code="in_progress").exists()


def test_kanban_refused_moves_answer_the_reason_and_change_nothing(world: Any) -> None:
    # closed → assigned is not in the flow
    closed: Any = TicketFactory(assignee=world.c.rep1, status=status("closed"))
    response = _client(world.c.rep1).post(
        reverse("service:ticket_board_move", args=[closed.pk]), {"status": status("assigned").pk}
    )
    assert response.status_code == 400
    assert response.json()["ok"] is False and "cannot move" in response.json()["message"]
    closed.refresh_from_db()
    assert closed.status.code == "closed"
    # the account owner reads the ticket but may not move it
    response = _client(world.c.rep2).post(
        reverse("service:ticket_board_move", args=[world.t.account.pk]), {"status": status("in_progress").pk}
    )
    assert response.status_code == 403 and response.json()["ok"] is False
    # out of scope: 404
    response = _client(world.c.rep1).post(
        reverse("service:ticket_board_move", args=[world.t.rep2.pk]), {"status": status("waiting").pk}
    )
    assert response.status_code == 404
    # a stale version and an unknown status
    response = _client(world.c.rep1).post(
        reverse("service:ticket_board_move", args=[world.t.rep1.pk]),
        {"status": status("waiting").pk, "version": 99},
    )
    assert response.status_code == 409
    response = _client(world.c.rep1).post(
        reverse("service:ticket_board_move", args=[world.t.rep1.pk]), {"status": "x"}
    )
    assert response.status_code == 400
    world.t.rep1.refresh_from_db()
    assert world.t.rep1.status.code == "assigned"


def test_queue_member_moves_their_queue_tickets(world: Any) -> None:
    response = _client(world.c.rep3).post(
        reverse("service:ticket_board_move", args=[world.t.queued.pk]), {"status": status("in_progress").pk}
    )
    assert response.status_code == 200, response.content


def test_account_panel_shows_tickets_counts_and_new_link(world: Any) -> None:
    Ticket.objects.filter(pk=world.t.account.pk).update(
        priority=TicketPriority.URGENT,
        resolution_breached=True,
        sla_next_check=timezone.now() - dt.timedelta(hours=1),
    )
    TicketFactory(
        subject="account 旧工单", assignee=world.c.rep2, account=world.acc2, status=status("closed")
    )
    response = _client(world.c.rep2).get(reverse("customers:account_detail", args=[world.acc2.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-panel="service.tickets"' in html
    assert world.t.account.subject in html and "account 旧工单" in html
    assert "SLA breached" in html
    assert f"?account={world.acc2.pk}" in html
    # no ticket permission: no panel
    from kehu.users.tests.factories import grant

    grant(world.c.role_none, "customers.account", "view", scope="all")
    html = (
        _client(world.c.nobody)
        .get(reverse("customers:account_detail", args=[world.acc2.pk]))
        .content.decode()
    )
    assert 'data-panel="service.tickets"' not in html


def test_contact_panel(world: Any) -> None:
    contact: Any = ContactFactory(name="王五", owner=world.c.rep2, account=world.acc2)
    TicketFactory(subject="contact 的工单", assignee=world.c.rep2, account=world.acc2, contact=contact)
    response = _client(world.c.rep2).get(reverse("customers:contact_detail", args=[contact.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-panel="service.tickets"' in html and "contact 的工单" in html


def test_kanban_non_numeric_column_is_404(world: Any) -> None:
    for value in ("abc", "1.5", "-1"):
        response = _client(world.c.rep1).get(KANBAN + f"?status_col={value}&offset=0")
        assert response.status_code == 404
