"""The demo company's quote-to-cash documents (stage "commerce"), at the tests' scale (conftest: 2 %)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import F, Sum
from django.utils import timezone

from kehu.audit.models import ObjectChange, TimelineEvent
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
from kehu.commerce.services.payments import instalments_overdue_notify
from kehu.demo.loader import load_demo
from kehu.notifications.models import Notification
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


# The quote field each quote event's moment is (the revised version's "revised" is its creation).
QUOTE_EVENTS = {
    "quote.created": "created_at",
    "quote.revised": "created_at",
    "quote.submitted": "submitted_at",
    "quote.approved": "approved_at",
    "quote.sent": "sent_at",
    "quote.accepted": "decided_at",
    "quote.declined": "decided_at",
}


def test_timelines_and_audit_entries_carry_the_documents_dates(loaded: None) -> None:
    now = timezone.now()
    today = timezone.localdate()
    events = TimelineEvent.objects.filter(model__startswith="commerce.")
    assert events.exists() and not events.filter(occurred_at__gt=now).exists()
    # a year of history, not the day of loading
    assert events.filter(occurred_at__lt=now - dt.timedelta(days=90)).exists()
    assert events.exclude(occurred_at__date=today).count() > events.count() * 3 // 4
    quotes = {q.pk: q for q in Quote.objects.all()}
    seen = set()
    for event, quote_id, at in events.filter(model="commerce.quote").values_list(
        "event", "object_id", "occurred_at"
    ):
        quote = quotes[quote_id]
        if event in QUOTE_EVENTS:
            assert at == getattr(quote, QUOTE_EVENTS[event]), (event, quote)
            seen.add(event)
        elif event == "quote.expired":  # the night after its last valid day
            assert quote.valid_until is not None
            assert timezone.localdate(at) == quote.valid_until + dt.timedelta(days=1)
        elif event == "quote.step_approved":
            assert at in set(quote.approvals.values_list("decided_at", flat=True))
    assert {"quote.created", "quote.approved", "quote.sent", "quote.accepted", "quote.declined"} <= seen
    # each step after the one before
    for quote in quotes.values():
        steps = [quote.created_at, quote.submitted_at, quote.approved_at, quote.sent_at, quote.decided_at]
        taken = [s for s in steps if s is not None]
        assert taken == sorted(taken) and timezone.localdate(quote.created_at) == quote.quote_date
    for payment in Payment.objects.all():
        assert timezone.localdate(payment.created_at) == payment.received_on
        if payment.reverses_id is None:  # a reversal's event is on the payment it reverses
            recorded = events.get(model="commerce.payment", object_id=payment.pk, event="payment.recorded")
            assert recorded.occurred_at == payment.created_at
    for contract in Contract.objects.all():
        created = events.get(model="commerce.contract", object_id=contract.pk, event="contract.created")
        assert created.occurred_at == contract.created_at
        if contract.signed_on:
            assert timezone.localdate(contract.created_at) == contract.signed_on
            accepted = contract.quote.decided_at
            assert accepted is not None and accepted < contract.created_at
    for invoice in Invoice.objects.all():
        issued = events.get(model="commerce.invoice", object_id=invoice.pk, event="invoice.issued")
        assert timezone.localdate(issued.occurred_at) == invoice.issued_on
    # the audit entries: at the same moments, by the users who acted, with the moments the
    # documents carry (the services stamped the load's "now" into them)
    changes = ObjectChange.objects.filter(model__startswith="commerce.")
    assert not changes.filter(time__gt=now).exists()
    assert changes.filter(time__lt=now - dt.timedelta(days=90)).exists()
    assert not changes.filter(source="command", user__isnull=True).exists()
    assert (
        changes.filter(user__username="manager1").exists()
        or changes.filter(user__username="manager2").exists()
    )
    for quote in quotes.values():
        created = changes.get(model="commerce.quote", object_id=quote.pk, action="create")
        assert created.time == quote.created_at
        assert created.changes["quote_date"][1] == quote.quote_date.isoformat()
        if quote.sent_at is not None:
            sent = changes.filter(model="commerce.quote", object_id=quote.pk, changes__has_key="sent_at")
            assert [c.changes["sent_at"][1] for c in sent] == [quote.sent_at.isoformat()]
            assert sent.get().time == quote.sent_at


def test_overdue_instalments_were_notified_before_the_load(loaded: None) -> None:
    today = timezone.localdate()
    overdue = Instalment.objects.filter(due_on__lt=today, received__lt=F("amount"))
    assert overdue.exists()
    waiting = list(overdue.filter(overdue_notified_at__isnull=True))
    # at most one left for the job to show (the most recent, due within the last 30 days)
    assert len(waiting) <= 1
    for instalment in waiting:
        assert instalment.due_on >= today - dt.timedelta(days=30)
        assert not overdue.filter(due_on__gt=instalment.due_on).exists()
    for instalment in overdue.filter(overdue_notified_at__isnull=False):
        noticed = timezone.localtime(instalment.overdue_notified_at)  # the job's run the next morning
        assert noticed.date() == instalment.due_on + dt.timedelta(days=1) and noticed.hour == 8
    # the job's first run after loading: one notice at most, not one per overdue instalment
    before = Notification.objects.filter(kind="commerce.instalment_overdue").count()
    assert instalments_overdue_notify() == len(waiting)
    assert instalments_overdue_notify() == 0
    after = Notification.objects.filter(kind="commerce.instalment_overdue").count()
    assert after - before <= 2 * len(waiting)  # the owner and their manager


def history() -> tuple[int, int]:
    return (
        TimelineEvent.objects.filter(model__startswith="commerce.").count(),
        ObjectChange.objects.filter(model__startswith="commerce.").count(),
    )


def test_second_run_creates_nothing(loaded: None) -> None:
    before, written = counts(), history()
    events = TimelineEvent.objects.filter(model__startswith="commerce.").order_by("pk")
    dates = list(events.values_list("occurred_at", flat=True))
    again = load_demo(only=STAGES, refresh=True)
    assert "commerce" in again.loaded
    assert {k: v for k, v in again.created.items() if k not in ("role permissions",)} == {}
    assert counts() == before and history() == written
    assert list(events.values_list("occurred_at", flat=True)) == dates  # nothing dated again
    # a deleted document is written again on a refresh, once
    lost = Quote.objects.filter(status="rejected").first()
    assert lost is not None and not Contract.objects.filter(quote=lost).exists()
    QuoteApproval.objects.filter(quote=lost).delete()
    Quote.objects.filter(pk=lost.pk).delete()
    again = load_demo(only=STAGES, refresh=True)
    assert again.created.get("quotes") == 1
    assert counts() == before
    assert Quote.objects.filter(opportunity=lost.opportunity_id).count() == 1
