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
