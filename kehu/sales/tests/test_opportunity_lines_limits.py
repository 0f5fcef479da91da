"""Opportunity lines whose amounts the money columns cannot hold are field errors on quantity /
unit price (service, API, modal; never a 500 or a field-less database error); the live price
preview caps a huge quantity at the column's limit and says so."""

# ruff: noqa: F811

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from kehu.catalog.tests.factories import PriceListItemFactory

from ..models import Opportunity, OpportunityLine
from ..services import opportunity_lines as svc
from .factories import OpportunityFactory
from .opportunity_fixtures import opps  # noqa: F401
from .opportunity_line_fixtures import lines  # noqa: F401

pytestmark = pytest.mark.django_db
D = Decimal
OPPS = "/api/v1/sales/opportunities/"
LINES = "/api/v1/sales/opportunity-lines/"


def _setup(lines: Any) -> tuple[Opportunity, Any]:
    opp = OpportunityFactory.create(owner=lines.rep1, amount=D("800"))
    item = PriceListItemFactory.create(unit_price=D("50"))
    return opp, item


def test_service_refuses_amounts_too_large_for_the_columns(lines: Any) -> None:
    opp, item = _setup(lines)
    # 9,999,999,999 × 10,000,000 = 1e17: the quantity and the price fit, the line amount does not
    with pytest.raises(svc.OpportunityLineError) as exc:
        svc.opportunity_line_add(
            by=lines.rep1,
            opportunity=opp,
            product=item.product,
            quantity=D("9999999999"),
            unit_price=D("1e7"),
        )
    assert set(exc.value.fields) == {"quantity", "unit_price"}
    assert "too large" in exc.value.fields["quantity"][0]
    with pytest.raises(svc.OpportunityLineError) as exc:
        svc.opportunity_line_add(
            by=lines.rep1, opportunity=opp, product=item.product, quantity=D("1"), unit_price=D("1e15")
        )
    assert list(exc.value.fields) == ["unit_price"]
    with pytest.raises(svc.OpportunityLineError) as exc:
        svc.opportunity_line_add(
            by=lines.rep1, opportunity=opp, product=item.product, quantity=D("1e13"), unit_price=D("1e7")
        )
    assert exc.value.fields["quantity"] == ["The quantity may be at most 9,999,999,999."]
    line = svc.opportunity_line_add(by=lines.rep1, opportunity=opp, product=item.product, quantity=D("2"))
    with pytest.raises(svc.OpportunityLineError) as exc:
        svc.opportunity_line_update(
            by=lines.rep1, line=line, data={"quantity": D("9999999999"), "unit_price": D("1e7")}
        )
    assert "unit_price" in exc.value.fields
    line.refresh_from_db()
    assert (line.quantity, line.net) == (D("2"), D("100.00"))
    assert Opportunity.objects.get(pk=opp.pk).amount == D("100.00")


def test_api_answers_400_with_fields(lines: Any) -> None:
    opp, item = _setup(lines)
    api = APIClient()
    api.force_authenticate(lines.rep1)
    r = api.post(
        f"{OPPS}{opp.pk}/lines/",
        {"product": item.product_id, "quantity": "9999999999", "unit_price": "10000000"},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert {"quantity", "unit_price"} <= set(r.json()["fields"])
    assert not OpportunityLine.objects.exists()


def test_price_preview_caps_a_huge_quantity(lines: Any) -> None:
    opp, item = _setup(lines)
    PriceListItemFactory.create(
        price_list=item.price_list, product=item.product, unit_price=D("40"), min_quantity=D("1000")
    )
    c = Client()
    c.force_login(lines.rep1)
    r = c.get(
        f"/sales/opportunities/{opp.pk}/lines/price/",
        {"product": str(item.product_id), "quantity": "1e999999"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200
    assert 'value="40"' in r.content.decode()  # the highest tier: the capped quantity's
    toast = json.loads(r["HX-Trigger"])["kehu:toast"]
    assert toast["level"] == "warning" and "9,999,999,999" in toast["message"]
    ok = c.get(
        f"/sales/opportunities/{opp.pk}/lines/price/",
        {"product": str(item.product_id), "quantity": "3"},
        HTTP_HX_REQUEST="true",
    )
    assert "HX-Trigger" not in ok and 'value="50"' in ok.content.decode()
