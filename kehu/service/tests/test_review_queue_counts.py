"""Queue pages and the queue API count only the tickets the reader sees: an agent who may see
every queue but only some tickets must not learn the other teams' numbers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from kehu.core.choices import Action
from kehu.service.selectors import queues as selectors
from kehu.users.tests.factories import grant

from .factories import queue_with, status
from .factories_queues import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_team(tickets_granted: Any) -> Any:
    """A queue rep1 may see (queue "view") but is not a member of: three open tickets of rep3's
    (one unassigned, one waiting), one of rep1's own."""
    company = tickets_granted
    grant(company.role_rep, "service.queue", Action.VIEW)
    queue = queue_with(company.rep3, name="华东服务组")
    make_ticket(queue=queue, assignee=company.rep3)
    make_ticket(queue=queue, assignee=company.rep3, status=status("waiting"))
    make_ticket(queue=queue, assignee=None)
    make_ticket(queue=queue, assignee=company.rep1, status=status("in_progress"))
    return queue


def test_selectors_count_only_the_readers_tickets(tickets_granted: Any, other_team: Any) -> None:
    company = tickets_granted
    rep1, rep3 = company.rep1, company.rep3
    row = selectors.queue_list(user=rep1).get(pk=other_team.pk)
    assert row.open_count == 1  # type: ignore[attr-defined]
    assert selectors.queue_open_by_state(other_team, user=rep1) == {"in_progress": 1}
    assert selectors.queue_unassigned_count(other_team, user=rep1) == 0
    loads = {m.user.username: m.open_count for m in selectors.queue_members(other_team, user=rep1)}  # type: ignore[attr-defined]
    assert loads == {"rep3": 0}
    # A member of the queue sees its tickets.
    assert selectors.queue_open_by_state(other_team, user=rep3) == {"new": 2, "waiting": 1, "in_progress": 1}
    assert selectors.queue_unassigned_count(other_team, user=rep3) == 1
    loads = {m.user.username: m.open_count for m in selectors.queue_members(other_team, user=rep3)}  # type: ignore[attr-defined]
    assert loads == {"rep3": 2}


def test_pages_and_api_show_only_the_readers_counts(
    client: Client, tickets_granted: Any, other_team: Any
) -> None:
    company = tickets_granted
    client.force_login(company.rep1)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("service:queue_list")).content.decode()
    assert f'?queue={other_team.pk}&amp;open=true" class="fw-medium">1</a>' in page
    detail = client.get(reverse("service:queue_detail", args=[other_team.pk]))
    assert detail.status_code == 200
    assert detail.context["open_total"] == 1
    assert detail.context["unassigned"] == 0
    assert [(s, n) for _label, n, s in detail.context["states"] if n] == [("in_progress", 1)]
    api = APIClient()
    api.force_authenticate(company.rep1)
    rows = {row["id"]: row for row in api.get("/api/v1/service/queues/").json()["results"]}
    assert rows[other_team.pk]["open_count"] == 1
    assert api.get(f"/api/v1/service/queues/{other_team.pk}/").json()["open_count"] == 1
