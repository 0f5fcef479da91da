"""The Products card of an opportunity: shown with its lines and totals; add (price pre-filled from
the price list), edit, remove through modals; the edit form locks the amount while there are lines;
permission (cannot change → 403, nothing added) and scope (out of scope → 404)."""

# ruff: noqa: F811

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kehu.catalog.tests.factories import PriceListItemFactory, ProductFactory
from kehu.core.choices import Action, Scope

from ..models import Opportunity, OpportunityLine
from .factories import OpportunityFactory
from .opportunity_fixtures import opps  # noqa: F401
from .opportunity_line_fixtures import OpportunityLineFactory, lines  # noqa: F401

pytestmark = pytest.mark.django_db
D = Decimal


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _url(opp: Opportunity, tail: str = "") -> str:
    return f"/sales/opportunities/{opp.pk}/{tail}"


def test_detail_shows_the_products_card(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    OpportunityLineFactory.create(opportunity=opp, price_source="From price list 标准价 2026, tier ≥ 10")
    r = _client(lines.rep1).get(_url(opp))
    assert r.status_code == 200
    body = r.content.decode()
    assert 'id="opportunity-lines"' in body
    assert "From price list 标准价 2026, tier ≥ 10" in body
    assert 'data-total="net">200.00<' in body and 'data-total="total">226.00<' in body
    assert _url(opp, "lines/add/") in body


def test_add_edit_remove_through_the_modal(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1, amount=D("999"))
    item = PriceListItemFactory.create(unit_price=D("80"), min_quantity=D("1"))
    PriceListItemFactory.create(
        price_list=item.price_list, product=item.product, unit_price=D("70"), min_quantity=D("10")
    )
    c = _client(lines.rep1)
    r = c.get(_url(opp, "lines/add/"), HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert "/sales/opportunities/products/autocomplete/" in r.content.decode()
    # the price as the product / quantity change
    r = c.get(
        _url(opp, "lines/price/"), {"product": str(item.product_id), "quantity": "12"}, HTTP_HX_REQUEST="true"
    )
    body = r.content.decode()
    assert 'value="70"' in body and "tier ≥ 10" in body and 'hx-swap-oob="true"' in body
    # the pre-filled price is the price list's: the line keeps where it came from
    r = c.post(
        _url(opp, "lines/add/"),
        {"product": item.product_id, "quantity": "12", "unit_price": "70", "version": opp.version},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 204, r.content.decode()
    line = OpportunityLine.objects.get()
    assert (line.unit_price, line.price_list_id) == (D("70"), item.price_list_id)
    assert line.price_source.endswith("|10")
    assert Opportunity.objects.get(pk=opp.pk).amount == D("840.00")
    # the edit form of the deal: amount locked, with the reason
    r = c.get(_url(opp, "edit/"))
    body = r.content.decode()
    assert "Follows the products" in body
    r = c.post(
        _url(opp, f"lines/{line.pk}/edit/"),
        {"product": item.product_id, "quantity": "12", "unit_price": "70", "discount_percent": "50"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 204, r.content.decode()
    assert Opportunity.objects.get(pk=opp.pk).amount == D("420.00")
    r = c.post(_url(opp, f"lines/{line.pk}/delete/"), HTTP_HX_REQUEST="true")
    assert r.status_code == 204
    assert not OpportunityLine.objects.exists()
    assert Opportunity.objects.get(pk=opp.pk).amount == D("420.00")


def test_bad_input_is_shown_on_the_fields(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    product = ProductFactory.create()
    c = _client(lines.rep1)
    r = c.post(
        _url(opp, "lines/add/"),
        {"product": product.pk, "quantity": "-2", "unit_price": "10"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200
    assert "The quantity must be greater than zero." in r.content.decode()
    r = c.post(
        _url(opp, "lines/add/"),
        {"product": product.pk, "quantity": "2", "unit_price": "10", "discount_amount": "21"},
        HTTP_HX_REQUEST="true",
    )
    assert "The discount may not exceed the line amount." in r.content.decode()
    r = c.post(_url(opp, "lines/add/"), {"product": product.pk, "quantity": "2"}, HTTP_HX_REQUEST="true")
    assert "enter a unit price" in r.content.decode()
    inactive = ProductFactory.create(is_active=False)
    r = c.post(
        _url(opp, "lines/add/"),
        {"product": inactive.pk, "quantity": "2", "unit_price": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert "Choose an active product you can see." in r.content.decode()
    assert not OpportunityLine.objects.exists()


def test_who_may_add(lines: Any) -> None:
    from kehu.users.tests.factories import grant

    opp = OpportunityFactory.create(owner=lines.rep1)
    line = OpportunityLineFactory.create(opportunity=opp)
    product = ProductFactory.create()
    data = {"product": product.pk, "quantity": "1", "unit_price": "5"}
    # out of scope: 404 everywhere
    other = _client(lines.rep2)
    assert other.get(_url(opp, "lines/add/")).status_code == 404
    assert other.post(_url(opp, "lines/add/"), data).status_code == 404
    assert other.post(_url(opp, f"lines/{line.pk}/delete/")).status_code == 404
    assert other.get(_url(opp, "lines/price/"), {"product": product.pk}).status_code == 404
    # may view but not change: 403, and the card offers no buttons
    grant(lines.role_all, "sales.opportunity", Action.VIEW, scope=Scope.ALL)
    lines.role_all.permissions.filter(model="sales.opportunity", action=Action.CHANGE).delete()
    viewer = _client(lines.viewer_all)
    assert viewer.post(_url(opp, "lines/add/"), data).status_code == 403
    assert viewer.post(_url(opp, f"lines/{line.pk}/delete/")).status_code == 403
    page = viewer.get(_url(opp)).content.decode()
    assert 'id="opportunity-lines"' in page and _url(opp, "lines/add/") not in page
    assert OpportunityLine.objects.count() == 1


def test_product_picker_lists_active_products_only(lines: Any) -> None:
    active = ProductFactory.create(name="服务器 A")
    ProductFactory.create(name="服务器 B", is_active=False)
    r = _client(lines.rep1).get("/sales/opportunities/products/autocomplete/", {"q": "服务器"})
    assert [row["id"] for row in r.json()["results"]] == [active.pk]


def test_reorder_by_drag(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    a = OpportunityLineFactory.create(opportunity=opp)
    b = OpportunityLineFactory.create(opportunity=opp)
    c = _client(lines.rep1)
    page = c.get(_url(opp)).content.decode()
    assert 'id="kehu-line-rows"' in page and "Sortable.min.js" in page
    r = c.post(_url(opp, "lines/reorder/"), {"line": [str(b.pk), str(a.pk)]})
    assert r.json()["ok"] is True
    assert list(opp.lines.values_list("pk", flat=True)) == [b.pk, a.pk]
    r = c.post(_url(opp, "lines/reorder/"), {"line": [str(b.pk)]})
    assert r.status_code == 400 and r.json()["ok"] is False
    assert (
        _client(lines.rep2).post(_url(opp, "lines/reorder/"), {"line": [str(a.pk), str(b.pk)]}).status_code
        == 404
    )
