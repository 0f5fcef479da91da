"""Pages of products and price lists: lists, detail pages, edit, prices, permissions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kehu.catalog.models import Currency, PriceList, PriceListItem, Product
from kehu.catalog.services import price_list_create, price_set, product_create
from kehu.core.choices import Action
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def catalog(company: Any) -> dict[str, Any]:
    by = company.admin
    product = product_create(
        by=by, data={"code": "SKU-1", "name": "云服务器", "unit": "台", "tax_rate": "13"}
    )
    price_list = price_list_create(
        by=by, data={"name": "标准价", "currency": Currency.objects.get(code="CNY")}
    )
    price_set(price_list=price_list, product=product, unit_price="1999", by=by)
    price_set(price_list=price_list, product=product, unit_price="1799", min_quantity="10", by=by)
    return {"product": product, "price_list": price_list}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_pages_render_for_an_admin(company: Any, catalog: dict[str, Any], client: Any, language: str) -> None:
    client.force_login(company.admin)
    client.cookies["django_language"] = language
    product, price_list = catalog["product"], catalog["price_list"]
    words = {"zh-hans": ("产品", "价目表", "起订数量"), "en": ("Products", "Price lists", "From quantity")}[
        language
    ]
    listing = client.get("/catalog/products/", headers={"Accept-Language": language})
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "SKU-1" in html and "云服务器" in html and words[0] in html
    detail = client.get(product.get_absolute_url(), headers={"Accept-Language": language}).content.decode()
    assert "标准价" in detail and "1799" in detail and words[2] in detail
    lists = client.get("/catalog/price-lists/", headers={"Accept-Language": language}).content.decode()
    assert "标准价" in lists and words[1] in lists
    prices = client.get(price_list.get_absolute_url(), headers={"Accept-Language": language}).content.decode()
    assert "SKU-1" in prices and "1999" in prices and "data-price-form" in prices
    assert client.get("/catalog/products/?q=sku-1").context["page"].object_list == [product]
    assert client.get("/catalog/products/?q=nothing").context["page"].object_list == []


def test_create_and_edit_a_product_with_field_errors(company: Any, client: Any) -> None:
    client.force_login(company.admin)
    response = client.post(
        "/catalog/products/add/", {"code": "SKU-9", "name": "交换机", "kind": "product", "tax_rate": "13"}
    )
    assert response.status_code == 302
    product = Product.objects.get(code="SKU-9")
    bad = client.post(
        "/catalog/products/add/", {"code": "sku-9", "name": "重复", "kind": "product", "tax_rate": "13"}
    )
    assert bad.status_code == 400
    assert "sku-9" not in set(Product.objects.values_list("code", flat=True))
    assert "SKU-9" in bad.content.decode()  # "another product has the code SKU-9"
    edit = client.post(
        f"/catalog/products/{product.pk}/edit/",
        {
            "code": "SKU-9",
            "name": "交换机 48 口",
            "kind": "product",
            "tax_rate": "6",
            "version": product.version,
        },
        headers=HTMX,
    )
    assert edit.status_code in (200, 204)
    product.refresh_from_db()
    assert (product.name, product.tax_rate, product.version) == ("交换机 48 口", Decimal("6"), 2)
    stale = client.post(
        f"/catalog/products/{product.pk}/edit/",
        {"code": "SKU-9", "name": "旧版本", "kind": "product", "tax_rate": "6", "version": 1},
    )
    assert stale.status_code == 400
    product.refresh_from_db()
    assert product.name == "交换机 48 口"


def test_prices_are_set_and_removed_on_the_price_list_page(
    company: Any, catalog: dict[str, Any], client: Any
) -> None:
    client.force_login(company.admin)
    price_list, product = catalog["price_list"], catalog["product"]
    url = f"/catalog/price-lists/{price_list.pk}/prices/"
    response = client.post(
        url, {"product": product.pk, "min_quantity": "100", "unit_price": "1599"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "1599" in response.content.decode()
    tiers = dict(
        PriceListItem.objects.filter(price_list=price_list).values_list("min_quantity", "unit_price")
    )
    assert tiers == {
        Decimal("1"): Decimal("1999"),
        Decimal("10"): Decimal("1799"),
        Decimal("100"): Decimal("1599"),
    }
    bad = client.post(url, {"product": product.pk, "min_quantity": "1", "unit_price": "-5"}, headers=HTMX)
    assert bad.status_code == 200 and "is-invalid" in bad.content.decode()
    assert PriceListItem.objects.get(price_list=price_list, min_quantity=1).unit_price == Decimal("1999")
    item = PriceListItem.objects.get(price_list=price_list, min_quantity=100)
    gone = client.post(f"{url}{item.pk}/delete/", headers=HTMX)
    assert gone.status_code == 200
    assert not PriceListItem.objects.filter(pk=item.pk).exists()


def test_who_may_see_and_change_the_catalog(company: Any, catalog: dict[str, Any], client: Any) -> None:
    product, price_list = catalog["product"], catalog["price_list"]
    anonymous = client.get("/catalog/products/")
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    client.force_login(company.nobody)
    assert client.get("/catalog/products/").status_code == 403
    assert client.get(product.get_absolute_url()).status_code == 404
    assert client.post(f"/catalog/products/{product.pk}/delete/").status_code == 404
    grant(company.role_rep, "catalog.product", Action.VIEW)
    grant(company.role_rep, "catalog.pricelist", Action.VIEW)
    client.force_login(company.rep1)
    assert client.get(product.get_absolute_url()).status_code == 200
    page = client.get(price_list.get_absolute_url()).content.decode()
    assert "data-price-form" not in page  # viewing is not changing
    assert client.get(f"/catalog/products/{product.pk}/edit/").status_code == 403
    refused = client.post(
        f"/catalog/price-lists/{price_list.pk}/prices/",
        {"product": product.pk, "min_quantity": "1", "unit_price": "1"},
    )
    assert refused.status_code == 403
    assert PriceListItem.objects.get(price_list=price_list, min_quantity=1).unit_price == Decimal("1999")
    assert PriceList.objects.count() == 1 and Product.objects.count() == 1
