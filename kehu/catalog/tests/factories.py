"""Catalog records for tests (the API fuzz test seeds with them)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from kehu.catalog.models import Currency, ExchangeRate, PriceList, PriceListItem, Product, ProductCategory


class ProductCategoryFactory(factory.django.DjangoModelFactory[ProductCategory]):
    class Meta:
        model = ProductCategory

    name = factory.Sequence(lambda n: f"分类{n}")


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"产品{n}")
    category = factory.SubFactory(ProductCategoryFactory)
    unit = "台"
    tax_rate = Decimal("13")


def _currency(code: str) -> Currency:
    currency, _ = Currency.objects.get_or_create(code=code, defaults={"name": code})
    return currency


class PriceListFactory(factory.django.DjangoModelFactory[PriceList]):
    class Meta:
        model = PriceList

    name = factory.Sequence(lambda n: f"价目表{n}")
    currency = factory.LazyFunction(lambda: _currency("CNY"))


class PriceListItemFactory(factory.django.DjangoModelFactory[PriceListItem]):
    class Meta:
        model = PriceListItem

    price_list = factory.SubFactory(PriceListFactory)
    product = factory.SubFactory(ProductFactory)
    unit_price = Decimal("100")


class ExchangeRateFactory(factory.django.DjangoModelFactory[ExchangeRate]):
    class Meta:
        model = ExchangeRate

    currency = factory.LazyFunction(lambda: _currency("USD"))
    valid_on = factory.Sequence(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=n))
    rate = Decimal("7.1")
