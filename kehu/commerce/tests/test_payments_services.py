"""Payment plans, payments, reversals and credits through the services (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.audit.models import TimelineEvent
from kehu.core.errors import DomainError
from kehu.users.tests.factories import UserFactory

from ..models import CreditEntry, Instalment, Payment, PaymentPlan
from ..selectors.payments import account_credit, collected_amount, plan_summary
from ..services.payments import (
    PaymentError,
    PaymentPlanError,
    payment_apply_credit,
    payment_plan_set,
    payment_record,
    payment_reverse,
    split_evenly,
)
from .factories import ContractFactory
from .payment_fixtures import planned_contract, planned_order

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()
D = Decimal


def _snapshot(plan: PaymentPlan) -> list[tuple[int, dt.date, Decimal, Decimal]]:
    return list(plan.instalments.order_by("sequence").values_list("sequence", "due_on", "amount", "received"))


# --- plans ------------------------------------------------------------------------------------


def test_plan_created_with_denormalised_owner_and_account() -> None:
    contract, plan, instalments = planned_contract(amounts=("100.50", "200.25", "0.25"))
    assert plan.contract == contract
    assert plan.total == D("301.00")
    assert (plan.owner_id, plan.department_id, plan.account_id) == (
        contract.owner_id,
        contract.department_id,
        contract.account_id,
    )
    assert [i.amount for i in instalments] == [D("100.50"), D("200.25"), D("0.25")]
    assert all(i.account_id == contract.account_id and i.owner_id == contract.owner_id for i in instalments)
    assert TimelineEvent.objects.filter(event="payment_plan.set", account_id=contract.account_id).count() == 1


def test_plan_sum_must_match_with_difference_in_message() -> None:
    contract = ContractFactory.create(value=D("1000"))
    with pytest.raises(PaymentPlanError) as err:
        payment_plan_set(
            contract=contract, instalments=[(TODAY, D("400"), ""), (TODAY, D("500"), "")], by=contract.owner
        )
    assert "900" in str(err.value.message) and "-100" in str(err.value.message)
    assert "instalments" in err.value.fields
    assert not PaymentPlan.objects.exists()


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [(TODAY, D("0"), ""), (TODAY, D("1000"), "")],
        [(TODAY, D("-1"), ""), (TODAY, D("1001"), "")],
        [(TODAY + dt.timedelta(days=5), D("500"), ""), (TODAY, D("500"), "")],
        [(TODAY, D("999.995"), ""), (TODAY, D("0.005"), "")],
    ],
)
def test_plan_bad_rows_refused(rows: list) -> None:
    contract = ContractFactory.create(value=D("1000"))
    with pytest.raises(PaymentPlanError):
        payment_plan_set(contract=contract, instalments=rows, by=contract.owner)
    assert not Instalment.objects.exists()


def test_plan_needs_exactly_one_document() -> None:
    with pytest.raises(PaymentPlanError):
        payment_plan_set(instalments=[(TODAY, D("1"), "")], by=None)


def test_plan_for_order_uses_order_total() -> None:
    order, plan = planned_order(total="5000")
    assert plan.order == order and plan.total == D("5000")


def test_replace_keeps_received_and_refuses_removing_paid() -> None:
    contract, plan, (first, _second, _third) = planned_contract(amounts=("100", "100", "100"))
    payment_record(account=contract.account, instalment=first, amount=D("60"), received_on=TODAY, by=None)
    before = _snapshot(plan)
    # reducing below what was received
    with pytest.raises(PaymentPlanError):
        payment_plan_set(
            contract=contract, instalments=[(TODAY, D("50"), ""), (TODAY, D("250"), "")], by=None
        )
    assert _snapshot(plan) == before
    # two instalments instead of three: the first keeps its 60 received
    payment_plan_set(contract=contract, instalments=[(TODAY, D("60"), ""), (TODAY, D("240"), "")], by=None)
    assert _snapshot(plan) == [(1, TODAY, D("60"), D("60")), (2, TODAY, D("240"), D("0"))]
    # removing the paid one (now as a single instalment list where #1 is kept) works; removing #2 fine
    payment_plan_set(contract=contract, instalments=[(TODAY, D("300"), "")], by=None)
    assert _snapshot(plan) == [(1, TODAY, D("300"), D("60"))]


def test_removing_an_instalment_that_received_money_is_refused() -> None:
    contract, plan, (_first, second) = planned_contract(amounts=("100", "100"))
    payment_record(account=contract.account, instalment=second, amount=D("10"), received_on=TODAY, by=None)
    with pytest.raises(PaymentPlanError, match="cannot be removed"):
        payment_plan_set(contract=contract, instalments=[(TODAY, D("200"), "")], by=None)
    assert plan.instalments.count() == 2


def test_changing_the_due_date_rearms_the_overdue_notice() -> None:
    contract, _plan, (first,) = planned_contract(amounts=("100",), first_due=TODAY - dt.timedelta(days=3))
    Instalment.objects.filter(pk=first.pk).update(overdue_notified_at=dt.datetime.now(dt.UTC))
    payment_plan_set(contract=contract, instalments=[(TODAY + dt.timedelta(days=3), D("100"), "")], by=None)
    first.refresh_from_db()
    assert first.overdue_notified_at is None and first.due_on == TODAY + dt.timedelta(days=3)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    cents=st.integers(min_value=1, max_value=10**12),
    parts=st.integers(min_value=1, max_value=36),
    currency=st.sampled_from(["CNY", "USD", "JPY"]),
)
def test_split_evenly_adds_up_exactly(cents: int, parts: int, currency: str) -> None:
    places = 0 if currency == "JPY" else 2
    total = Decimal(cents).scaleb(-places)
    amounts = split_evenly(total, parts, currency)
    assert len(amounts) == parts
    assert sum(amounts, Decimal(0)) == total  # no cent lost or created
    assert max(amounts) - min(amounts) <= Decimal(1).scaleb(-places)
    assert all(a == a.quantize(Decimal(1).scaleb(-places)) for a in amounts)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(cents=st.integers(min_value=3, max_value=10**9), parts=st.integers(min_value=1, max_value=3))
def test_plan_from_split_is_accepted(cents: int, parts: int) -> None:
    total = Decimal(cents).scaleb(-2)
    contract = ContractFactory.create(value=total)
    amounts = split_evenly(total, parts, "CNY")
    plan = payment_plan_set(
        contract=contract, instalments=[(TODAY, a, "") for a in amounts], by=contract.owner
    )
    assert sum(plan.instalments.values_list("amount", flat=True), Decimal(0)) == total


# --- payments ---------------------------------------------------------------------------------


def test_partial_then_full_payment() -> None:
    contract, plan, (first, _second) = planned_contract(amounts=("1000", "2000"))
    p1 = payment_record(
        account=contract.account,
        instalment=first,
        amount=D("400"),
        received_on=TODAY,
        reference="B1",
        by=None,
    )
    assert p1.number.startswith("HK") and (p1.applied, p1.credited) == (D("400"), D("0"))
    assert (p1.owner_id, p1.plan_id) == (contract.owner_id, plan.pk)
    p2 = payment_record(
        account=contract.account, instalment=first, amount=D("600"), received_on=TODAY, by=None
    )
    first.refresh_from_db()
    assert first.received == D("1000") and first.outstanding == 0
    assert p1.number != p2.number
    assert plan_summary(plan)["outstanding"] == D("2000")
    assert TimelineEvent.objects.filter(event="payment.recorded", account_id=contract.account_id).count() == 2
    assert TimelineEvent.objects.filter(event="payment.recorded", model="commerce.contract").count() == 2


def test_over_payment_without_credit_rule_is_refused() -> None:
    contract, _plan, (first,) = planned_contract(amounts=("1000",))
    with pytest.raises(PaymentError, match="exceeds the plan") as err:
        payment_record(
            account=contract.account, instalment=first, amount=D("1200"), received_on=TODAY, by=None
        )
    assert "amount" in err.value.fields
    first.refresh_from_db()
    assert first.received == 0 and not Payment.objects.exists() and not CreditEntry.objects.exists()


def test_over_payment_with_credit_rule_credits_the_rest() -> None:
    contract, _plan, (first,) = planned_contract(amounts=("1000",))
    payment = payment_record(
        account=contract.account,
        instalment=first,
        amount=D("1200"),
        received_on=TODAY,
        by=None,
        allow_credit=True,
    )
    first.refresh_from_db()
    assert (payment.applied, payment.credited, first.received) == (D("1000"), D("200"), D("1000"))
    assert account_credit(contract.account, "CNY") == D("200")


def test_payment_without_instalment_is_a_credit() -> None:
    contract, _plan, _rows = planned_contract(amounts=("1000",))
    with pytest.raises(PaymentError):
        payment_record(account=contract.account, amount=D("50"), received_on=TODAY, by=None)
    payment_record(account=contract.account, amount=D("50"), received_on=TODAY, by=None, allow_credit=True)
    assert account_credit(contract.account, "CNY") == D("50")


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("amount", {"amount": D("0")}),
        ("amount", {"amount": D("-5")}),
        ("amount", {"amount": D("1.001")}),
        ("method", {"method": "barter"}),
        ("received_on", {"received_on": TODAY + dt.timedelta(days=1)}),
    ],
)
def test_bad_payment_input(field: str, kwargs: dict) -> None:
    contract, _plan, (first,) = planned_contract(amounts=("1000",))
    args: dict[str, Any] = {
        "account": contract.account,
        "instalment": first,
        "amount": D("10"),
        "received_on": TODAY,
        "by": None,
    }
    args.update(kwargs)
    with pytest.raises(DomainError) as err:
        payment_record(**args)
    assert field in err.value.fields
    assert not Payment.objects.exists()


def test_instalment_of_another_account_refused() -> None:
    _contract, _plan, (first,) = planned_contract(amounts=("1000",))
    other, _p, _i = planned_contract(amounts=("1000",))
    with pytest.raises(PaymentError):
        payment_record(account=other.account, instalment=first, amount=D("1"), received_on=TODAY, by=None)


# --- reversals --------------------------------------------------------------------------------


def test_reversal_restores_instalment_and_credit() -> None:
    contract, _plan, (first,) = planned_contract(amounts=("1000",))
    payment = payment_record(
        account=contract.account,
        instalment=first,
        amount=D("1500"),
        received_on=TODAY,
        by=None,
        allow_credit=True,
    )
    reversal = payment_reverse(payment=payment, reason="退票", by=None)
    first.refresh_from_db()
    assert first.received == 0
    assert account_credit(contract.account, "CNY") == 0
    assert (reversal.amount, reversal.applied, reversal.credited) == (D("-1500"), D("-1000"), D("-500"))
    assert reversal.reverses == payment and reversal.reversal_reason == "退票"
    assert Payment.objects.count() == 2  # nothing deleted
    assert collected_amount(user_id=contract.owner_id, start=TODAY, end=TODAY, currency="CNY") == 0


def test_reversal_needs_reason_and_happens_once() -> None:
    contract, _plan, (first,) = planned_contract(amounts=("1000",))
    payment = payment_record(
        account=contract.account, instalment=first, amount=D("100"), received_on=TODAY, by=None
    )
    with pytest.raises(PaymentError) as err:
        payment_reverse(payment=payment, reason="  ", by=None)
    assert "reason" in err.value.fields
    reversal = payment_reverse(payment=payment, reason="录错", by=None)
    with pytest.raises(DomainError) as again:
        payment_reverse(payment=payment, reason="again", by=None)
    assert again.value.status == 409
    with pytest.raises(DomainError):
        payment_reverse(payment=reversal, reason="reverse the reversal", by=None)
    assert Payment.objects.count() == 2


def test_reversal_refused_when_credit_was_used() -> None:
    contract, _plan, (first, second) = planned_contract(amounts=("1000", "1000"))
    payment = payment_record(
        account=contract.account,
        instalment=first,
        amount=D("1300"),
        received_on=TODAY,
        by=None,
        allow_credit=True,
    )
    payment_apply_credit(instalment=second, amount=D("200"), by=None)
    second.refresh_from_db()
    assert second.received == D("200") and account_credit(contract.account, "CNY") == D("100")
    with pytest.raises(PaymentError, match="cannot go below zero") as err:
        payment_reverse(payment=payment, reason="bounced", by=None)
    assert err.value.code == "credit_already_used"
    first.refresh_from_db()
    assert first.received == D("1000") and Payment.objects.count() == 1


def test_apply_credit_limits() -> None:
    contract, _plan, (first,) = planned_contract(amounts=("100",))
    with pytest.raises(PaymentError):
        payment_apply_credit(instalment=first, amount=D("10"), by=None)
    payment_record(account=contract.account, amount=D("500"), received_on=TODAY, by=None, allow_credit=True)
    with pytest.raises(PaymentError):
        payment_apply_credit(instalment=first, amount=D("101"), by=None)
    payment_apply_credit(instalment=first, amount=D("100"), by=UserFactory.create())
    assert account_credit(contract.account, "CNY") == D("400")


def test_collected_amount_counts_payments_in_period() -> None:
    contract, _plan, (first,) = planned_contract(amounts=("1000",))
    payment_record(account=contract.account, instalment=first, amount=D("300"), received_on=TODAY, by=None)
    payment_record(
        account=contract.account,
        instalment=first,
        amount=D("200"),
        received_on=TODAY - dt.timedelta(days=40),
        by=None,
    )
    assert collected_amount(
        user_id=contract.owner_id, start=TODAY - dt.timedelta(days=5), end=TODAY, currency="CNY"
    ) == D("300")
    assert collected_amount(
        department_ids=[contract.department_id] if contract.department_id else [],
        start=TODAY - dt.timedelta(days=50),
        end=TODAY,
        currency="CNY",
    ) in (D("500"), D("0"))


def test_collected_measure_for_sales_targets() -> None:
    from ..hooks.payments import _collected

    contract, _plan, (first,) = planned_contract(amounts=("1000",))
    payment_record(account=contract.account, instalment=first, amount=D("250"), received_on=TODAY, by=None)
    assert _collected(
        user_id=contract.owner_id, department_id=None, start=TODAY, end=TODAY, currency="CNY"
    ) == D("250")
    assert _collected(user_id=None, department_id=None, start=TODAY, end=TODAY, currency="CNY") == 0
