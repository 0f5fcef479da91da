"""The demo company's catalog (stage "catalog"), at the tests' scale (conftest: 2 %) and in full."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kehu.catalog.models import ExchangeRate, PriceList, PriceListItem, Product, ProductCategory
from kehu.catalog.selectors import price_for, product_list, rate_on
from kehu.customers.models import Account
from kehu.customfields.models import PicklistItem
from kehu.demo import catalog
from kehu.demo.loader import load_demo
from kehu.users.models import User

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        ProductCategory.objects.count(),
        Product.objects.count(),
        PriceList.objects.count(),
        PriceListItem.objects.count(),
        ExchangeRate.objects.count(),
    )


def test_catalog_demo_at_test_scale() -> None:
    summary = load_demo(only={"org", "catalog"})
    assert summary.loaded == ["org", "catalog"]
    # a two-level tree: four roots, twelve leaves, every one with an English name
    roots = ProductCategory.objects.filter(parent__isnull=True)
    assert set(roots.values_list("name", flat=True)) == {"硬件", "软件", "服务", "耗材"}
    leaves = ProductCategory.objects.filter(parent__isnull=False)
    assert leaves.count() == 12 and not leaves.filter(children__isnull=False).exists()
    assert not ProductCategory.objects.filter(name_en="").exists()
    # the scaled count of products, two in each leaf category
    n = catalog.expected_products()
    assert n == 24 and Product.objects.count() == n == summary.created["products"]
    for leaf in leaves:
        assert leaf.products.count() == 2
    assert not Product.objects.filter(name_en="").exists()
    for p in Product.objects.select_related("category__parent"):
        price = price_for(product=p, currency="CNY")
        assert price is not None and p.cost is not None and Decimal(0) < p.cost < price.unit_price
        assert p.unit in {"台", "套", "个", "人天", "年", "次", "箱"}
        if p.category.parent.name in ("硬件", "耗材"):
            assert (p.kind, p.tax_rate) == ("product", Decimal("13"))
        else:
            assert p.tax_rate == Decimal("6")
            assert p.kind == ("service" if p.category.parent.name == "服务" else "product")
    # every product in the standard list, the VIP list and the USD list
    standard = PriceList.objects.get(name="标准价 2026")
    vip = PriceList.objects.get(name="VIP 协议价")
    usd = PriceList.objects.get(name="USD Price List 2026")
    assert (standard.currency.code, vip.currency.code, usd.currency.code) == ("CNY", "CNY", "USD")
    assert standard.customer_level == "" and usd.customer_level == ""
    levels = set(PicklistItem.objects.filter(picklist__code="customer_level").values_list("value", flat=True))
    assert vip.customer_level in levels
    for price_list in (standard, vip, usd):
        priced = set(price_list.items.filter(min_quantity=1).values_list("product_id", flat=True))
        assert priced == set(Product.objects.values_list("pk", flat=True))


def test_prices_tiers_vip_and_rates() -> None:
    load_demo(only={"org", "catalog"})
    tiered = Product.objects.get(code="HW-END-001")
    base = price_for(product=tiered, currency="CNY", quantity=Decimal("3"))
    tier10 = price_for(product=tiered, currency="CNY", quantity=Decimal("12"))
    tier50 = price_for(product=tiered, currency="USD", quantity=Decimal("60"))
    assert base is not None and tier10 is not None and tier50 is not None
    assert (base.unit_price, base.price_list.name) == (Decimal("4600"), "标准价 2026")
    assert (tier10.unit_price, tier10.min_quantity) == (Decimal("4370"), Decimal("10"))
    assert tier50.price_list.name == "USD Price List 2026" and tier50.min_quantity == Decimal("50")
    usd_base = price_for(product=tiered, currency="USD")
    assert usd_base is not None and tier50.unit_price < usd_base.unit_price
    assert PriceListItem.objects.filter(min_quantity__gt=1).values("product").distinct().count() >= 5
    # a VIP account gets the VIP list, a level-A account the standard one
    vip = Account(name="VIP 客户", level="vip")
    plain = Account(name="A 客户", level="a")
    vip_price = price_for(product=tiered, currency="CNY", account=vip)
    assert vip_price is not None and vip_price.price_list.name == "VIP 协议价"
    assert vip_price.unit_price < base.unit_price
    plain_price = price_for(product=tiered, currency="CNY", account=plain)
    assert plain_price is not None and plain_price.price_list.name == "标准价 2026"
    # USD rates for the last twelve months, this one included, around 7.1–7.3; a few EUR and HKD
    today = timezone.localdate()
    usd_rates = ExchangeRate.objects.filter(currency__code="USD")
    assert usd_rates.count() == 12
    assert usd_rates.filter(valid_on=today.replace(day=1)).exists()
    rate = rate_on("USD", today)
    assert rate is not None and Decimal("7.1") <= rate <= Decimal("7.3")
    assert ExchangeRate.objects.filter(currency__code="EUR").count() >= 3
    assert ExchangeRate.objects.filter(currency__code="HKD").count() >= 3
    assert all(Decimal("7.1") <= r <= Decimal("7.3") for r in usd_rates.values_list("rate", flat=True))


def test_second_run_adds_nothing_and_the_catalog_is_deterministic() -> None:
    load_demo(only={"org", "catalog"})
    before = counts()
    fields = ("price_list__name", "product__code", "min_quantity", "unit_price")
    items = PriceListItem.objects.values_list(*fields)
    prices = set(items)
    again = load_demo(only={"org", "catalog"})
    assert again.loaded == [] and "catalog" in again.skipped
    refreshed = load_demo(only={"org", "catalog"}, refresh=True)
    assert refreshed.loaded == ["org", "catalog"] and refreshed.created == {}
    assert counts() == before
    # an admin's change survives a refresh; a deleted demo product comes back with the same data
    product = Product.objects.get(code="SW-CRM-001")
    Product.objects.filter(pk=product.pk).update(name="改过的名称")
    PriceListItem.objects.filter(product__code="HW-NET-001").delete()
    Product.objects.filter(code="HW-NET-001").delete()
    load_demo(only={"catalog"}, refresh=True)
    assert Product.objects.get(code="SW-CRM-001").name == "改过的名称"
    assert counts() == before
    assert set(items.all()) == prices


def test_demo_roles_on_the_catalog() -> None:
    load_demo(only={"org", "catalog"})
    users = {u.username: u for u in User.objects.all()}
    n = catalog.expected_products()
    for username in ("rep1", "manager1", "director", "admin"):
        assert product_list(user=users[username]).count() == n, username
        assert PriceList.objects.restrict(users[username], "view").count() == 3
        assert ProductCategory.objects.restrict(users[username], "view").count() == 16
    assert not product_list(user=users["rep1"], action="change").exists()
    assert not PriceList.objects.restrict(users["rep1"], "add").exists()
    for username in ("manager2", "director"):
        assert product_list(user=users[username], action="change").count() == n
        assert PriceList.objects.restrict(users[username], "change").count() == 3
        assert not ProductCategory.objects.restrict(users[username], "change").exists()
    assert not product_list(user=users["agent1"]).exists()


def test_rerun_grants_catalog_rights_to_roles_loaded_before() -> None:
    from kehu.demo.models import DemoStage
    from kehu.users.models import RolePermission

    load_demo(only={"org", "catalog"})
    # a database whose "org" stage (version 4) ran before the roles had catalog grants
    RolePermission.objects.filter(model__startswith="catalog.").delete()
    DemoStage.objects.filter(key="org").update(version=4)
    rep = User.objects.get(username="rep2")
    assert not product_list(user=rep).exists()
    load_demo(only={"org"})  # the newer "org" stage runs again and grants them
    rep = User.objects.get(username="rep2")
    assert product_list(user=rep).exists()


def test_full_scale(settings: Any) -> None:
    settings.KEHU_DEMO_SCALE = 1
    assert catalog.expected_products() == 100
    summary = load_demo(only={"org", "catalog"})
    assert Product.objects.count() == summary.created["products"] == 100
    assert len(set(Product.objects.values_list("code", flat=True))) == 100
    assert ProductCategory.objects.count() == 16
    tiered = Product.objects.filter(prices__min_quantity__gt=1).distinct().count()
    assert tiered == len(catalog.TIERED) == 15
    standard = PriceList.objects.get(name="标准价 2026")
    assert standard.items.filter(min_quantity=1).count() == 100
    for p in Product.objects.all():
        price = price_for(product=p, currency="CNY")
        assert price is not None and p.cost is not None and p.cost < price.unit_price
    disk = Product.objects.get(code="HW-STO-005")
    tier = price_for(product=disk, currency="CNY", quantity=Decimal("100"))
    assert tier is not None and (tier.unit_price, tier.min_quantity) == (Decimal("2340"), Decimal("50"))
