"""Opportunity lines: prices from price lists (tiers, account lists), amounts and rounding, the
opportunity's amount following its lines, and the refusals (nothing changes)."""

# ruff: noqa: F811

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from kehu.audit.models import ObjectChange, TimelineEvent
from kehu.catalog.models import Currency
from kehu.catalog.tests.factories import PriceListFactory, PriceListItemFactory, ProductFactory
from kehu.core.errors import PermissionDeniedError, StaleObjectError

from ..models import Opportunity, OpportunityLine
from ..services.opportunities import OpportunityError, opportunity_update
from ..services.opportunity_lines import (
    OpportunityLineError,
    opportunity_line_add,
    opportunity_line_delete,
    opportunity_line_update,
    opportunity_lines_reorder,
)
from .factories import OpportunityFactory
from .opportunity_fixtures import opps  # noqa: F401
from .opportunity_line_fixtures import OpportunityLineFactory, lines  # noqa: F401

pytestmark = pytest.mark.django_db

D = Decimal


def _priced(price: str = "100", tiers: dict[str, str] | None = None, **list_kwargs: Any) -> Any:
    """A product with a price (and quantity tiers) in a new CNY price list for everyone."""
    product = ProductFactory.create(unit="套", tax_rate=D("13"))
    price_list = PriceListFactory.create(**list_kwargs)
    PriceListItemFactory.create(
        price_list=price_list, product=product, unit_price=D(price), min_quantity=D("1")
    )
    for qty, tier_price in (tiers or {}).items():
        PriceListItemFactory.create(
            price_list=price_list, product=product, unit_price=D(tier_price), min_quantity=D(qty)
        )
    return product, price_list


def _fresh(opp: Opportunity) -> Opportunity:
    return Opportunity.objects.get(pk=opp.pk)


def test_add_takes_the_price_list_price_and_the_amount_follows(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1, amount=D("50000"))
    product, price_list = _priced("100.00")
    line = opportunity_line_add(by=lines.rep1, opportunity=opp, product=product, quantity=D("3"))
    assert (line.unit_price, line.price_list, line.unit, line.tax_rate) == (
        D("100"),
        price_list,
        "套",
        D("13"),
    )
    assert line.description == product.name
    assert line.price_source == f"@pricelist:{price_list.name}|"
    assert (line.gross, line.discount, line.net, line.tax, line.total) == (
        D("300.00"),
        D("0"),
        D("300.00"),
        D("39.00"),
        D("339.00"),
    )
    opp2 = _fresh(opp)
    assert opp2.amount == D("300.00")  # net, without tax
    assert opp2.version == opp.version + 1
    event = TimelineEvent.objects.get(event="opportunity.line_added")
    assert event.account_id == opp.account_id
    assert event.data["changes"] == {"amount": ["50000.00", "300.00"]}
    assert ObjectChange.objects.filter(model="sales.opportunityline", object_id=line.pk).exists()


def test_quantity_tier_is_chosen_by_quantity_and_follows_a_quantity_change(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    product, price_list = _priced("100", tiers={"10": "90", "100": "80"})
    line = opportunity_line_add(by=lines.rep1, opportunity=opp, product=product, quantity=D("10"))
    assert line.unit_price == D("90")
    assert line.price_source == f"@pricelist:{price_list.name}|10"
    line = opportunity_line_update(by=lines.rep1, line=line, data={"quantity": D("150")})
    assert (line.unit_price, line.net) == (D("80"), D("12000.00"))
    assert line.price_source.endswith("|100")
    assert _fresh(opp).amount == D("12000.00")


def test_an_account_price_list_wins_over_everyones(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    product, _general = _priced("100")
    own = PriceListFactory.create(account=opp.account)
    PriceListItemFactory.create(price_list=own, product=product, unit_price=D("70"))
    line = opportunity_line_add(by=lines.rep1, opportunity=opp, product=product, quantity=D("1"))
    assert (line.unit_price, line.price_list) == (D("70"), own)


def test_rounding_per_line_half_up_and_the_amount_is_the_sum_of_nets(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    product = ProductFactory.create(tax_rate=D("13"))
    # 3 × 33.335 = 100.005 → 100.01; 10 % → 10.00 (10.001); net 90.01; tax 11.7013 → 11.70
    one = opportunity_line_add(
        by=lines.rep1,
        opportunity=opp,
        product=product,
        quantity=D("3"),
        unit_price=D("33.335"),
        discount_percent=D("10"),
    )
    assert (one.gross, one.discount, one.net, one.tax, one.total) == (
        D("100.01"),
        D("10.00"),
        D("90.01"),
        D("11.70"),
        D("101.71"),
    )
    assert one.price_source == "" and one.price_list is None
    two = opportunity_line_add(
        by=lines.rep1,
        opportunity=opp,
        product=product,
        quantity=D("1"),
        unit_price=D("0.005"),
        discount_amount=D("0"),
    )
    assert two.net == D("0.01")
    assert _fresh(opp).amount == D("90.02")
    assert [ln.pk for ln in opp.lines.all()] == [one.pk, two.pk]


def test_currency_without_minor_unit_rounds_to_whole_units(lines: Any) -> None:
    Currency.objects.get_or_create(code="JPY", defaults={"name": "日元", "minor_unit": 0})
    opp = OpportunityFactory.create(owner=lines.rep1, currency="JPY")
    product = ProductFactory.create(tax_rate=D("10"))
    line = opportunity_line_add(
        by=lines.rep1, opportunity=opp, product=product, quantity=D("1"), unit_price=D("2.5")
    )
    assert (line.gross, line.tax, line.total) == (D("3"), D("0"), D("3"))
    assert _fresh(opp).amount == D("3")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"quantity": D("-1")}, "quantity"),
        ({"quantity": D("0")}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"discount_percent": D("120")}, "discount_percent"),
        ({"discount_percent": D("-1")}, "discount_percent"),
        ({"discount_amount": D("250")}, "discount_amount"),
        ({"discount_amount": D("-5")}, "discount_amount"),
        ({"discount_percent": D("5"), "discount_amount": D("5")}, "discount_amount"),
        ({"unit_price": D("-1")}, "unit_price"),
    ],
)
def test_bad_values_are_field_errors_and_change_nothing(
    lines: Any, kwargs: dict[str, Any], field: str
) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1, amount=D("500"))
    product = ProductFactory.create()
    values = {"quantity": D("2"), "unit_price": D("100"), **kwargs}
    with pytest.raises(OpportunityLineError) as caught:
        opportunity_line_add(by=lines.rep1, opportunity=opp, product=product, **values)
    assert field in caught.value.fields
    assert not OpportunityLine.objects.exists()
    assert (_fresh(opp).amount, _fresh(opp).version) == (D("500.00"), opp.version)


def test_inactive_product_no_price_and_foreign_currency_list_are_refused(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    inactive = ProductFactory.create(is_active=False)
    with pytest.raises(OpportunityLineError) as caught:
        opportunity_line_add(
            by=lines.rep1, opportunity=opp, product=inactive, quantity=D("1"), unit_price=D("1")
        )
    assert "is not active" in caught.value.fields["product"][0]
    unpriced = ProductFactory.create()
    with pytest.raises(OpportunityLineError) as caught:
        opportunity_line_add(by=lines.rep1, opportunity=opp, product=unpriced, quantity=D("1"))
    assert "enter a unit price" in caught.value.fields["unit_price"][0]
    usd, _c = Currency.objects.get_or_create(code="USD", defaults={"name": "美元"})
    product, usd_list = _priced("15", currency=usd)
    with pytest.raises(OpportunityLineError) as caught:
        opportunity_line_add(
            by=lines.rep1, opportunity=opp, product=product, quantity=D("1"), price_list=usd_list
        )
    assert caught.value.fields["price_list"] == ["The price list is in USD, the opportunity in CNY."]
    # price_for only looks at lists of the opportunity's currency
    with pytest.raises(OpportunityLineError):
        opportunity_line_add(by=lines.rep1, opportunity=opp, product=product, quantity=D("1"))
    assert not OpportunityLine.objects.exists()


def test_a_user_who_cannot_change_the_opportunity_cannot_add_lines(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    with pytest.raises(PermissionDeniedError):
        opportunity_line_add(
            by=lines.rep2,
            opportunity=opp,
            product=ProductFactory.create(),
            quantity=D("1"),
            unit_price=D("1"),
        )
    assert not OpportunityLine.objects.exists()


def test_stale_version_is_refused(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    product = ProductFactory.create()
    opportunity_line_add(
        by=lines.rep1,
        opportunity=opp,
        product=product,
        quantity=D("1"),
        unit_price=D("1"),
        version=opp.version,
    )
    with pytest.raises(StaleObjectError):
        opportunity_line_add(
            by=lines.rep1,
            opportunity=opp,
            product=product,
            quantity=D("1"),
            unit_price=D("1"),
            version=opp.version,
        )
    assert OpportunityLine.objects.count() == 1


def test_update_discount_switches_kind_and_typed_price_is_kept(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    product, _pl = _priced("100", tiers={"10": "90"})
    line = opportunity_line_add(
        by=lines.rep1,
        opportunity=opp,
        product=product,
        quantity=D("2"),
        unit_price=D("120"),
        discount_amount=D("40"),
    )
    assert (line.net, line.price_source) == (D("200.00"), "")
    line = opportunity_line_update(by=lines.rep1, line=line, data={"discount_percent": D("25")})
    assert (line.discount_percent, line.discount_amount, line.net) == (D("25"), None, D("180.00"))
    line = opportunity_line_update(by=lines.rep1, line=line, data={"quantity": D("10")})
    assert line.unit_price == D("120")  # typed: stays
    line = opportunity_line_update(by=lines.rep1, line=line, data={"unit_price": None})
    assert (line.unit_price, line.price_source.endswith("|10")) == (D("90"), True)
    assert _fresh(opp).amount == D("675.00")
    with pytest.raises(OpportunityLineError) as caught:
        opportunity_line_update(by=lines.rep1, line=line, data={"discount_amount": D("901")})
    assert "discount_amount" in caught.value.fields
    assert OpportunityLine.objects.get(pk=line.pk).discount_percent == D("25")


def test_amount_is_locked_while_there_are_lines_and_free_after_the_last_is_removed(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1, amount=D("1000"))
    product = ProductFactory.create()
    one = opportunity_line_add(
        by=lines.rep1, opportunity=opp, product=product, quantity=D("1"), unit_price=D("300")
    )
    two = opportunity_line_add(
        by=lines.rep1, opportunity=opp, product=product, quantity=D("1"), unit_price=D("200")
    )
    assert _fresh(opp).amount == D("500.00")
    with pytest.raises(OpportunityError) as caught:
        opportunity_update(opportunity=_fresh(opp), by=lines.rep1, data={"amount": D("9")})
    assert "amount" in caught.value.fields
    with pytest.raises(OpportunityError) as caught:
        opportunity_update(opportunity=_fresh(opp), by=lines.rep1, data={"currency": "USD"})
    assert "currency" in caught.value.fields
    opportunity_update(opportunity=_fresh(opp), by=lines.rep1, data={"amount": D("500"), "name": "改名"})
    opportunity_line_delete(by=lines.rep1, line=one)
    assert _fresh(opp).amount == D("200.00")
    opportunity_line_delete(by=lines.rep1, line=two)
    assert _fresh(opp).amount == D("200.00")  # the last line gone: the amount stays
    assert TimelineEvent.objects.filter(event="opportunity.line_removed").count() == 2
    updated = opportunity_update(opportunity=_fresh(opp), by=lines.rep1, data={"amount": D("750")})
    assert updated.amount == D("750.00")


def test_reorder(lines: Any) -> None:
    opp = OpportunityFactory.create(owner=lines.rep1)
    a, b, c = (OpportunityLineFactory.create(opportunity=opp) for _ in range(3))
    opportunity_lines_reorder(by=lines.rep1, opportunity=opp, line_ids=[c.pk, a.pk, b.pk])
    assert list(opp.lines.values_list("pk", flat=True)) == [c.pk, a.pk, b.pk]
    with pytest.raises(OpportunityLineError):
        opportunity_lines_reorder(by=lines.rep1, opportunity=opp, line_ids=[c.pk, a.pk])
    other = OpportunityLineFactory.create()
    with pytest.raises(OpportunityLineError):
        opportunity_lines_reorder(by=lines.rep1, opportunity=opp, line_ids=[c.pk, a.pk, other.pk])


@pytest.mark.parametrize(
    "values",
    [
        {"quantity": D("0")},
        {"quantity": D("-2")},
        {"discount_percent": D("100.5")},
        {"discount_percent": D("5"), "discount_amount": D("1")},
    ],
)
def test_database_constraints(lines: Any, values: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        OpportunityLineFactory.create(**values)
