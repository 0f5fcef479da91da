"""The catalog API: round trips through the services, field errors, nested prices, the price a line
gets, and who may do what (catalog records have no owner: any grant covers all of them)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.forms.models import model_to_dict

from kehu.catalog.models import (
    Currency,
    ExchangeRate,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
)
from kehu.catalog.services import (
    category_create,
    price_list_create,
    price_set,
    product_create,
)
from kehu.core.choices import Action, Scope
from kehu.core.testing import OWNERS, SCENARIOS, Endpoint, PermissionMatrix, Scenario
from kehu.customers.tests.factories import AccountFactory
from kehu.customfields.choices import FieldType
from kehu.customfields.tests.factories import CustomFieldFactory
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db

API = "/api/v1/catalog"
ALL = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)
MODELS = ("product", "productcategory", "pricelist", "currency", "exchangerate")
DAY = dt.date(2026, 6, 1)
_codes = itertools.count(1)


def cny() -> Currency:
    return Currency.objects.get(code="CNY")


def usd() -> Currency:
    return Currency.objects.get(code="USD")


def _product(code: str | None = None, **data: Any) -> Product:
    return product_create(by=None, data={"code": code or f"P-{next(_codes)}", "name": "产品", **data})


@pytest.fixture
def keeper(company: Any) -> Any:
    """Reps (rep1, rep2, rep3) maintain the whole catalog; viewer_all only reads it; nobody has nothing."""
    for model in MODELS:
        grant(company.role_rep, f"catalog.{model}", *ALL, scope=Scope.OWN)
        grant(company.role_all, f"catalog.{model}", Action.VIEW, scope=Scope.ALL)
    grant(company.role_rep, "customers.account", *ALL, scope=Scope.OWN)
    grant(company.role_all, "customers.account", Action.VIEW, scope=Scope.ALL)
    return company


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def _patch(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.patch(url, body, content_type="application/json")


# --- products and categories ----------------------------------------------------------------------


def test_product_round_trip_with_category_custom_fields_filters_and_version(keeper: Any, client: Any) -> None:
    CustomFieldFactory.create(model="catalog.product", name="warranty_months", type=FieldType.INTEGER)
    client.force_login(keeper.rep1)
    response = _post(client, f"{API}/categories/", {"name": "硬件"})
    assert response.status_code == 201, response.content
    hardware = response.json()["id"]
    response = _post(client, f"{API}/categories/", {"name": "服务器", "parent": hardware})
    assert response.status_code == 201, response.content
    servers = response.json()["id"]

    response = _post(
        client,
        f"{API}/products/",
        {
            "code": "SRV-001",
            "name": "机架服务器",
            "category": servers,
            "unit": "台",
            "tax_rate": "13",
            "cost": "8000.5",
            "custom": {"warranty_months": 36},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["tax_rate"] == "13.00" and body["cost"] == "8000.5000"  # money as strings
    assert body["custom"] == {"warranty_months": 36} and body["version"] == 1
    product = Product.objects.get(pk=body["id"])
    assert product.cost == Decimal("8000.5") and product.custom == {"warranty_months": 36}
    _post(client, f"{API}/products/", {"code": "SVC-1", "name": "安装服务", "kind": "service"})

    # The list answers through the same FilterSet as the HTML list (a category includes its children).
    listed = client.get(f"{API}/products/", {"category": hardware}).json()["results"]
    assert [r["code"] for r in listed] == ["SRV-001"]
    listed = client.get(f"{API}/products/", {"kind": "service"}).json()["results"]
    assert [r["code"] for r in listed] == ["SVC-1"]
    listed = client.get(f"{API}/products/", {"q": "机架"}).json()["results"]
    assert [r["code"] for r in listed] == ["SRV-001"]

    url = f"{API}/products/{product.pk}/"
    response = _patch(client, url, {"name": "机架服务器 2U", "version": 1, "custom": {"warranty_months": 48}})
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2 and response.json()["custom"] == {"warranty_months": 48}
    stale = _patch(client, url, {"name": "过期", "version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "catalog_stale"
    assert Product.objects.get(pk=product.pk).name == "机架服务器 2U"

    # A category that still holds products cannot go (409); the product can.
    response = client.delete(f"{API}/categories/{servers}/")
    assert response.status_code == 409 and response.json()["code"] == "catalog_in_use"
    assert client.delete(url).status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()
    assert client.get(url).status_code == 404


def test_category_tree_refuses_a_loop_and_renames(keeper: Any, client: Any) -> None:
    root = category_create(by=None, data={"name": "软件"})
    child = category_create(by=None, data={"name": "CRM", "parent": root})
    client.force_login(keeper.rep1)
    response = _patch(client, f"{API}/categories/{root.pk}/", {"parent": child.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "catalog_category_loop" and "parent" in response.json()["fields"]
    assert ProductCategory.objects.get(pk=root.pk).parent_id is None
    response = _patch(client, f"{API}/categories/{child.pk}/", {"name": "客户管理"})
    assert response.status_code == 200 and response.json()["parent"] == root.pk
    response = _post(client, f"{API}/categories/", {"name": "客户管理", "parent": root.pk})
    assert response.status_code == 400 and response.json()["fields"]
    assert client.delete(f"{API}/categories/{child.pk}/").status_code == 204


def test_bad_input_answers_400_with_field_messages_and_changes_nothing(keeper: Any, client: Any) -> None:
    existing = _product("SKU-1")
    price_list = price_list_create(by=None, data={"name": "标准价", "currency": cny()})
    client.force_login(keeper.rep1)
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("post", f"{API}/products/", {"code": "X-1", "name": "x", "tax_rate": "113"}, "tax_rate"),
        ("post", f"{API}/products/", {"code": "X-1", "name": "x", "cost": "-1"}, "cost"),
        ("post", f"{API}/products/", {"code": "sku-1", "name": "x"}, "code"),  # case-insensitive
        ("post", f"{API}/products/", {"code": "X-1", "name": "x", "kind": "gift"}, "kind"),
        ("patch", f"{API}/products/{existing.pk}/", {"tax_rate": "-0.5"}, "tax_rate"),
        (
            "post",
            f"{API}/price-lists/{price_list.pk}/prices/",
            {"product": existing.pk, "unit_price": "-5"},
            "unit_price",
        ),
        (
            "post",
            f"{API}/price-lists/{price_list.pk}/prices/",
            {"product": existing.pk, "unit_price": "5", "min_quantity": "-1"},
            "min_quantity",
        ),
        (
            "post",
            f"{API}/price-lists/",
            {"name": "倒序", "currency": cny().pk, "valid_from": "2026-06-30", "valid_until": "2026-06-01"},
            "valid_until",
        ),
        (
            "patch",
            f"{API}/price-lists/{price_list.pk}/",
            {"valid_from": "2026-06-30", "valid_until": "2026-06-01"},
            "valid_until",
        ),
        ("post", f"{API}/price-lists/", {"name": "标准价", "currency": cny().pk}, "name"),  # taken
        ("post", f"{API}/currencies/", {"code": "usd", "name": "美元"}, "code"),  # case-insensitive
        ("post", f"{API}/currencies/", {"code": "US1", "name": "?"}, "code"),
        (
            "post",
            f"{API}/exchange-rates/",
            {"currency": cny().pk, "valid_on": "2026-06-01", "rate": "1"},
            "currency",
        ),  # the company currency is 1
        (
            "post",
            f"{API}/exchange-rates/",
            {"currency": usd().pk, "valid_on": "2026-06-01", "rate": "0"},
            "rate",
        ),
    ]
    before = {
        m: list(m.objects.order_by("pk").values())
        for m in (Product, PriceList, PriceListItem, Currency, ExchangeRate)
    }
    for method, url, body, field in cases:
        response = (_post if method == "post" else _patch)(client, url, body)
        assert response.status_code == 400, (url, body, response.content)
        payload = response.json()
        assert set(payload) == {"code", "message", "fields"} and field in payload["fields"], (body, payload)
    after = {
        m: list(m.objects.order_by("pk").values())
        for m in (Product, PriceList, PriceListItem, Currency, ExchangeRate)
    }
    assert after == before


# --- price lists and their prices -----------------------------------------------------------------


def test_price_list_round_trip_and_its_prices(keeper: Any, client: Any) -> None:
    laptop, mouse = _product("NB-1"), _product("MS-1")
    client.force_login(keeper.rep1)
    response = _post(
        client,
        f"{API}/price-lists/",
        {
            "name": "2026 标准价",
            "currency": cny().pk,
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["currency_code"] == "CNY" and body["valid_until"] == "2026-12-31"
    prices = f"{API}/price-lists/{body['id']}/prices/"

    created = _post(client, prices, {"product": laptop.pk, "unit_price": "5999"})
    assert created.status_code == 201, created.content
    assert created.json()["unit_price"] == "5999.0000" and created.json()["min_quantity"] == "1.0000"
    tier = _post(client, prices, {"product": laptop.pk, "min_quantity": "10", "unit_price": "5699.5"})
    assert tier.status_code == 201
    replaced = _post(client, prices, {"product": laptop.pk, "min_quantity": "10.0", "unit_price": "5599"})
    assert replaced.status_code == 200 and replaced.json()["id"] == tier.json()["id"]
    _post(client, prices, {"product": mouse.pk, "unit_price": "99"})
    listed = client.get(prices).json()
    assert [(r["product_code"], r["min_quantity"], r["unit_price"]) for r in listed] == [
        ("MS-1", "1.0000", "99.0000"),
        ("NB-1", "1.0000", "5999.0000"),
        ("NB-1", "10.0000", "5599.0000"),
    ]
    assert len(client.get(prices, {"product": mouse.pk}).json()) == 1
    assert client.get(prices, {"product": "x"}).status_code == 400

    # Another list's price is not this list's.
    other = price_list_create(by=None, data={"name": "其他", "currency": cny()})
    foreign = price_set(price_list=other, product=mouse, unit_price="1", by=None)
    assert client.delete(f"{prices}{foreign.pk}/").status_code == 404
    assert PriceListItem.objects.filter(pk=foreign.pk).exists()
    assert client.delete(f"{prices}{tier.json()['id']}/").status_code == 204
    assert not PriceListItem.objects.filter(pk=tier.json()["id"]).exists()

    list_url = f"{API}/price-lists/{body['id']}/"
    response = _patch(client, list_url, {"is_active": False, "notes": "停用"})
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert [
        r["name"] for r in client.get(f"{API}/price-lists/", {"is_active": "false"}).json()["results"]
    ] == ["2026 标准价"]
    on_day = client.get(f"{API}/price-lists/", {"valid_on": "2027-01-05"}).json()["results"]
    assert [r["name"] for r in on_day] == ["其他"]
    assert client.delete(list_url).status_code == 204
    assert not PriceListItem.objects.filter(price_list_id=body["id"]).exists()


def test_a_reader_of_price_lists_sees_prices_but_cannot_set_them(keeper: Any, client: Any) -> None:
    product = _product()
    price_list = price_list_create(by=None, data={"name": "标准价", "currency": cny()})
    item = price_set(price_list=price_list, product=product, unit_price="10", by=None)
    client.force_login(keeper.viewer_all)  # view only
    prices = f"{API}/price-lists/{price_list.pk}/prices/"
    assert client.get(prices).status_code == 200
    assert _post(client, prices, {"product": product.pk, "unit_price": "1"}).status_code == 403
    assert client.delete(f"{prices}{item.pk}/").status_code == 403
    assert _patch(client, f"{API}/price-lists/{price_list.pk}/", {"name": "改"}).status_code == 403
    assert _post(client, f"{API}/price-lists/", {"name": "新", "currency": cny().pk}).status_code == 403
    item.refresh_from_db()
    assert item.unit_price == Decimal("10") and PriceList.objects.get().name == "标准价"
    client.force_login(keeper.nobody)
    assert client.get(prices).status_code == 404
    assert client.get(f"{API}/prices/resolve/", {"product": product.pk, "currency": "CNY"}).status_code == 403


# --- the price a line gets ------------------------------------------------------------------------


def test_resolve_explains_the_tier_and_prefers_the_accounts_own_list(keeper: Any, client: Any) -> None:
    product = _product("SRV-9")
    general = price_list_create(by=None, data={"name": "标准价", "currency": cny()})
    price_set(price_list=general, product=product, unit_price="100", by=None)
    price_set(price_list=general, product=product, unit_price="90", min_quantity="50", by=None)
    big = AccountFactory.create(name="大客户", owner=keeper.rep1)
    own = price_list_create(by=None, data={"name": "大客户协议价", "currency": cny(), "account": big})
    price_set(price_list=own, product=product, unit_price="80", by=None)
    elsewhere = AccountFactory.create(name="别人的客户", owner=keeper.rep2)
    client.force_login(keeper.rep1)
    url = f"{API}/prices/resolve/"

    body = client.get(url, {"product": product.pk, "currency": "cny", "quantity": "60"}).json()
    assert body == {
        "unit_price": "90.0000",
        "price_list": {"id": general.pk, "name": "标准价"},
        "min_quantity": "50.0000",
        "explanation": "From price list 标准价, tier ≥ 50",
    }
    body = client.get(url, {"product": product.pk, "currency": cny().pk, "quantity": "3"}).json()
    assert body["unit_price"] == "100.0000" and body["explanation"] == "From price list 标准价"
    body = client.get(url, {"product": product.pk, "currency": "CNY", "account": big.pk}).json()
    assert body["unit_price"] == "80.0000" and body["price_list"]["name"] == "大客户协议价"

    # No list in dollars; another rep's account is out of scope (404, not its price).
    none = client.get(url, {"product": product.pk, "currency": "USD"})
    assert none.status_code == 404 and none.json()["code"] == "not_found"
    assert (
        client.get(url, {"product": product.pk, "currency": "CNY", "account": elsewhere.pk}).status_code
        == 404
    )
    assert client.get(url, {"product": product.pk + 1000, "currency": "CNY"}).status_code == 404
    assert client.get(url, {"product": product.pk, "currency": "XXX"}).status_code == 404
    # A day before a dated list: the list does not apply.
    PriceList.objects.filter(pk=general.pk).update(valid_from=DAY)
    answer = client.get(url, {"product": product.pk, "currency": "CNY", "on": "2026-05-31"})
    assert answer.status_code == 404
    assert client.get(url, {"product": product.pk, "currency": "CNY", "on": "2026-06-01"}).status_code == 200
    bad = client.get(url, {"product": "x", "currency": "CNY", "quantity": "-1"})
    assert bad.status_code == 400 and {"product", "quantity"} <= set(bad.json()["fields"])


# --- currencies and exchange rates ----------------------------------------------------------------


def test_currencies_by_id_or_code_and_the_company_currency(keeper: Any, client: Any) -> None:
    client.force_login(keeper.rep1)
    response = _post(client, f"{API}/currencies/", {"code": "chf", "name": "瑞士法郎", "symbol": "Fr"})
    assert response.status_code == 201, response.content
    assert response.json()["code"] == "CHF" and response.json()["is_company"] is False
    chf = Currency.objects.get(code="CHF")
    assert client.get(f"{API}/currencies/chf/").json()["id"] == chf.pk
    assert client.get(f"{API}/currencies/{chf.pk}/").json()["code"] == "CHF"
    assert client.get(f"{API}/currencies/ZZZ/").status_code == 404
    # The code and the company flag do not change by an edit.
    response = _patch(client, f"{API}/currencies/CHF/", {"code": "CHE", "is_company": True, "minor_unit": 2})
    assert response.status_code == 200 and response.json()["code"] == "CHF"
    assert not Currency.objects.get(pk=chf.pk).is_company

    response = client.post(f"{API}/currencies/USD/make-company/")
    assert response.status_code == 200 and response.json()["is_company"] is True
    assert list(Currency.objects.filter(is_company=True).values_list("code", flat=True)) == ["USD"]
    refused = client.delete(f"{API}/currencies/USD/")
    assert refused.status_code == 400 and refused.json()["code"] == "catalog_company_currency"
    refused = _patch(client, f"{API}/currencies/USD/", {"is_active": False})
    assert refused.status_code == 400 and "is_active" in refused.json()["fields"]
    price_list_create(by=None, data={"name": "CHF list", "currency": chf})
    in_use = client.delete(f"{API}/currencies/CHF/")
    assert in_use.status_code == 409 and Currency.objects.filter(pk=chf.pk).exists()
    assert client.delete(f"{API}/currencies/GBP/").status_code == 204

    client.force_login(keeper.viewer_all)  # view only
    assert client.post(f"{API}/currencies/CNY/make-company/").status_code == 403
    assert Currency.objects.get(is_company=True).code == "USD"


def test_exchange_rates_are_set_per_day_filtered_and_deleted(keeper: Any, client: Any) -> None:
    client.force_login(keeper.rep1)
    url = f"{API}/exchange-rates/"
    first = _post(
        client, url, {"currency": usd().pk, "valid_on": "2026-06-01", "rate": "7.1", "source": "PBOC"}
    )
    assert first.status_code == 201, first.content
    assert first.json()["rate"] == "7.10000000" and first.json()["currency_code"] == "USD"
    again = _post(client, url, {"currency": usd().pk, "valid_on": "2026-06-01", "rate": "7.12"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert ExchangeRate.objects.get().rate == Decimal("7.12")
    eur = Currency.objects.get(code="EUR")
    _post(client, url, {"currency": eur.pk, "valid_on": "2026-06-02", "rate": "7.8"})
    assert [r["currency_code"] for r in client.get(url, {"currency": eur.pk}).json()["results"]] == ["EUR"]
    assert len(client.get(url, {"valid_after": "2026-06-02"}).json()["results"]) == 1
    assert _patch(client, f"{url}{first.json()['id']}/", {"rate": "1"}).status_code == 405
    assert client.delete(f"{url}{first.json()['id']}/").status_code == 204
    assert list(ExchangeRate.objects.values_list("currency__code", flat=True)) == ["EUR"]

    client.force_login(keeper.viewer_all)  # view only: neither a new rate nor replacing one
    response = _post(client, url, {"currency": eur.pk, "valid_on": "2026-06-02", "rate": "9"})
    assert response.status_code == 403 and ExchangeRate.objects.get().rate == Decimal("7.8")


# --- who may do what ------------------------------------------------------------------------------

# Products have no owner: whoever holds an action holds it on every product, whatever the scope.
CATALOG_SCENARIOS = tuple(
    s if s.scope is None else Scenario(s.name, s.actor, s.role, s.scope, frozenset(OWNERS)) for s in SCENARIOS
)


def test_product_permission_matrix(company: Any, client: Any) -> None:
    products = f"{API}/products/"
    PermissionMatrix(
        model="catalog.product",
        make=lambda owner: _product(),
        endpoints=[
            Endpoint("api list", "get", lambda o: products, Action.VIEW, on="list", api=True),
            Endpoint("api retrieve", "get", lambda o: f"{products}{o.pk}/", Action.VIEW, api=True),
            Endpoint(
                "api create",
                "post",
                lambda o: products,
                Action.ADD,
                on="create",
                api=True,
                data=lambda o: {"code": f"NEW-{next(_codes)}", "name": "新产品"},
                writes=True,
                ok=(201,),
            ),
            Endpoint(
                "api update",
                "patch",
                lambda o: f"{products}{o.pk}/",
                Action.CHANGE,
                api=True,
                data=lambda o: {"name": "改名", "tax_rate": "6"},
                writes=True,
            ),
            Endpoint(
                "api delete",
                "delete",
                lambda o: f"{products}{o.pk}/",
                Action.DELETE,
                api=True,
                writes=True,
                ok=(204,),
            ),
        ],
        snapshot=model_to_dict,
        grant=grant,
        scenarios=CATALOG_SCENARIOS,
    ).run(company, client)


def test_a_reader_of_products_cannot_write_them(keeper: Any, client: Any) -> None:
    product = _product("KEEP-1")
    before = model_to_dict(product)
    client.force_login(keeper.viewer_all)
    assert client.get(f"{API}/products/{product.pk}/").status_code == 200
    assert _patch(client, f"{API}/products/{product.pk}/", {"name": "改"}).status_code == 403
    assert client.delete(f"{API}/products/{product.pk}/").status_code == 403
    assert _post(client, f"{API}/products/", {"code": "NEW", "name": "新"}).status_code == 403
    assert model_to_dict(Product.objects.get()) == before
