"""SLA pages: policies (list, add, edit, reorder, delete) for administrators only, a ticket's timers
within the data scopes, the compliance report and its CSV."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.core.choices import Action, Scope
from kehu.service.models import SLAPolicy
from kehu.users.tests.factories import grant

from .factories import office, queue_with
from .factories_sla import at, move, policy, ticket_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client: Client, company: Any) -> Client:
    client.force_login(company.admin)
    return client


def test_anonymous_goes_to_login(client: Client, company: Any) -> None:
    for name in ("service:sla_policy_list", "service:sla_report"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"]


def test_without_permission_403_and_nothing_changes(client: Client, company: Any) -> None:
    p = policy(name="标准")
    client.force_login(company.nobody)
    assert client.get(reverse("service:sla_policy_list")).status_code == 403
    assert client.get(reverse("service:sla_policy_detail", args=[p.pk])).status_code == 403
    assert client.get(reverse("service:sla_report")).status_code == 403
    assert (
        client.post(reverse("service:sla_policy_add"), {"name": "x", "warn_percent": 80}).status_code == 403
    )
    assert client.post(reverse("service:sla_policy_delete", args=[p.pk])).status_code == 403
    assert list(SLAPolicy.objects.values_list("name", flat=True)) == ["标准"]


def test_a_viewer_sees_but_cannot_change(client: Client, company: Any) -> None:
    p = policy(name="标准")
    grant(company.role_rep, "service.slapolicy", Action.VIEW)
    client.force_login(company.rep1)
    response = client.get(reverse("service:sla_policy_list"))
    assert response.status_code == 200 and "标准" in response.content.decode()
    assert b'data-action="add"' not in response.content and b"data-sortable-url" not in response.content
    assert client.get(reverse("service:sla_policy_detail", args=[p.pk])).status_code == 200
    assert client.get(reverse("service:sla_policy_edit", args=[p.pk])).status_code == 403
    assert client.post(reverse("service:sla_policy_reorder"), {"ids": [p.pk]}).status_code == 403


def test_admin_creates_with_conditions_and_hours(admin: Client, company: Any) -> None:
    queue = queue_with()
    response = admin.post(
        reverse("service:sla_policy_add"),
        {
            "name": "VIP 紧急",
            "is_active": "on",
            "priorities": ["4", "3"],
            "queues": [str(queue.pk)],
            "first_response_hours": "1",
            "first_response_mins": "30",
            "resolution_hours": "8",
            "warn_percent": "75",
            "notify_manager": "on",
            "notify_users": [str(company.manager1.pk)],
            "raise_priority_to": "4",
            "escalate_to_queue": str(queue.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    p = SLAPolicy.objects.get(name="VIP 紧急")
    assert p.conditions == {"priorities": [3, 4], "queues": [queue.pk]}
    assert (p.first_response_minutes, p.next_response_minutes, p.resolution_minutes) == (90, None, 480)
    assert list(p.notify_users.all()) == [company.manager1]
    page = admin.get(reverse("service:sla_policy_edit", args=[p.pk])).content.decode()
    assert 'value="30"' in page and "VIP 紧急" in page


def test_bad_input_is_refused_field_by_field(admin: Client, company: Any) -> None:
    response = admin.post(
        reverse("service:sla_policy_add"),
        {"name": "x", "warn_percent": "120", "first_response_mins": "75", "priorities": ["9"]},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert {"warn_percent", "first_response_mins", "priorities"} <= set(form.errors)
    response = admin.post(reverse("service:sla_policy_add"), {"name": "x", "warn_percent": "80"})
    assert response.status_code == 400 and "first_response_hours" in response.context["form"].errors
    policy(name="dup")
    response = admin.post(
        reverse("service:sla_policy_add"), {"name": "dup", "warn_percent": "80", "resolution_hours": "1"}
    )
    assert response.status_code == 400 and "name" in response.context["form"].errors
    assert SLAPolicy.objects.count() == 1


def test_reorder_and_delete(admin: Client, company: Any) -> None:
    a, b, c = policy(name="a", position=1), policy(name="b", position=2), policy(name="c", position=3)
    response = admin.post(reverse("service:sla_policy_reorder"), {"ids": [c.pk, a.pk, b.pk]})
    assert response.status_code == 204
    assert list(SLAPolicy.objects.values_list("name", flat=True)) == ["c", "a", "b"]
    response = admin.post(reverse("service:sla_policy_reorder"), {"ids": [c.pk, a.pk]})
    assert response.status_code == 409
    assert list(SLAPolicy.objects.values_list("name", flat=True)) == ["c", "a", "b"]
    assert admin.post(reverse("service:sla_policy_delete", args=[b.pk])).status_code == 302
    assert SLAPolicy.objects.count() == 2


@pytest.mark.parametrize(
    ("who", "scope", "sees_rep1", "sees_rep3"),
    [
        ("rep1", Scope.OWN, True, False),
        ("rep2", Scope.OWN, False, False),
        ("rep2", Scope.DEPARTMENT, True, False),
        ("director", Scope.DEPARTMENT_AND_BELOW, True, True),
        ("viewer_all", Scope.ALL, True, True),
    ],
)
def test_timers_follow_the_ticket_scope(
    client: Client, company: Any, who: str, scope: str, sees_rep1: bool, sees_rep3: bool
) -> None:
    office(company.admin)
    policy(first_response_minutes=60, resolution_minutes=480)
    mine = ticket_at(at(2, 10), assignee=company.rep1)
    theirs = ticket_at(at(2, 10), assignee=company.rep3)
    user = getattr(company, who)
    for role in user.roles.all():
        grant(role, "service.ticket", Action.VIEW, scope=scope)
    client.force_login(user)
    for ticket, expected in ((mine, sees_rep1), (theirs, sees_rep3)):
        response = client.get(reverse("service:sla_timers", args=[ticket.pk]))
        assert response.status_code == (200 if expected else 404)
        if expected:
            assert 'data-timer="first_response"' in response.content.decode()


def test_timers_states(admin: Client, company: Any) -> None:
    from kehu.service.selectors.sla import sla_timers

    office(company.admin)
    policy(first_response_minutes=60, resolution_minutes=480)
    ticket = ticket_at(at(2, 10))
    states = {t.metric: (t.state, t.remaining, t.percent) for t in sla_timers(ticket, at(2, 10, 30))}
    assert states["first_response"] == ("running", 1800, 50)
    assert sla_timers(ticket, at(2, 10, 50))[0].state == "warning"
    assert sla_timers(ticket, at(2, 11, 5))[0].state == "breached"
    move(ticket, "waiting", at(2, 10, 45))
    assert sla_timers(ticket, at(3, 12))[0].state == "paused"
    assert sla_timers(ticket, at(3, 12))[0].remaining == 15 * 60


def test_report_counts_met_and_breached_in_scope(client: Client, company: Any) -> None:
    from kehu.service.services.sla import sla_on_agent_reply

    office(company.admin)
    policy(first_response_minutes=60, resolution_minutes=None)
    queue = queue_with(name="一线")
    fast = ticket_at(at(2, 10), assignee=company.rep1, queue=queue)
    sla_on_agent_reply(ticket=fast, now=at(2, 10, 30))
    fast.save()
    slow = ticket_at(at(2, 10), assignee=company.rep1, queue=queue)
    sla_on_agent_reply(ticket=slow, now=at(2, 12))
    slow.save()
    ticket_at(at(2, 10), assignee=company.rep3, queue=queue)  # outside rep1's scope
    grant(company.role_rep, "service.ticket", Action.VIEW, scope=Scope.OWN)
    client.force_login(company.rep1)
    response = client.get(reverse("service:sla_report"), {"date_from": "2026-03-01", "group_by": "queue"})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r.tickets, r.with_targets, r.met, r.breached, r.compliance) for r in rows] == [
        (2, 2, 1, 1, 50.0),
        (2, 2, 1, 1, 50.0),
    ]
    assert rows[0].avg_first_response == (30 * 60 + 120 * 60) // 2  # 10:00–12:00 is 2 business hours
    csv = client.get(reverse("service:sla_report"), {"format": "csv", "group_by": "assignee"})
    assert csv["Content-Type"].startswith("text/csv") and "50.0" in csv.content.decode("utf-8-sig")
    bad = client.get(reverse("service:sla_report"), {"date_from": "2026-03-09", "date_to": "2026-03-01"})
    assert bad.status_code == 400


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_compliance_filter_dates_render_in_iso_for_the_date_input(language: str) -> None:
    import datetime as dt

    from django.utils import translation

    from kehu.service.forms_sla import ComplianceFilterForm

    form = ComplianceFilterForm(initial={"date_from": dt.date(2026, 11, 2), "date_to": dt.date(2026, 11, 30)})
    with translation.override(language):
        assert 'value="2026-11-02"' in str(form["date_from"])
        assert 'value="2026-11-30"' in str(form["date_to"])
