"""The ticket list reads statuses, types and queues from per-process copies (no joins): a
status or queue renamed or added shows at once, and the list's query joins neither."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kehu.service.models import TicketStatus
from kehu.service.tests.factories import TicketFactory, queue_with, status

pytestmark = pytest.mark.django_db

LIST = reverse("service:ticket_list")


def _page(user: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(LIST)
    assert response.status_code == 200
    return response.content.decode()


def test_renamed_status_and_new_queue_show_at_once(tickets_granted: Any) -> None:
    c = tickets_granted
    queue = queue_with(c.rep1, name="一线支持", name_en="First line")
    TicketFactory(subject="打印机卡纸", assignee=c.rep1, queue=queue, status=status("in_progress"))
    assert "First line" in _page(c.admin)
    in_progress = TicketStatus.objects.get(code="in_progress")
    in_progress.name_en = "Being handled"
    in_progress.save()
    later = queue_with(c.rep1, name="二线专家", name_en="Experts")
    TicketFactory(subject="路由器", assignee=c.rep1, queue=later, status=status("new"))
    html = _page(c.admin)
    assert "Being handled" in html
    assert "Experts" in html


def test_list_query_joins_no_configuration_table(tickets_granted: Any) -> None:
    c = tickets_granted
    TicketFactory(subject="打印机卡纸", assignee=c.rep1, queue=queue_with(c.rep1, name="一线"))
    _page(c.admin)  # (fills the copies)
    client = Client()
    client.force_login(c.admin)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST).status_code == 200
    rows = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "service_ticket"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    assert rows, [q["sql"][:120] for q in queries.captured_queries]
    for sql in rows:
        for table in ("service_ticketstatus", "service_tickettype", "service_queue"):
            assert f'JOIN "{table}"' not in sql
        assert '"service_ticket"."description"' not in sql


def test_queue_membership_counts_at_once(tickets_granted: Any) -> None:
    """A member's queues are kept per process: joining or leaving a queue shows on the next page."""
    from kehu.service.services.queues import queue_member_add, queue_member_remove

    c = tickets_granted
    queue = queue_with(c.rep1, name="一线支持", name_en="First line")
    TicketFactory(subject="打印机卡纸 queue", assignee=c.rep1, queue=queue)
    assert "打印机卡纸 queue" not in _page(c.rep2)
    queue_member_add(queue=queue, user=c.rep2, by=c.admin)
    assert "打印机卡纸 queue" in _page(c.rep2)
    queue_member_remove(queue=queue, user=c.rep2, by=c.admin)
    assert "打印机卡纸 queue" not in _page(c.rep2)
