"""Opportunity lines over the API: nested in the opportunity, listed and added under
``opportunities/{id}/lines/``, changed and removed at ``opportunity-lines/{id}/``; scope (404),
permission (403), field errors and stale versions (409), nothing changed on a refusal."""

# ruff: noqa: F811

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.catalog.tests.factories import PriceListItemFactory, ProductFactory
from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

from ..models import Opportunity, OpportunityLine
from .factories import OpportunityFactory
from .opportunity_fixtures import opps  # noqa: F401
from .opportunity_line_fixtures import OpportunityLineFactory, lines  # noqa: F401

pytestmark = pytest.mark.django_db
OPPS = "/api/v1/sales/opportunities/"
LINES = "/api/v1/sales/opportunity-lines/"
D = Decimal


def _api(user: Any) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_add_list_change_remove(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1, amount=D("800"))
    item = PriceListItemFactory.create(unit_price=D("50"))
    api = _api(lines.rep1)
    r = api.post(f"{OPPS}{opp.pk}/lines/", {"product": item.product_id, "quantity": "4"}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["unit_price"], body["net"], body["total"]) == ("50.0000", "200.0000", "226.0000")
    assert body["price_source"] == f"@pricelist:{item.price_list.name}|"
    assert body["price_source_text"] in (
        f"From price list {item.price_list.name}",
        f"来自价目表 {item.price_list.name}",
    )
    assert body["price_source"]
    assert body["opportunity_version"] == opp.version + 1
    r = api.get(f"{OPPS}{opp.pk}/")
    assert r.json()["amount"] == "200.00"
    assert [ln["id"] for ln in r.json()["lines"]] == [body["id"]]
    assert [ln["id"] for ln in api.get(f"{OPPS}{opp.pk}/lines/").json()] == [body["id"]]
    assert api.get(f"{OPPS}{opp.pk}/lines/?product=999999").json() == []
    r = api.patch(f"{LINES}{body['id']}/", {"discount_percent": "10"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["net"] == "180.0000"
    assert Opportunity.objects.get(pk=opp.pk).amount == D("180.00")
    r = api.delete(f"{LINES}{body['id']}/")
    assert r.status_code == 204
    assert Opportunity.objects.get(pk=opp.pk).amount == D("180.00")
    assert not OpportunityLine.objects.exists()


def test_list_of_opportunities_shows_lines(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    OpportunityLineFactory.create(opportunity=opp)
    r = _api(lines.rep1).get(OPPS)
    assert r.status_code == 200
    row = next(o for o in r.json()["results"] if o["id"] == opp.pk)
    assert len(row["lines"]) == 1 and row["lines"][0]["net"] == "200.0000"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": "-1", "unit_price": "1"}, "quantity"),
        ({"quantity": "1", "unit_price": "10", "discount_percent": "150"}, "discount_percent"),
        ({"quantity": "1", "unit_price": "10", "discount_amount": "11"}, "discount_amount"),
        ({"quantity": "1"}, "unit_price"),
    ],
)
def test_bad_input_answers_field_errors(lines: Any, body: dict[str, Any], field: str) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1, amount=D("800"))
    product = ProductFactory.create()
    r = _api(lines.rep1).post(f"{OPPS}{opp.pk}/lines/", {"product": product.pk, **body}, format="json")
    assert r.status_code == 400, r.json()
    assert field in r.json()["fields"]
    assert not OpportunityLine.objects.exists()
    assert Opportunity.objects.get(pk=opp.pk).amount == D("800.00")


def test_amount_is_refused_while_there_are_lines(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    OpportunityLineFactory.create(opportunity=opp)
    r = _api(lines.rep1).patch(f"{OPPS}{opp.pk}/", {"amount": "1"}, format="json")
    assert r.status_code == 400
    assert "amount" in r.json()["fields"]


def test_scope_and_permission(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    line = OpportunityLineFactory.create(opportunity=opp)
    product = ProductFactory.create()
    other = _api(lines.rep2)  # same department, own scope: cannot see rep1's deal
    assert other.get(f"{OPPS}{opp.pk}/lines/").status_code == 404
    assert other.post(f"{OPPS}{opp.pk}/lines/", {"product": product.pk, "quantity": "1"}).status_code == 404
    assert other.patch(f"{LINES}{line.pk}/", {"quantity": "3"}, format="json").status_code == 404
    assert other.delete(f"{LINES}{line.pk}/").status_code == 404
    # a viewer of everything who may not change it: 403
    viewer = lines.viewer_all
    grant(lines.role_all, "sales.opportunity", Action.VIEW, scope=Scope.ALL)
    lines.role_all.permissions.filter(model="sales.opportunity", action=Action.CHANGE).delete()
    api = _api(viewer)
    assert api.get(f"{OPPS}{opp.pk}/lines/").status_code == 200
    r = api.post(f"{OPPS}{opp.pk}/lines/", {"product": product.pk, "quantity": "1", "unit_price": "5"})
    assert r.status_code == 403
    assert api.delete(f"{LINES}{line.pk}/").status_code == 403
    assert OpportunityLine.objects.filter(opportunity=opp).count() == 1


def test_stale_version_is_409(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    line = OpportunityLineFactory.create(opportunity=opp)
    api = _api(lines.rep1)
    r = api.patch(f"{LINES}{line.pk}/", {"quantity": "3", "version": opp.version + 5}, format="json")
    assert r.status_code == 409
    assert api.delete(f"{LINES}{line.pk}/?version={opp.version + 5}").status_code == 409
    assert OpportunityLine.objects.get(pk=line.pk).quantity == D("2")


def test_reorder(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    a = OpportunityLineFactory.create(opportunity=opp)
    b = OpportunityLineFactory.create(opportunity=opp)
    api = _api(lines.rep1)
    r = api.post(f"{OPPS}{opp.pk}/lines/reorder/", {"lines": [b.pk, a.pk]}, format="json")
    assert r.status_code == 200, r.json()
    assert [ln["id"] for ln in r.json()] == [b.pk, a.pk]
    r = api.post(f"{OPPS}{opp.pk}/lines/reorder/", {"lines": [b.pk]}, format="json")
    assert r.status_code == 400


def test_a_hidden_amount_hides_the_lines(lines: Any) -> None:
    from kehu.core.choices import FieldMode
    from kehu.users.models import FieldPermission

    FieldPermission.objects.create(
        role=lines.role_rep, model="sales.opportunity", field="amount", mode=FieldMode.HIDDEN
    )
    opp = OpportunityFactory.create(owner=lines.rep1)
    line = OpportunityLineFactory.create(opportunity=opp)
    api = _api(lines.rep1)
    body = api.get(f"{OPPS}{opp.pk}/").json()
    assert "amount" not in body and "lines" not in body
    assert api.get(f"{OPPS}{opp.pk}/lines/").status_code == 403
    assert api.get(f"{LINES}{line.pk}/").status_code == 403
    r = api.post(f"{OPPS}{opp.pk}/lines/", {"product": line.product_id, "quantity": "1", "unit_price": "1"})
    assert r.status_code == 403
    assert OpportunityLine.objects.count() == 1
