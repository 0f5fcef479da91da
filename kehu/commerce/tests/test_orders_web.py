"""Order pages and API beyond the permission matrix: conversions (quote → order with lines copied
exactly, contract → order), lines and status moves through the API (refusals answer 409 with a
message and change nothing), the detail page, and the order status settings pages."""

# ruff: noqa: F811

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from ..choices import ContractStatus, QuoteStatus
from ..models import Order, OrderLine, OrderStatus
from ..services.orders import COPIED_LINE_FIELDS
from . import contract_fixtures as cf
from .contract_fixtures import sellers  # noqa: F401
from .factories import ContractFactory, OrderFactory, QuoteFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/commerce/orders/"


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _status(code: str) -> OrderStatus:
    return OrderStatus.objects.get(code=code)


def test_quote_to_order_api(sellers: Any) -> None:
    quote = cf.accepted_quote(sellers.rep1, lines=2)
    r = _api(sellers.rep1).post(f"/api/v1/commerce/quotes/{quote.pk}/order/")
    assert r.status_code == 201, r.content
    order = Order.objects.get()
    assert r.json()["number"] == order.number and len(r.json()["lines"]) == 2
    assert list(order.lines.values(*COPIED_LINE_FIELDS)) == list(quote.lines.values(*COPIED_LINE_FIELDS))
    rejected = QuoteFactory.create(owner=sellers.rep1, status=QuoteStatus.REJECTED)
    r = _api(sellers.rep1).post(f"/api/v1/commerce/quotes/{rejected.pk}/order/")
    assert r.status_code == 409 and r.json()["message"]
    assert _api(sellers.rep3).post(f"/api/v1/commerce/quotes/{quote.pk}/order/").status_code == 404
    assert Order.objects.count() == 1


def test_contract_to_order_api(sellers: Any) -> None:
    quote = cf.accepted_quote(sellers.rep1)
    contract = ContractFactory.create(
        owner=sellers.rep1, account=quote.account, quote=quote, status=ContractStatus.ACTIVE
    )
    r = _api(sellers.rep1).post(f"/api/v1/commerce/contracts/{contract.pk}/order/")
    assert r.status_code == 201, r.content
    assert r.json()["contract"] == contract.pk and Decimal(r.json()["total"]) == quote.total
    ended = ContractFactory.create(owner=sellers.rep1, status=ContractStatus.EXPIRED)
    assert _api(sellers.rep1).post(f"/api/v1/commerce/contracts/{ended.pk}/order/").status_code == 409
    assert _api(sellers.rep2).post(f"/api/v1/commerce/contracts/{contract.pk}/order/").status_code == 404


def test_contract_to_order_page(sellers: Any, client: Any) -> None:
    contract = ContractFactory.create(owner=sellers.rep1, status=ContractStatus.ACTIVE)
    client.force_login(sellers.rep1)
    page = client.get(contract.get_absolute_url()).content.decode()
    assert 'data-action="create-order"' in page
    r = client.post(f"/commerce/contracts/{contract.pk}/order/")
    order = Order.objects.get()
    assert r.status_code == 302 and r["Location"] == order.get_absolute_url()
    page = client.get(order.get_absolute_url()).content.decode()
    assert "data-related-contract" in page and 'data-status="confirmed"' in page


def test_lines_and_moves_api(sellers: Any) -> None:
    order = OrderFactory.create(owner=sellers.rep1)
    api = _api(sellers.rep1)
    r = api.post(
        f"{API}{order.pk}/lines/", {"description": "服务", "quantity": "-1", "unit_price": "5"}, format="json"
    )
    assert r.status_code == 400 and "quantity" in r.json()["fields"]
    r = api.post(
        f"{API}{order.pk}/lines/",
        {"description": "服务", "quantity": "3", "unit_price": "33.335"},
        format="json",
    )
    assert r.status_code == 201 and r.json()["gross"].startswith("100.01")
    line_id = r.json()["id"]
    r = api.patch(f"{API}{order.pk}/lines/{line_id}/", {"discount_percent": "10"}, format="json")
    assert r.status_code == 200 and Decimal(r.json()["discount"]) == Decimal("10.00")
    assert Decimal(api.get(f"{API}{order.pk}/").json()["total"]) == Decimal("90.01")
    r = api.post(f"{API}{order.pk}/move-status/", {"status": _status("completed").pk}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "status_move_refused"
    r = api.post(f"{API}{order.pk}/move-status/", {"status": _status("confirmed").pk}, format="json")
    assert r.status_code == 200 and r.json()["status_code"] == "confirmed"
    r = api.delete(f"{API}{order.pk}/lines/{line_id}/")
    assert r.status_code == 409 and OrderLine.objects.count() == 1
    assert api.delete(f"{API}{order.pk}/").status_code == 409
    statuses = api.get("/api/v1/commerce/order-statuses/").json()
    assert [s["code"] for s in statuses][:2] == ["pending", "confirmed"]


def test_api_filters(sellers: Any) -> None:
    mine = OrderFactory.create(owner=sellers.rep1)
    OrderFactory.create(owner=sellers.rep1, status=_status("shipped"))
    rows = (
        _api(sellers.rep1)
        .get(API, {"status_kind": "open", "status": str(_status("pending").pk)})
        .json()["results"]
    )
    assert [r["id"] for r in rows] == [mine.pk]


def test_detail_lines_editable_only_initially(sellers: Any, client: Any) -> None:
    order = OrderFactory.create(owner=sellers.rep1)
    client.force_login(sellers.rep1)
    page = client.get(order.get_absolute_url()).content.decode()
    assert 'data-action="add-line"' in page and 'data-status="cancelled"' in page
    Order.objects.filter(pk=order.pk).update(status=_status("shipped"))
    page = client.get(order.get_absolute_url()).content.decode()
    assert 'data-action="add-line"' not in page and 'data-status="completed"' in page
    r = client.post(
        f"/commerce/orders/{order.pk}/lines/add/", {"description": "x", "quantity": "1", "unit_price": "1"}
    )
    assert r.status_code == 400 and not OrderLine.objects.exists()


def test_order_status_settings(sellers: Any, client: Any) -> None:
    client.force_login(sellers.rep1)
    assert client.get("/commerce/settings/order-statuses/").status_code == 403
    client.force_login(sellers.viewer_all)
    page = client.get("/commerce/settings/order-statuses/").content.decode()
    assert "待确认" in page and "已发货" in page
    shipped = _status("shipped")
    r = client.post(
        f"/commerce/settings/order-statuses/{shipped.pk}/edit/",
        {
            "code": "shipped",
            "name": "已发出",
            "name_en": "Shipped",
            "kind": "open",
            "position": 30,
            "next_statuses": [_status("completed").pk, _status("cancelled").pk],
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    shipped.refresh_from_db()
    assert shipped.name == "已发出" and {s.code for s in shipped.next_statuses.all()} == {
        "completed",
        "cancelled",
    }
    r = client.post(
        "/commerce/settings/order-statuses/add/",
        {"code": "bad", "name": "x", "kind": "done", "position": 1, "is_initial": "on"},
    )
    assert r.status_code == 400 and not OrderStatus.objects.filter(code="bad").exists()
