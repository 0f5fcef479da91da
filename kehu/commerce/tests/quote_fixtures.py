"""Fixtures of the quote and approval tests: the root `company` with quote grants per scope, the
region managers set, CNY as the company currency and a USD rate, products with cost and a price
list. The factories write rows directly; tests of amounts go through the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from kehu.catalog.models import Currency, ExchangeRate
from kehu.catalog.tests.factories import PriceListFactory, PriceListItemFactory, ProductFactory
from kehu.core.choices import Action, Scope
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

from ..models import Quote
from ..services.quotes import quote_create, quote_line_add

QUOTE = "commerce.quote"
ALL_ACTIONS = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)


@dataclass
class QuoteWorld:
    company: Any
    cny: Currency
    usd: Currency
    product: Any  # 100.00 CNY in the standard list, cost 60, tax 13 %
    cheap: Any  # 10.00 CNY, cost 8, tax 6 %
    price_list: Any
    usd_list: Any
    account: Any  # owned by rep1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.company, name)


def grant_quotes(company: Any) -> None:
    grant(company.role_rep, QUOTE, *ALL_ACTIONS, scope=Scope.OWN)
    grant(company.role_manager, QUOTE, *ALL_ACTIONS, scope=Scope.DEPARTMENT)
    grant(company.role_director, QUOTE, *ALL_ACTIONS, scope=Scope.DEPARTMENT_AND_BELOW)
    grant(company.role_all, QUOTE, Action.VIEW, scope=Scope.ALL)
    for role in (company.role_rep, company.role_manager, company.role_director, company.role_all):
        grant(role, "customers.account", Action.VIEW, Action.CHANGE, scope=Scope.ALL)
        grant(role, "customers.contact", Action.VIEW, scope=Scope.ALL)
        grant(role, "catalog.product", Action.VIEW, scope=Scope.ALL)
        grant(role, "catalog.pricelist", Action.VIEW, scope=Scope.ALL)
        grant(role, "sales.opportunity", Action.VIEW, Action.ADD, Action.CHANGE, scope=Scope.ALL)


@pytest.fixture
def world(company: Any) -> QuoteWorld:
    grant_quotes(company)
    company.north.manager = company.manager1
    company.north.save(update_fields=["manager"])
    company.sales.manager = company.director
    company.sales.save(update_fields=["manager"])
    Currency.objects.filter(is_company=True).exclude(code="CNY").update(is_company=False)
    cny, _ = Currency.objects.update_or_create(
        code="CNY", defaults={"name": "人民币", "is_company": True, "is_active": True, "minor_unit": 2}
    )
    usd, _ = Currency.objects.update_or_create(
        code="USD", defaults={"name": "美元", "is_active": True, "minor_unit": 2}
    )
    ExchangeRate.objects.create(currency=usd, valid_on=dt.date(2000, 1, 1), rate=Decimal("7.2"))
    product = ProductFactory.create(tax_rate=Decimal("13"), cost=Decimal("60"))
    cheap = ProductFactory.create(tax_rate=Decimal("6"), cost=Decimal("8"))
    price_list = PriceListFactory.create(name="标准价", currency=cny)
    PriceListItemFactory.create(price_list=price_list, product=product, unit_price=Decimal("100"))
    PriceListItemFactory.create(
        price_list=price_list, product=product, unit_price=Decimal("90"), min_quantity=Decimal("100")
    )
    PriceListItemFactory.create(price_list=price_list, product=cheap, unit_price=Decimal("10"))
    usd_list = PriceListFactory.create(name="USD list", currency=usd)
    PriceListItemFactory.create(price_list=usd_list, product=product, unit_price=Decimal("15"))
    account = AccountFactory.create(owner=company.rep1)
    return QuoteWorld(company, cny, usd, product, cheap, price_list, usd_list, account)


def make_quote(world: QuoteWorld, *, by: Any = None, lines: int = 1, **kwargs: Any) -> Quote:
    """A draft by rep1 (or `by`) for the world's account with `lines` lines of 2 × 100.00 CNY."""
    by = by or world.rep1
    quote = quote_create(by=by, account=kwargs.pop("account", world.account), **kwargs)
    for _ in range(lines):
        quote_line_add(quote=quote, by=by, data={"product": world.product, "quantity": Decimal("2")})
    quote.refresh_from_db()
    return quote
