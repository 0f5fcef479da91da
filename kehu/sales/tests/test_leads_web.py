"""Lead pages and API: the permission matrix (anonymous / no permission / own / department /
department and below / all), bad input answering field errors (never a 500), conversion through
the UI and the API (twice: 409), converted leads read-only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kehu.core.choices import Action
from kehu.core.testing import Endpoint, PermissionMatrix
from kehu.customers.models import Account
from kehu.users.tests.factories import grant

from ..choices import LeadStatus
from ..models import Lead
from . import lead_fixtures
from .factories import LeadFactory

pytestmark = pytest.mark.django_db
leads = lead_fixtures.leads

LEADS = "/sales/leads/"
API = "/api/v1/sales/leads/"


def _endpoints() -> list[Endpoint]:
    return [
        Endpoint("html list", "get", lambda o: LEADS, Action.VIEW, on="list"),
        Endpoint("html detail", "get", lambda o: f"{LEADS}{o.pk}/", Action.VIEW),
        Endpoint("html timeline tab", "get", lambda o: f"{LEADS}{o.pk}/?tab=timeline", Action.VIEW),
        Endpoint("html add form", "get", lambda o: f"{LEADS}add/", Action.ADD, on="create"),
        Endpoint(
            "html create",
            "post",
            lambda o: f"{LEADS}add/",
            Action.ADD,
            on="create",
            data=lambda o: {"name": "新线索", "mobile": f"138{o.pk:08d}", "status": "new"},
            writes=True,
            ok=(302,),
        ),
        Endpoint("html edit form", "get", lambda o: f"{LEADS}{o.pk}/edit/", Action.CHANGE),
        Endpoint(
            "html edit (htmx)",
            "post",
            lambda o: f"{LEADS}{o.pk}/edit/",
            Action.CHANGE,
            data=lambda o: {"name": "改名", "status": "contacting", "version": o.version},
            writes=True,
            ok=(204,),
            htmx=True,
        ),
        Endpoint(
            "html qualify",
            "post",
            lambda o: f"{LEADS}{o.pk}/status/",
            Action.CHANGE,
            data=lambda o: {"status": "qualified"},
            writes=True,
            ok=(302,),
        ),
        Endpoint("html convert page", "get", lambda o: f"{LEADS}{o.pk}/convert/", Action.CHANGE, ok=(400,)),
        Endpoint("html delete confirm", "get", lambda o: f"{LEADS}{o.pk}/delete/", Action.DELETE),
        Endpoint(
            "html delete", "post", lambda o: f"{LEADS}{o.pk}/delete/", Action.DELETE, writes=True, ok=(302,)
        ),
        Endpoint("api list", "get", lambda o: API, Action.VIEW, on="list", api=True),
        Endpoint("api retrieve", "get", lambda o: f"{API}{o.pk}/", Action.VIEW, api=True),
        Endpoint(
            "api create",
            "post",
            lambda o: API,
            Action.ADD,
            on="create",
            api=True,
            data=lambda o: {"name": "API 线索", "email": f"Lead{o.pk}@Example.com"},
            writes=True,
            ok=(201,),
        ),
        Endpoint(
            "api update",
            "patch",
            lambda o: f"{API}{o.pk}/",
            Action.CHANGE,
            api=True,
            data=lambda o: {"title": "经理", "version": o.version},
            writes=True,
        ),
        Endpoint(
            "api delete", "delete", lambda o: f"{API}{o.pk}/", Action.DELETE, api=True, writes=True, ok=(204,)
        ),
    ]


def test_lead_permission_matrix(company: Any, client: Any) -> None:
    PermissionMatrix(
        model="sales.lead",
        make=lambda owner: LeadFactory.create(owner=owner),
        endpoints=_endpoints(),
        grant=grant,
    ).run(company, client)


def test_convert_permission_matrix(company: Any, client: Any) -> None:
    """Converting needs change on the lead (and add on accounts and contacts)."""
    PermissionMatrix(
        model="sales.lead",
        make=lambda owner: LeadFactory.create(owner=owner, status=LeadStatus.QUALIFIED),
        endpoints=[
            Endpoint("html convert page", "get", lambda o: f"{LEADS}{o.pk}/convert/", Action.CHANGE),
            Endpoint(
                "html convert",
                "post",
                lambda o: f"{LEADS}{o.pk}/convert/",
                Action.CHANGE,
                data=lambda o: {"account_choice": "new", "create_contact": "on", "version": o.version},
                writes=True,
                ok=(302,),
            ),
            Endpoint(
                "api convert",
                "post",
                lambda o: f"{API}{o.pk}/convert/",
                Action.CHANGE,
                api=True,
                data=lambda o: {},
                writes=True,
            ),
        ],
        extra_grants={"customers.account": ["view", "add"], "customers.contact": ["view", "add"]},
        grant=grant,
    ).run(company, client)


# --- pages ------------------------------------------------------------------------------------------


def test_list_filters_and_quick_search(leads: Any, client: Any) -> None:
    a = LeadFactory.create(owner=leads.rep1, name="张三", company="甲公司", source="website")
    b = LeadFactory.create(owner=leads.rep1, name="李四", company="乙公司", source="exhibition")
    client.force_login(leads.rep1)
    body = client.get(LEADS, {"source": "website"}).content.decode()
    assert f'data-pk="{a.pk}"' in body and f'data-pk="{b.pk}"' not in body
    body = client.get(LEADS, {"q": "乙公司"}).content.decode()
    assert f'data-pk="{b.pk}"' in body and f'data-pk="{a.pk}"' not in body
    body = client.get(LEADS, {"no_activity_days": "3"}).content.decode()
    assert f'data-pk="{a.pk}"' in body  # never followed up
    assert client.get(LEADS, {"no_activity_days": "abc"}).status_code == 200  # bad filter: errors, no 500


def test_detail_shows_facts_and_actions(leads: Any, client: Any) -> None:
    lead = LeadFactory.create(owner=leads.rep1, status=LeadStatus.QUALIFIED, source="website")
    client.force_login(leads.rep1)
    body = client.get(f"{LEADS}{lead.pk}/").content.decode()
    assert 'data-action="convert"' in body and 'data-action="unqualify"' in body
    assert 'data-action="edit"' in body


def test_create_form_bad_input_shows_field_errors(leads: Any, client: Any) -> None:
    client.force_login(leads.rep1)
    response = client.post(
        f"{LEADS}add/",
        {"name": "坏数据", "mobile": "12345", "email": "x@", "status": "new", "source": "nope"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"mobile", "email", "source"} <= set(errors)
    assert Lead.objects.count() == 0


def test_unqualify_needs_reason(leads: Any, client: Any) -> None:
    lead = LeadFactory.create(owner=leads.rep1)
    client.force_login(leads.rep1)
    response = client.post(f"{LEADS}{lead.pk}/unqualify/", {"reason": ""})
    assert response.status_code == 400
    response = client.post(f"{LEADS}{lead.pk}/unqualify/", {"reason": "no_budget", "version": lead.version})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.unqualified_reason) == ("unqualified", "no_budget")


def test_convert_page_offers_matching_account(leads: Any, client: Any) -> None:
    from kehu.customers.tests.factories import AccountFactory

    account = AccountFactory.create(owner=leads.rep1, name="示例科技有限公司")
    lead = LeadFactory.create(owner=leads.rep1, company="示例科技有限公司", status=LeadStatus.QUALIFIED)
    client.force_login(leads.rep1)
    body = client.get(f"{LEADS}{lead.pk}/convert/").content.decode()
    assert f'value="{account.pk}"' in body
    response = client.post(
        f"{LEADS}{lead.pk}/convert/", {"account_choice": str(account.pk), "version": lead.version}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.converted_account == account
    assert Account.objects.count() == 1
    # Converted: the page says so, edit is refused, the detail page offers no edit.
    again = client.get(f"{LEADS}{lead.pk}/convert/")
    assert again.status_code == 409
    assert client.get(f"{LEADS}{lead.pk}/edit/").status_code == 403
    body = client.get(f"{LEADS}{lead.pk}/").content.decode()
    assert 'data-action="edit"' not in body and 'data-converted="account"' in body


def test_conversion_map_admin_only(leads: Any, client: Any) -> None:
    from kehu.customfields.tests.factories import CustomFieldFactory
    from kehu.users.tests.factories import UserFactory

    CustomFieldFactory.create(model="sales.lead", name="budget", type="integer")
    CustomFieldFactory.create(model="customers.account", name="budget", type="integer")
    client.force_login(leads.rep1)
    assert client.get(f"{LEADS}conversion-mapping/").status_code == 403
    admin = UserFactory(username="boss", roles=[leads.role_rep])
    leads.role_rep.is_admin = True
    leads.role_rep.save()
    client.force_login(admin)
    assert client.get(f"{LEADS}conversion-mapping/").status_code == 200
    response = client.post(
        f"{LEADS}conversion-mapping/",
        {"lead_field": "budget", "target_model": "customers.account", "target_field": "budget"},
    )
    assert response.status_code == 302
    from ..models import ConversionFieldMap

    assert ConversionFieldMap.objects.filter(lead_field="budget", target_model="customers.account").exists()
    response = client.post(
        f"{LEADS}conversion-mapping/",
        {"lead_field": "budget", "target_model": "customers.account", "target_field": "nope"},
    )
    assert response.status_code == 400


# --- API ------------------------------------------------------------------------------------------


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_api_bad_input_is_field_errors(leads: Any, client: Any) -> None:
    client.force_login(leads.rep1)
    response = _post(client, API, {"name": "坏", "mobile": "12345", "source": "nope"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] and body["message"]
    assert {"mobile", "source"} <= set(body["fields"])
    response = _post(client, API, {"name": "坏", "status": "unqualified"})
    assert response.status_code == 400 and "unqualified_reason" in response.json()["fields"]
    assert Lead.objects.count() == 0


def test_api_filters(leads: Any, client: Any) -> None:
    a = LeadFactory.create(owner=leads.rep1, status=LeadStatus.QUALIFIED)
    LeadFactory.create(owner=leads.rep1, status=LeadStatus.NEW)
    client.force_login(leads.rep1)
    rows = client.get(API, {"status": "qualified"}).json()["results"]
    assert [r["id"] for r in rows] == [a.pk]
    assert client.get(API, {"status": "bogus"}).status_code == 400


def test_api_convert_twice_and_read_only(leads: Any, client: Any) -> None:
    lead = LeadFactory.create(owner=leads.rep1, status=LeadStatus.QUALIFIED, mobile="13700001111")
    client.force_login(leads.rep1)
    response = _post(client, f"{API}{lead.pk}/convert/", {})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["account_created"] is True and body["contact_created"] is True
    again = _post(client, f"{API}{lead.pk}/convert/", {})
    assert again.status_code == 409
    assert again.json()["code"] == "lead_already_converted"
    edit = client.patch(f"{API}{lead.pk}/", data=json.dumps({"title": "改"}), content_type="application/json")
    assert edit.status_code == 409 and "read-only" in edit.json()["message"]
    assert client.delete(f"{API}{lead.pk}/").status_code == 409
    assert Account.objects.count() == 1


def test_api_convert_not_qualified_and_bad_account(leads: Any, client: Any) -> None:
    from kehu.customers.tests.factories import AccountFactory

    lead = LeadFactory.create(owner=leads.rep1, status=LeadStatus.NEW)
    client.force_login(leads.rep1)
    response = _post(client, f"{API}{lead.pk}/convert/", {})
    assert response.status_code == 400 and response.json()["code"] == "lead_not_qualified"
    lead.status = LeadStatus.QUALIFIED
    lead.save()
    hidden = AccountFactory.create(owner=leads.rep2)
    response = _post(client, f"{API}{lead.pk}/convert/", {"account": hidden.pk})
    assert response.status_code == 400 and "account" in response.json()["fields"]
    response = _post(client, f"{API}{lead.pk}/convert/", {"amount": "-5", "create_opportunity": True})
    assert response.status_code == 400
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED


def test_api_schema_has_lead_operations(leads: Any, client: Any) -> None:
    client.force_login(leads.rep1)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/sales/leads/" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/sales/leads/{id}/convert/"]


def test_export_and_bulk_registered(leads: Any) -> None:
    from kehu.core.bulk import bulk_actions
    from kehu.core.exports import get_exporter

    assert get_exporter("sales.lead") is not None
    keys = {a.key for a in bulk_actions("sales.lead")}
    assert {"change_owner", "tags_add", "tags_remove", "set_status", "delete"} <= keys


def test_bulk_set_status_and_delete(leads: Any) -> None:
    from ..services.leads import leads_delete, leads_set_status

    mine = [LeadFactory.create(owner=leads.rep1) for _ in range(2)]
    other = LeadFactory.create(owner=leads.rep2)
    result = leads_set_status(ids=[*(lead.pk for lead in mine), other.pk], status="contacting", by=leads.rep1)
    assert (result.done, result.skipped) == (2, 1)
    assert set(Lead.objects.filter(status="contacting").values_list("pk", flat=True)) == {m.pk for m in mine}
    result = leads_delete(ids=[m.pk for m in mine], by=leads.rep1)
    assert result.done == 2 and not Lead.objects.filter(pk__in=[m.pk for m in mine]).exists()
