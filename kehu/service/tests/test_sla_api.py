"""SLA over the API: policies CRUD for administrators (bad input answered field by field, nothing
changed), events within the ticket scope, the compliance report."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.core.choices import Action, Scope
from kehu.service.models import SLAEvent, SLAPolicy
from kehu.service.services.sla import sla_sweep
from kehu.users.tests.factories import grant

from .factories import office
from .factories_sla import at, policy, ticket_at

pytestmark = pytest.mark.django_db
POLICIES = "/api/v1/service/sla-policies/"
EVENTS = "/api/v1/service/sla-events/"
REPORT = "/api/v1/service/sla-report/"


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_anonymous_and_no_permission(company: Any) -> None:
    p = policy(name="标准")
    for url in (POLICIES, EVENTS, REPORT):
        assert APIClient().get(url).status_code in (401, 403)
        assert api(company.nobody).get(url).status_code == 403
    assert api(company.nobody).get(f"{POLICIES}{p.pk}/").status_code == 404
    assert api(company.nobody).delete(f"{POLICIES}{p.pk}/").status_code == 404
    assert SLAPolicy.objects.count() == 1


def test_admin_crud(company: Any) -> None:
    client = api(company.admin)
    body = {
        "name": "紧急",
        "conditions": {"priorities": [4], "account_levels": ["VIP"]},
        "first_response_minutes": 30,
        "resolution_minutes": 240,
        "warn_percent": 70,
        "notify_users": [company.manager1.pk],
    }
    response = client.post(POLICIES, body, format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["conditions"] == {"priorities": [4], "account_levels": ["VIP"]}
    response = client.patch(f"{POLICIES}{pk}/", {"resolution_minutes": None}, format="json")
    assert response.status_code == 200 and response.json()["resolution_minutes"] is None
    assert client.get(POLICIES).json()["results"][0]["name"] == "紧急"
    assert client.delete(f"{POLICIES}{pk}/").status_code == 204
    assert not SLAPolicy.objects.exists()


def test_bad_input_changes_nothing(company: Any) -> None:
    client = api(company.admin)
    response = client.post(
        POLICIES, {"name": "x", "conditions": {"priorities": [9]}, "warn_percent": 100}, format="json"
    )
    assert response.status_code == 400
    fields = set(response.json()["fields"])
    assert "warn_percent" in fields and any(f.startswith("conditions") for f in fields)
    response = client.post(POLICIES, {"name": "x"}, format="json")
    assert response.status_code == 400 and "first_response_minutes" in response.json()["fields"]
    assert not SLAPolicy.objects.exists()


def test_viewer_may_read_not_write(company: Any) -> None:
    policy(name="标准")
    grant(company.role_rep, "service.slapolicy", Action.VIEW)
    client = api(company.rep1)
    assert client.get(POLICIES).status_code == 200
    assert client.post(POLICIES, {"name": "y", "resolution_minutes": 5}, format="json").status_code == 403
    assert SLAPolicy.objects.count() == 1


def test_events_and_report_follow_the_ticket_scope(company: Any) -> None:
    office(company.admin)
    policy(first_response_minutes=30, resolution_minutes=None)
    mine = ticket_at(at(2, 10), assignee=company.rep1)
    ticket_at(at(2, 10), assignee=company.rep3)
    sla_sweep(now=at(2, 12))
    assert SLAEvent.objects.filter(kind="breach").count() == 2
    grant(company.role_rep, "service.ticket", Action.VIEW, scope=Scope.OWN)
    client = api(company.rep1)
    events = client.get(EVENTS).json()["results"]
    assert {e["ticket"] for e in events} == {mine.pk}
    assert client.get(EVENTS, {"kind": "warning"}).json()["results"] == []
    rows = client.get(REPORT, {"group_by": "assignee"}).json()
    assert rows[-1]["label"] and rows[-1]["tickets"] == 1 and rows[-1]["breached"] == 1
    assert client.get(REPORT, {"group_by": "nonsense"}).status_code == 400
    assert client.get(REPORT, {"date_from": "2026-03-05", "date_to": "2026-03-01"}).status_code == 400


def test_report_refuses_dates_out_of_range_with_a_field_error(company: Any) -> None:
    grant(company.role_rep, "service.ticket", Action.VIEW, scope=Scope.OWN)
    client = api(company.rep1)
    response = client.get(REPORT, {"date_to": "9999-12-31"})
    assert response.status_code == 400
    assert "date_to" in response.json()["fields"]
    assert client.get(REPORT, {"date_from": "2026-03-01", "date_to": "2026-03-05"}).status_code == 200
