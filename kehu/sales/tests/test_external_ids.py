"""External IDs (the record's id in another system) on leads and opportunities: API read/write, one
duplicate error for API and forms, the exact filter, the export column and the list column."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from kehu.core import exports
from kehu.core.choices import Action, JobStatus, Scope
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

from ..models import Lead, Opportunity
from ..services.leads import lead_create, lead_update
from ..services.opportunities import opportunity_create
from ..tables_leads import LeadTable
from ..tables_opportunities import OpportunityTable
from .factories import LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/sales/leads/"
OPPS = "/api/v1/sales/opportunities/"
HTMX = {"HX-Request": "true"}
TAKEN = "Another record already has this external ID."
ACTIONS = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT)


@pytest.fixture
def org(company: Any) -> Any:
    for role, scope in ((company.role_rep, Scope.OWN), (company.role_all, Scope.ALL)):
        for model in ("sales.lead", "sales.opportunity", "customers.account", "customers.contact"):
            grant(role, model, *ACTIONS, scope=scope)
    return company


def _export(user: Any, exporter: str, capture: Any) -> list[list[str]]:
    with capture(execute=True):
        job = exports.export_start(user=user, exporter=exporter, params={}, fmt="csv")
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return list(csv.reader(io.StringIO(job.result_file.read().decode("utf-8-sig"))))


def test_lead_api_create_update_and_duplicate(org: Any, client: Any) -> None:
    LeadFactory.create(owner=org.rep2, name="别人的", external_id="L-9")
    client.force_login(org.rep1)
    created = client.post(LEADS, {"name": "王五", "external_id": " L-1 "}, content_type="application/json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert client.get(f"{LEADS}{pk}/").json()["external_id"] == "L-1"
    updated = client.patch(f"{LEADS}{pk}/", {"external_id": "L-2"}, content_type="application/json")
    assert (updated.status_code, updated.json()["external_id"]) == (200, "L-2")
    # rep1 cannot see rep2's lead, yet its external ID is taken (the key is global).
    duplicate = client.post(LEADS, {"name": "赵六", "external_id": "L-9"}, content_type="application/json")
    assert duplicate.status_code == 400
    assert duplicate.json() == {
        "code": "duplicate_external_id",
        "message": "Some fields are not valid.",
        "fields": {"external_id": [TAKEN]},
    }
    clash = client.patch(f"{LEADS}{pk}/", {"external_id": "L-9"}, content_type="application/json")
    assert (clash.status_code, clash.json()["fields"]) == (400, {"external_id": [TAKEN]})
    assert Lead.objects.get(pk=pk).external_id == "L-2"
    assert Lead.objects.filter(name="赵六").count() == 0


def test_lead_services_accept_and_refuse(org: Any) -> None:
    lead = lead_create(by=org.rep1, data={"name": "甲", "external_id": "S-1"})
    assert lead_create(by=org.rep1, data={"name": "乙", "external_id": ""}).external_id == ""
    assert lead_create(by=org.rep1, data={"name": "丙"}).external_id == ""
    with pytest.raises(Exception) as exc:
        lead_create(by=org.rep1, data={"name": "丁", "external_id": "S-1"})
    assert getattr(exc.value, "fields", None) == {"external_id": [TAKEN]}
    # Saving the same record with its own value is no clash.
    assert lead_update(lead=lead, by=org.rep1, data={"external_id": "S-1", "title": "经理"}).title == "经理"


def test_opportunity_api_create_update_and_duplicate(org: Any, client: Any) -> None:
    account = AccountFactory.create(owner=org.rep1)
    OpportunityFactory.create(owner=org.rep1, account=account, external_id="O-9")
    client.force_login(org.rep1)
    created = client.post(
        OPPS,
        {"name": "大单", "account": account.pk, "amount": "100", "external_id": "O-1"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert client.get(f"{OPPS}{pk}/").json()["external_id"] == "O-1"
    updated = client.patch(f"{OPPS}{pk}/", {"external_id": "O-2"}, content_type="application/json")
    assert (updated.status_code, updated.json()["external_id"]) == (200, "O-2")
    duplicate = client.post(
        OPPS,
        {"name": "又一单", "account": account.pk, "amount": "1", "external_id": "O-9"},
        content_type="application/json",
    )
    assert duplicate.status_code == 400
    assert (duplicate.json()["code"], duplicate.json()["fields"]) == (
        "duplicate_external_id",
        {"external_id": [TAKEN]},
    )
    clash = client.patch(f"{OPPS}{pk}/", {"external_id": "O-9"}, content_type="application/json")
    assert (clash.status_code, clash.json()["fields"]) == (400, {"external_id": [TAKEN]})
    assert Opportunity.objects.get(pk=pk).external_id == "O-2"
    assert not Opportunity.objects.filter(name="又一单").exists()


def test_opportunity_service_refuses_a_duplicate(org: Any) -> None:
    account = AccountFactory.create(owner=org.rep1)
    opportunity_create(by=org.rep1, account=account, name="甲", data={"external_id": "X"})
    with pytest.raises(Exception) as exc:
        opportunity_create(by=org.rep1, account=account, name="乙", data={"external_id": "X"})
    assert getattr(exc.value, "code", None) == "duplicate_external_id"


def test_lead_form_saves_and_refuses_a_duplicate(org: Any, client: Any) -> None:
    LeadFactory.create(owner=org.rep1, external_id="F-1")
    client.force_login(org.rep1)
    assert 'name="external_id"' in client.get("/sales/leads/add/").content.decode()
    bad = client.post(
        "/sales/leads/add/", {"name": "表单", "status": "new", "external_id": "F-1"}, headers=HTMX
    )
    assert bad.status_code == 200
    assert TAKEN in bad.content.decode()
    ok = client.post(
        "/sales/leads/add/", {"name": "表单", "status": "new", "external_id": "F-2"}, headers=HTMX
    )
    assert ok.status_code == 204, ok.content.decode()[:2000]
    lead = Lead.objects.get(name="表单")
    assert lead.external_id == "F-2"
    page = client.get(lead.get_absolute_url()).content.decode()
    assert "F-2" in page and "External ID" in page


def test_opportunity_form_saves_and_refuses_a_duplicate(org: Any, client: Any) -> None:
    account = AccountFactory.create(owner=org.rep1)
    OpportunityFactory.create(owner=org.rep1, account=account, external_id="F-1")
    client.force_login(org.rep1)
    form = {"name": "表单单", "account": account.pk, "amount": "5", "currency": "CNY"}
    bad = client.post("/sales/opportunities/add/", {**form, "external_id": "F-1"})
    assert bad.status_code == 400
    assert TAKEN in bad.content.decode()
    ok = client.post("/sales/opportunities/add/", {**form, "external_id": "F-2"})
    assert ok.status_code == 302
    opp = Opportunity.objects.get(name="表单单")
    assert opp.external_id == "F-2"
    page = client.get(opp.get_absolute_url()).content.decode()
    assert "F-2" in page and "External ID" in page


def test_filters_are_exact(org: Any, client: Any) -> None:
    LeadFactory.create(owner=org.rep1, name="甲", external_id="E-1")
    LeadFactory.create(owner=org.rep1, name="乙", external_id="E-10")
    OpportunityFactory.create(owner=org.rep1, name="丙", external_id="E-1")
    OpportunityFactory.create(owner=org.rep1, name="丁", external_id="E-100")
    client.force_login(org.rep1)
    leads = client.get(LEADS, {"external_id": "E-1"}).json()["results"]
    assert [(r["name"], r["external_id"]) for r in leads] == [("甲", "E-1")]
    opps = client.get(OPPS, {"external_id": "E-1"}).json()["results"]
    assert [(r["name"], r["external_id"]) for r in opps] == [("丙", "E-1")]
    assert client.get(OPPS, {"external_id": "E-10"}).json()["results"] == []


def test_exports_have_the_column(org: Any, django_capture_on_commit_callbacks: Any) -> None:
    LeadFactory.create(owner=org.rep1, external_id="L-7")
    OpportunityFactory.create(owner=org.rep1, external_id="O-7")
    rows = _export(org.rep1, "sales.lead", django_capture_on_commit_callbacks)
    assert rows[0][1] == "External ID"
    assert [r[1] for r in rows[1:]] == ["L-7"]
    rows = _export(org.rep1, "sales.opportunity", django_capture_on_commit_callbacks)
    assert rows[0][1] == "External ID"
    assert [r[1] for r in rows[1:]] == ["O-7"]


def test_list_tables_offer_a_non_default_column() -> None:
    for table in (LeadTable, OpportunityTable):
        column = next(c for c in table.columns if c.name == "external_id")
        assert (str(column.label), column.default) == ("External ID", False)
