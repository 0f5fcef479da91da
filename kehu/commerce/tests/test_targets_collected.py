"""Sales targets measured on collected payments (回款): the commerce app registers the measure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from kehu.sales.choices import PeriodKind, TargetMetric
from kehu.sales.models import Target
from kehu.sales.selectors.targets import attainment
from kehu.users.tests.factories import grant

from .factories import PaymentFactory

pytestmark = pytest.mark.django_db

MARCH = dt.date(2026, 3, 1)


def test_collected_target_counts_payments_minus_reversals_in_the_period(company: Any) -> None:
    grant(company.role_manager, "sales.target", "view", scope="department")
    Target.objects.create(
        user=company.rep1,
        department=company.north,
        metric=TargetMetric.COLLECTED,
        period_kind=PeriodKind.MONTH,
        period_start=MARCH,
        amount=Decimal("10000"),
    )
    Target.objects.create(
        department=company.north,
        metric=TargetMetric.COLLECTED,
        period_kind=PeriodKind.MONTH,
        period_start=MARCH,
        amount=Decimal("20000"),
    )
    paid = PaymentFactory.create(owner=company.rep1, amount=Decimal("3000"), received_on=dt.date(2026, 3, 1))
    PaymentFactory.create(owner=company.rep1, amount=Decimal("1500.50"), received_on=dt.date(2026, 3, 31))
    PaymentFactory.create(
        owner=company.rep1,
        account=paid.account,
        amount=Decimal("-3000"),
        applied=Decimal("-3000"),
        reverses=paid,
        received_on=dt.date(2026, 3, 20),
    )
    PaymentFactory.create(owner=company.rep1, amount=Decimal("999"), received_on=dt.date(2026, 4, 1))  # April
    PaymentFactory.create(owner=company.rep1, amount=Decimal("50"), currency="USD", received_on=MARCH)
    PaymentFactory.create(owner=company.rep2, amount=Decimal("700"), received_on=dt.date(2026, 3, 5))
    PaymentFactory.create(owner=company.rep3, amount=Decimal("800"), received_on=dt.date(2026, 3, 5))  # east
    rows = {
        (a.target.user_id, a.target.department_id): a
        for a in attainment(user=company.manager1, period_kind=PeriodKind.MONTH, period_start=MARCH)
    }
    mine = rows[(company.rep1.pk, company.north.pk)]
    assert mine.actual == Decimal("1500.50")
    assert mine.percent == 15.0
    team = rows[(None, company.north.pk)]
    assert team.actual == Decimal("2200.50")  # rep1's 1,500.50 and rep2's 700; not the east region's


def test_a_company_currency_target_counts_other_currencies_at_the_days_rate(company: Any) -> None:
    from kehu.catalog.models import Currency, ExchangeRate

    grant(company.role_manager, "sales.target", "view", scope="department")
    usd = Currency.objects.get_or_create(code="USD", defaults={"name": "美元", "minor_unit": 2})[0]
    ExchangeRate.objects.create(currency=usd, valid_on=dt.date(2026, 2, 28), rate=Decimal("7.1"))
    ExchangeRate.objects.create(currency=usd, valid_on=dt.date(2026, 3, 15), rate=Decimal("7.2"))
    target = Target.objects.create(
        user=company.rep1,
        department=company.north,
        metric=TargetMetric.COLLECTED,
        period_kind=PeriodKind.MONTH,
        period_start=MARCH,
        amount=Decimal("10000"),
    )
    PaymentFactory.create(owner=company.rep1, amount=Decimal("1000"), received_on=dt.date(2026, 3, 2))
    PaymentFactory.create(
        owner=company.rep1, amount=Decimal("50"), currency="USD", received_on=dt.date(2026, 3, 2)
    )
    PaymentFactory.create(
        owner=company.rep1, amount=Decimal("10"), currency="USD", received_on=dt.date(2026, 3, 20)
    )
    PaymentFactory.create(
        owner=company.rep1, amount=Decimal("5"), currency="JPY", received_on=dt.date(2026, 3, 2)
    )
    rows = {
        a.target.pk: a
        for a in attainment(user=company.manager1, period_kind=PeriodKind.MONTH, period_start=MARCH)
    }
    # 1,000 CNY + 50 USD × 7.1 + 10 USD × 7.2; the yen have no rate and are left out
    assert rows[target.pk].actual == Decimal("1427.00")
