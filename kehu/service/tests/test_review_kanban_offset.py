"""A kanban column's ``?offset=`` is a bounded whole number: huge, negative or junk values answer
a page of cards (clamped / from the start), never a server error."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from .factories import TicketFactory, status

pytestmark = pytest.mark.django_db

KANBAN = reverse("service:ticket_kanban")


@pytest.mark.parametrize(
    ("offset", "shown"),
    [
        ("9999999999999999999999999", False),
        ("9" * 5000, False),
        ("100001", False),
        ("-5", True),
        ("abc", True),
        ("١", True),  # a non-ASCII digit
        ("0", True),
    ],
)
def test_offsets_are_clamped_or_reset(tickets_granted: Any, client: Client, offset: str, shown: bool) -> None:
    company = tickets_granted
    new = status("new")
    TicketFactory(subject="看板卡片", assignee=company.rep1, status=new)
    client.force_login(company.rep1)
    response = client.get(KANBAN, {"status_col": str(new.pk), "offset": offset})
    assert response.status_code == 200
    assert ("看板卡片" in response.content.decode()) is shown


def test_huge_column_id_is_404(tickets_granted: Any, client: Client) -> None:
    client.force_login(tickets_granted.rep1)
    assert client.get(KANBAN, {"status_col": "9" * 30, "offset": "0"}).status_code == 404
