"""Leads and opportunities have a Timeline tab: their events and field changes, within scope."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from kehu.audit.services import timeline_record
from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

from .factories import LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(company: Any) -> Any:
    for model in ("sales.lead", "sales.opportunity", "customers.account"):
        grant(company.role_rep, model, Action.VIEW, scope=Scope.OWN)
        grant(company.role_manager, model, Action.VIEW, scope=Scope.DEPARTMENT)
    return company


@pytest.mark.parametrize("kind", ["lead", "opportunity"])
def test_record_timeline_shows_its_events_within_scope(client: Any, org: Any, kind: str) -> None:
    record = (
        LeadFactory.create(owner=org.rep1) if kind == "lead" else OpportunityFactory.create(owner=org.rep1)
    )
    timeline_record(event="interaction.logged", obj=record, by=org.rep1, data={"title": "电话沟通预算"})
    url = reverse("audit:record_timeline", args=[record._meta.label_lower, record.pk])
    client.force_login(org.rep1)
    page = client.get(url)
    assert page.status_code == 200 and "电话沟通预算" in page.content.decode()
    detail = client.get(record.get_absolute_url(), {"tab": "timeline"})
    assert url in detail.content.decode()  # the Timeline tab loads it
    client.force_login(org.manager1)  # same department
    assert "电话沟通预算" in client.get(url).content.decode()
    client.force_login(org.rep3)  # another region: not even its existence
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
