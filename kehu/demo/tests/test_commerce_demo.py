"""The demo company's quote-to-cash documents (stage "commerce"), at the tests' scale (conftest: 2 %)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import F, Sum
from django.utils import timezone

from kehu.commerce.models import (
    ApprovalRule,
    Contract,
    CreditEntry,
    Instalment,
    Invoice,
    Order,
    Payment,
    PaymentPlan,
    Quote,
    QuoteApproval,
)
from kehu.demo.loader import load_demo
from kehu.users.models import User

pytestmark = pytest.mark.django_db

STAGES = {"org", "customers", "company", "sales", "catalog", "commerce"}


def counts() -> tuple[int, ...]:
    return tuple(
        m.objects.count()
        for m in (
            ApprovalRule,
            Quote,
            QuoteApproval,
            Contract,
            Order,
            PaymentPlan,
            Instalment,
            Payment,
            Invoice,
        )
    )


@pytest.fixture
def loaded() -> None:
    summary = load_demo(only=STAGES)
    assert "commerce" in summary.loaded


def test_every_status_and_consistent_documents(loaded: None) -> None:
    today = timezone.localdate()
    assert set(Quote.objects.values_list("status", flat=True)) == {
        "draft",
        "pending",
        "approved",
        "sent",
        "accepted",
        "rejected",
        "expired",
    }
    # at this scale only a handful of won deals: the expired and terminated contracts need more
    assert {"draft", "active"} <= set(Contract.objects.values_list("status", flat=True))
    assert {"pending", "confirmed", "shipped", "completed"} >= set(
        Order.objects.values_list("status__code", flat=True)
    ) - {"cancelled"}
    assert Order.objects.exists()
    # every quote belongs to a demo opportunity and its account; a few have two versions
    assert not Quote.objects.filter(opportunity__isnull=True).exists()
    assert not Quote.objects.exclude(account=F("opportunity__account")).exists()
    assert Quote.objects.filter(revision=2, previous__isnull=False).exists()
    assert Quote.objects.filter(is_latest=False).count() == Quote.objects.filter(revision=2).count()
    for quote in Quote.objects.prefetch_related("lines"):
        assert quote.lines.exists() and quote.total == sum(line.total for line in quote.lines.all())
        assert quote.quote_date <= today and quote.valid_until and quote.valid_until >= quote.quote_date
    assert Quote.objects.filter(quote_date__lt=today - dt.timedelta(days=60)).exists()
    # contracts come from accepted quotes; signed before their instalments fall due
    for contract in Contract.objects.select_related("quote"):
        assert contract.quote is not None and contract.quote.status == "accepted"
        assert contract.value == contract.quote.total
        if contract.status != "draft":
            assert contract.signed_on is not None and contract.signed_on <= today
    # plans sum to their documents, due after signing / ordering
    assert PaymentPlan.objects.exists()
    for plan in PaymentPlan.objects.select_related("contract", "order"):
        document = plan.contract or plan.order
        assert document is not None
        amounts = plan.instalments.aggregate(s=Sum("amount"))["s"]
        assert amounts == plan.total == (plan.contract.value if plan.contract else plan.order.total)
        start = plan.contract.signed_on if plan.contract else plan.order.ordered_on
        assert start is not None
        assert all(d > start for d in plan.instalments.values_list("due_on", flat=True))
    # instalments' received is the sum of what was applied to them
    for instalment in Instalment.objects.all():
        applied = instalment.payments.aggregate(s=Sum("applied"))["s"] or Decimal(0)
        assert applied == instalment.received <= instalment.amount
    assert not Payment.objects.filter(received_on__gt=today).exists()


def test_overdue_credit_reversal_invoices(loaded: None) -> None:
    today = timezone.localdate()
    overdue = Instalment.objects.filter(due_on__lt=today, received__lt=F("amount"))
    assert overdue.exists()
    assert overdue.filter(received=0).exists() or overdue.filter(received__gt=0).exists()
    assert Instalment.objects.filter(received=F("amount")).exists()
    assert CreditEntry.objects.filter(amount__gt=0).exists()
    reversal = Payment.objects.get(reverses__isnull=False)
    assert reversal.reversal_reason and reversal.amount == -reversal.reverses.amount  # type: ignore[union-attr]
    assert reversal.received_on >= reversal.reverses.received_on  # type: ignore[union-attr]
    assert Invoice.objects.filter(status="issued").exists()
    for invoice in Invoice.objects.prefetch_related("payments"):
        assert invoice.number and invoice.issued_on and invoice.total == invoice.amount + invoice.tax
        assert invoice.total == sum(p.applied for p in invoice.payments.all())


def test_the_managers_have_approvals_waiting(loaded: None) -> None:
    assert ApprovalRule.objects.filter(kind="discount_above", threshold=15).exists()
    assert ApprovalRule.objects.filter(kind="total_above", approver_kind="role").exists()
    managers = User.objects.filter(username__in=("manager1", "manager2"))
    pending = QuoteApproval.objects.filter(status="pending", approver__in=managers, quote__status="pending")
    assert pending.exists()
    assert QuoteApproval.objects.filter(status="approved").exists()
    # the rep sees their own documents only, the manager the department's
    rep = User.objects.get(username="rep1")
    mine = Quote.objects.restrict(rep, "view")
    assert mine.exists() and not mine.exclude(owner=rep).exists()
    manager = pending.first().approver  # type: ignore[union-attr]
    assert Quote.objects.restrict(manager, "view").exclude(owner=manager).exists()
    payment = Payment.objects.select_related("department__manager").first()
    assert payment is not None and payment.department is not None
    boss = payment.department.manager
    assert boss is not None and Payment.objects.restrict(boss, "view").filter(pk=payment.pk).exists()


def test_second_run_creates_nothing(loaded: None) -> None:
    before = counts()
    again = load_demo(only=STAGES, refresh=True)
    assert "commerce" in again.loaded
    assert {k: v for k, v in again.created.items() if k not in ("role permissions",)} == {}
    assert counts() == before
