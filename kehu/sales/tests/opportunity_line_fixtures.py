"""Factories and fixtures of the opportunity line tests (the API fuzz test seeds with the factory)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory
import pytest

from kehu.catalog.tests.factories import ProductFactory
from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

from ..models import OpportunityLine
from .factories import OpportunityFactory
from .opportunity_fixtures import opps  # noqa: F401


class OpportunityLineFactory(factory.django.DjangoModelFactory[OpportunityLine]):
    """A line of 2 × 100.00 at 13 % tax (amounts stored as the services compute them; the
    opportunity's amount is not synced — call a service for that)."""

    class Meta:
        model = OpportunityLine

    opportunity = factory.SubFactory(OpportunityFactory)
    product = factory.SubFactory(ProductFactory)
    description = factory.LazyAttribute(lambda o: o.product.name)
    quantity = Decimal("2")
    unit = "台"
    unit_price = Decimal("100")
    tax_rate = Decimal("13")
    gross = Decimal("200.00")
    discount = Decimal("0.00")
    net = Decimal("200.00")
    tax = Decimal("26.00")
    total = Decimal("226.00")
    position = factory.Sequence(lambda n: n + 1)


@pytest.fixture
def lines(opps: Any) -> Any:  # noqa: F811
    """The opportunity grants of `opps`, and every role may view products and price lists."""
    for role in (opps.role_rep, opps.role_manager, opps.role_director, opps.role_all):
        grant(role, "catalog.product", Action.VIEW, scope=Scope.ALL)
        grant(role, "catalog.pricelist", Action.VIEW, scope=Scope.ALL)
    return opps
