"""The catalog's services and selectors: currencies and rates, categories, products, price lists
and the one price selector (issue 7)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from kehu.catalog.models import Currency, ExchangeRate, PriceListItem, Product
from kehu.catalog.selectors import (
    FOR_ACCOUNT,
    FOR_EVERYONE,
    FOR_LEVEL,
    price_for,
    product_list,
    rate_on,
    to_company_currency,
)
from kehu.catalog.services import (
    CatalogError,
    category_create,
    category_delete,
    category_update,
    currency_create,
    currency_delete,
    currency_make_company,
    currency_update,
    exchange_rate_set,
    price_list_create,
    price_list_update,
    price_set,
    product_create,
    product_update,
)
from kehu.core.choices import Action
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db

D = Decimal
DAY = dt.date(2026, 6, 1)


def cny() -> Currency:
    return Currency.objects.get(code="CNY")


def usd() -> Currency:
    return Currency.objects.get(code="USD")


def test_a_new_installation_has_the_currencies_of_the_settings_cny_the_company_one() -> None:
    codes = set(Currency.objects.values_list("code", flat=True))
    assert {"CNY", "USD", "EUR", "HKD", "JPY", "GBP"} <= codes
    assert list(Currency.objects.filter(is_company=True).values_list("code", flat=True)) == ["CNY"]
    assert Currency.objects.get(code="JPY").minor_unit == 0


def test_company_currency_switches_and_is_protected(company: Any) -> None:
    by = company.admin
    with pytest.raises(CatalogError) as caught:
        currency_update(currency=cny(), by=by, data={"is_active": False})
    assert caught.value.fields == {"is_active": [str(caught.value.fields["is_active"][0])]}
    assert cny().is_active
    with pytest.raises(CatalogError):
        currency_delete(currency=cny(), by=by)
    currency_make_company(currency=usd(), by=by)
    assert list(Currency.objects.filter(is_company=True).values_list("code", flat=True)) == ["USD"]
    currency_update(currency=cny(), by=by, data={"is_active": False})
    assert not cny().is_active
    with pytest.raises(CatalogError) as bad:
        currency_create(by=by, data={"code": "yuan", "name": "?"})
    assert "code" in bad.value.fields
    made = currency_create(by=by, data={"code": " myr ", "name": "林吉特", "minor_unit": 2})
    assert made.code == "MYR"


def test_exchange_rates_by_day_and_conversion(company: Any) -> None:
    by = company.admin
    exchange_rate_set(currency=usd(), valid_on=dt.date(2026, 1, 1), rate="7.10", by=by)
    exchange_rate_set(currency=usd(), valid_on=dt.date(2026, 3, 1), rate=D("7.25"), by=by)
    exchange_rate_set(currency=usd(), valid_on=dt.date(2026, 3, 1), rate="7.2512", by=by)  # replaced
    assert ExchangeRate.objects.filter(currency__code="USD").count() == 2
    assert rate_on("USD", dt.date(2025, 12, 31)) is None
    assert rate_on("USD", dt.date(2026, 2, 28)) == D("7.10")
    assert rate_on(usd(), dt.date(2026, 3, 1)) == D("7.2512")
    assert rate_on("CNY", DAY) == 1
    # 12.34 USD × 7.2512 = 89.479808 → 89.48 (half-up, CNY has 2 places)
    assert to_company_currency(D("12.34"), "USD", DAY) == D("89.48")
    assert to_company_currency(D("1"), "EUR", DAY) is None
    # the converter for many amounts gives the same answers, reading each currency's rates once
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kehu.catalog.selectors import CompanyCurrencyConverter

    convert = CompanyCurrencyConverter()
    days = [dt.date(2025, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 2, 28), dt.date(2026, 3, 1), DAY]
    with CaptureQueriesContext(connection) as queries:
        for day in days:
            for code in ("USD", "CNY", "EUR"):
                assert convert(D("12.34"), code, day) == to_company_currency(D("12.34"), code, day)
    converter_queries = [q for q in queries.captured_queries if "catalog_exchangerate" in q["sql"]]
    # (to_company_currency's own reads are in there too: the converter adds one per currency)
    assert len(converter_queries) == len(days) * 2 + 2
    for bad in ("0", "-1", "abc", "NaN"):
        with pytest.raises(CatalogError) as caught:
            exchange_rate_set(currency=usd(), valid_on=DAY, rate=bad, by=by)
        assert "rate" in caught.value.fields
    with pytest.raises(CatalogError) as company_rate:
        exchange_rate_set(currency=cny(), valid_on=DAY, rate="1", by=by)
    assert company_rate.value.code == CatalogError.COMPANY_CURRENCY


def test_category_tree_refuses_loops_and_keeps_products(company: Any) -> None:
    by = company.admin
    top = category_create(by=by, data={"name": "硬件"})
    mid = category_create(by=by, data={"name": "服务器", "parent": top})
    low = category_create(by=by, data={"name": "机架式", "parent": mid})
    with pytest.raises(CatalogError) as caught:
        category_update(category=top, by=by, data={"parent": low})
    assert caught.value.code == CatalogError.CATEGORY_LOOP
    top.refresh_from_db()
    assert top.parent_id is None
    with pytest.raises(CatalogError):
        category_create(by=by, data={"name": "服务器", "parent": top})  # same name under one parent
    product_create(by=by, data={"code": "SRV-1", "name": "R740", "category": low})
    with pytest.raises(CatalogError) as used:
        category_delete(category=low, by=by)
    assert used.value.code == CatalogError.IN_USE


def test_products_are_checked(company: Any) -> None:
    by = company.admin
    made = product_create(
        by=by, data={"code": "SKU-001", "name": "云服务器", "tax_rate": "6", "cost": "100.5", "unit": "台"}
    )
    assert (made.tax_rate, made.cost, made.version) == (D("6"), D("100.5"), 1)
    for data, field in (
        ({"code": "sku-001", "name": "重复"}, "code"),
        ({"code": "SKU-2", "name": "税率", "tax_rate": "113"}, "tax_rate"),
        ({"code": "SKU-3", "name": "成本", "cost": "-1"}, "cost"),
        ({"code": "SKU-4", "name": "成本", "cost": "十块"}, "cost"),
        ({"code": "", "name": "无编码"}, "code"),
        ({"code": "SKU-5", "name": ""}, "name"),
    ):
        with pytest.raises(CatalogError) as caught:
            product_create(by=by, data=data)
        assert field in caught.value.fields, (data, caught.value.fields)
    assert Product.objects.count() == 1
    updated = product_update(product=made, by=by, data={"name": "云服务器 Pro"}, version=1)
    assert updated.version == 2
    with pytest.raises(CatalogError) as stale:
        product_update(product=made, by=by, data={"name": "旧"}, version=1)
    assert stale.value.code == CatalogError.STALE
    assert Product.objects.get().name == "云服务器 Pro"


def test_who_sees_products(company: Any) -> None:
    product_create(by=company.admin, data={"code": "P-1", "name": "产品"})
    assert list(product_list(user=company.nobody)) == []
    assert [p.code for p in product_list(user=company.admin)] == ["P-1"]
    grant(company.role_rep, "catalog.product", Action.VIEW)
    assert [p.code for p in product_list(user=company.rep1)] == ["P-1"]
    assert list(product_list(user=company.rep1, action=Action.CHANGE)) == []


@pytest.fixture
def priced(company: Any) -> dict[str, Any]:
    by = company.admin
    product = product_create(by=by, data={"code": "P-100", "name": "软件许可"})
    general = price_list_create(by=by, data={"name": "标准价 2026", "currency": cny()})
    price_set(price_list=general, product=product, unit_price="100", by=by)
    price_set(price_list=general, product=product, unit_price="90", min_quantity="100", by=by)
    vip = price_list_create(by=by, data={"name": "VIP 价", "currency": cny(), "customer_level": "VIP"})
    price_set(price_list=vip, product=product, unit_price="85", by=by)
    dollars = price_list_create(by=by, data={"name": "USD list", "currency": usd()})
    price_set(price_list=dollars, product=product, unit_price="14.5", by=by)
    return {"product": product, "general": general, "vip": vip, "dollars": dollars}


def test_the_price_of_a_line_and_why(company: Any, priced: dict[str, Any]) -> None:
    product = priced["product"]
    plain = price_for(product=product, currency="CNY", quantity=D("10"), on=DAY)
    assert plain is not None
    assert (plain.unit_price, plain.price_list, plain.specificity) == (
        D("100"),
        priced["general"],
        FOR_EVERYONE,
    )
    tier = price_for(product=product, currency="CNY", quantity=D("100"), on=DAY)
    assert tier is not None and tier.unit_price == D("90")
    with translation.override("zh-hans"):
        assert plain.explanation == "来自价目表 标准价 2026"
        assert tier.explanation == "来自价目表 标准价 2026，数量 ≥ 100 档"
    with translation.override("en"):
        assert plain.explanation == "From price list 标准价 2026"
        assert tier.explanation == "From price list 标准价 2026, tier ≥ 100"
    assert price_for(product=product, currency="CNY", quantity=D("99.99"), on=DAY).unit_price == D("100")  # type: ignore[union-attr]

    vip_account = AccountFactory(name="大客户", level="VIP", owner=company.rep1)
    vip = price_for(product=product, currency="CNY", quantity=D("500"), account=vip_account, on=DAY)
    assert vip is not None and (vip.unit_price, vip.specificity) == (D("85"), FOR_LEVEL)

    own = price_list_create(
        by=company.admin, data={"name": "大客户协议价", "currency": cny(), "account": vip_account}
    )
    price_set(price_list=own, product=product, unit_price="80", by=company.admin)
    mine = price_for(product=product, currency="CNY", account=vip_account, on=DAY)
    assert mine is not None and (mine.unit_price, mine.specificity) == (D("80"), FOR_ACCOUNT)
    other = AccountFactory(name="普通客户", level="B", owner=company.rep1)
    assert price_for(product=product, currency="CNY", account=other, on=DAY).unit_price == D("100")  # type: ignore[union-attr]

    dollars = price_for(product=product, currency=usd(), on=DAY)
    assert dollars is not None and dollars.unit_price == D("14.5")
    assert price_for(product=product, currency="EUR", on=DAY) is None


def test_price_lists_apply_between_their_dates_and_while_active(company: Any, priced: dict[str, Any]) -> None:
    by, product = company.admin, priced["product"]
    newer = price_list_create(
        by=by,
        data={
            "name": "促销价",
            "currency": cny(),
            "valid_from": dt.date(2026, 5, 1),
            "valid_until": dt.date(2026, 6, 30),
        },
    )
    price_set(price_list=newer, product=product, unit_price="70", by=by)
    assert price_for(product=product, currency="CNY", on=dt.date(2026, 4, 30)).unit_price == D("100")  # type: ignore[union-attr]
    assert price_for(product=product, currency="CNY", on=dt.date(2026, 5, 1)).unit_price == D("70")  # type: ignore[union-attr]
    assert price_for(product=product, currency="CNY", on=dt.date(2026, 7, 1)).unit_price == D("100")  # type: ignore[union-attr]
    price_list_update(price_list=newer, by=by, data={"is_active": False})
    assert price_for(product=product, currency="CNY", on=DAY).unit_price == D("100")  # type: ignore[union-attr]
    with pytest.raises(CatalogError) as caught:
        price_list_update(price_list=newer, by=by, data={"valid_until": dt.date(2026, 4, 1)})
    assert "valid_until" in caught.value.fields


def test_prices_are_checked_and_tiers_replace(company: Any, priced: dict[str, Any]) -> None:
    by, product, general = company.admin, priced["product"], priced["general"]
    price_set(price_list=general, product=product, unit_price="95", by=by)  # the tier from 1 again
    assert PriceListItem.objects.filter(price_list=general, product=product).count() == 2
    for price, quantity, field in (
        ("-1", "1", "unit_price"),
        ("1", "-5", "min_quantity"),
        ("x", "1", "unit_price"),
    ):
        with pytest.raises(CatalogError) as caught:
            price_set(price_list=general, product=product, unit_price=price, min_quantity=quantity, by=by)
        assert field in caught.value.fields
    assert price_for(product=product, currency="CNY", on=DAY).unit_price == D("95")  # type: ignore[union-attr]


def test_documents_use_the_active_currencies_and_the_settings_without_records(company: Any) -> None:
    from django.test import override_settings

    from kehu.catalog.selectors import company_currency_code, currency_codes

    assert currency_codes()[0] == "CNY" and "USD" in currency_codes()
    currency_update(currency=usd(), by=company.admin, data={"is_active": False})
    assert "USD" not in currency_codes()
    assert currency_codes(include="USD")[-1] == "USD"  # a record's current, now inactive code
    assert company_currency_code() == "CNY"
    Currency.objects.all().delete()
    with override_settings(KEHU_CURRENCIES=["CNY", "EUR"], KEHU_COMPANY_CURRENCY="EUR"):
        assert currency_codes() == ["CNY", "EUR"]
        assert company_currency_code() == "EUR"
