"""Receivables aging against hand-computed bucket boundaries, scopes and currency conversion."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from kehu.core.choices import Scope

from ..choices import AgingBucket
from ..selectors.receivables import aging, bucket_instalments, bucket_of
from ..services.payments import payment_record
from .factories import InstalmentFactory
from .payment_fixtures import planned_contract, user_with

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 6, 30)
D = Decimal

# days past due → bucket (day 0 = due on as_of)
BOUNDARIES = [
    (-1, AgingBucket.NOT_DUE),
    (0, AgingBucket.D0_30),
    (30, AgingBucket.D0_30),
    (31, AgingBucket.D31_60),
    (60, AgingBucket.D31_60),
    (61, AgingBucket.D61_90),
    (90, AgingBucket.D61_90),
    (91, AgingBucket.D90_PLUS),
]


@pytest.mark.parametrize(("days", "bucket"), BOUNDARIES)
def test_bucket_of_boundaries(days: int, bucket: str) -> None:
    assert bucket_of(AS_OF - dt.timedelta(days=days), AS_OF) == bucket


def _superuser() -> Any:
    return user_with(is_superuser=True)


def test_aging_in_the_database_matches_hand_computed_buckets() -> None:
    contract, plan, _rows = planned_contract(amounts=("1",))
    account, owner = contract.account, contract.owner
    expected = dict.fromkeys(AgingBucket.values, D("0"))
    for n, (days, bucket) in enumerate(BOUNDARIES, start=10):
        InstalmentFactory.create(
            plan=plan,
            account=account,
            owner=owner,
            sequence=n,
            due_on=AS_OF - dt.timedelta(days=days),
            amount=D(100 + n),
        )
        expected[bucket] += D(100 + n)
    # fully received: not a receivable; partly received: only the rest counts
    paid = InstalmentFactory.create(
        plan=plan, account=account, owner=owner, sequence=40, due_on=AS_OF, amount=D("50")
    )
    payment_record(account=account, instalment=paid, amount=D("50"), received_on=dt.date.today(), by=None)
    part = InstalmentFactory.create(
        plan=plan,
        account=account,
        owner=owner,
        sequence=41,
        due_on=AS_OF - dt.timedelta(days=45),
        amount=D("80"),
    )
    payment_record(account=account, instalment=part, amount=D("30"), received_on=dt.date.today(), by=None)
    expected[AgingBucket.D31_60] += D("50")
    # the plan's own instalment (1.00, due today in real time)
    first = plan.instalments.get(sequence=1)
    expected[bucket_of(first.due_on, AS_OF)] += D("1")

    result = aging(_superuser(), as_of=AS_OF)
    assert len(result.rows) == 1
    row = result.rows[0]
    assert row.account_id == account.pk and row.currency == "CNY"
    assert row.buckets == expected
    assert result.totals == expected and result.total == sum(expected.values())
    overall = aging(_superuser(), as_of=AS_OF, group_by="none")
    assert overall.rows[0].buckets == expected and overall.rows[0].account_id is None
    drilled = bucket_instalments(_superuser(), as_of=AS_OF, bucket=AgingBucket.D31_60, account=account)
    assert sorted(i.sequence for i in drilled) == [13, 14, 41]


def test_aging_is_restricted_to_the_users_scope(company: Any) -> None:
    _c1, _p1, _r1 = planned_contract(owner=company.rep1, amounts=("100",), first_due=AS_OF)
    _c2, _p2, _r2 = planned_contract(owner=company.rep3, amounts=("200",), first_due=AS_OF)
    from kehu.users.tests.factories import grant

    grant(company.role_rep, "commerce.instalment", "view", scope=Scope.OWN)
    assert aging(company.rep1, as_of=AS_OF).total == D("100")
    assert aging(company.nobody, as_of=AS_OF).rows == []


def test_aging_converts_other_currencies() -> None:
    from kehu.catalog.models import Currency, ExchangeRate

    Currency.objects.update_or_create(code="CNY", defaults={"is_company": True, "name": "人民币"})
    usd, _ = Currency.objects.update_or_create(code="USD", defaults={"name": "US Dollar"})
    ExchangeRate.objects.create(currency=usd, valid_on=AS_OF - dt.timedelta(days=3), rate=D("7.1"))
    planned_contract(amounts=("100",), first_due=AS_OF, currency="USD")
    planned_contract(amounts=("50",), first_due=AS_OF, currency="EUR")
    planned_contract(amounts=("10",), first_due=AS_OF)
    result = aging(_superuser(), as_of=AS_OF)
    assert result.totals[AgingBucket.D0_30] == D("720.00")  # 100 × 7.1 + 10
    assert result.missing_rates == ["EUR"]
    usd_row = next(r for r in result.rows if r.currency == "USD")
    assert usd_row.buckets[AgingBucket.D0_30] == D("100") and usd_row.company_total == D("710.00")


def test_the_page_filters_ignore_bad_values() -> None:
    from django.http import QueryDict
    from django.utils import timezone

    from ..exporting import receivables_filters

    good = QueryDict("as_of=2026-06-30&account=12&bucket=31_60&currency=usd")
    assert receivables_filters(good) == (AS_OF, 12, AgingBucket.D31_60, "USD")
    as_of, account, bucket, currency = receivables_filters(QueryDict("as_of=nope&account=x&bucket=99"))
    assert as_of == timezone.localdate() and (account, bucket, currency) == (None, None, None)
