"""Approval rules and the approval flow: rule met / not met, manager resolution up the tree, role
approvers, approve, reject back to draft, recall, notifications and the inbox selector."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kehu.audit.models import TimelineEvent
from kehu.core.errors import PermissionDeniedError
from kehu.notifications.models import Notification
from kehu.users.tests.factories import UserFactory

from ..choices import ApprovalRuleKind, ApprovalStatus, ApproverKind, QuoteStatus
from ..models import ApprovalRule, Quote, QuoteApproval
from ..selectors.approvals import approvals_for
from ..services import approvals as rules
from ..services import quotes as svc
from ..services.approvals import ApprovalRuleError, QuoteError, QuoteStateError
from .factories import ApprovalRuleFactory
from .quote_fixtures import make_quote, world  # noqa: F401

# ruff: noqa: F811

pytestmark = pytest.mark.django_db
D = Decimal


def _discounted(world: Any, percent: str = "20", by: Any = None) -> Quote:
    by = by or world.rep1
    quote = svc.quote_create(by=by, account=world.account)
    svc.quote_line_add(
        quote=quote, by=by, data={"product": world.product, "quantity": "2", "discount_percent": percent}
    )
    svc.quote_line_add(quote=quote, by=by, data={"product": world.cheap, "quantity": "50"})
    quote.refresh_from_db()
    return quote


def test_discount_rule_uses_the_largest_line_discount(world: Any) -> None:
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=D("10"))
    quote = _discounted(world, "20")  # overall 40 / 700 ≈ 5.7 %, but one line 20 %
    assert rules.max_line_discount_percent(quote) == D("20.00")
    hits = rules.rules_met(quote)
    assert [h.data for h in hits] == [{"rule": "discount_above", "limit": "10", "actual": "20"}]
    assert [h.reason for h in hits] == ["Discount 20 % is above 10 %"]


def test_rules_not_met_approve_directly(world: Any) -> None:
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=D("25"))
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.TOTAL_ABOVE, threshold=D("100000"))
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.BELOW_COST, threshold=None)
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=D("1"), is_active=False)
    quote = _discounted(world, "20")
    svc.quote_submit(quote=quote, by=world.rep1)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED and not quote.approvals.exists()


def test_total_and_below_cost_rules(world: Any) -> None:
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.TOTAL_ABOVE, threshold=D("500"))
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.BELOW_COST, threshold=None)
    quote = svc.quote_create(by=world.rep1, account=world.account)
    # 10 × 100 × (1 − 45 %) = 550 net → 55 per unit < cost 60
    svc.quote_line_add(
        quote=quote,
        by=world.rep1,
        data={"product": world.product, "quantity": "10", "discount_percent": "45"},
    )
    quote.refresh_from_db()
    hits = rules.rules_met(quote)
    assert [h.data for h in hits] == [
        {"rule": "total_above", "limit": "500", "actual": "621.50", "currency": "CNY"},
        {"rule": "below_cost", "lines": [world.product.name]},
    ]
    reasons = [h.reason for h in hits]
    assert reasons[0] == "Total 621.50 CNY is above 500 CNY"
    assert reasons[1] == f"Priced below cost: {world.product.name}"


def test_below_cost_compares_in_company_currency(world: Any) -> None:
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.BELOW_COST, threshold=None)
    quote = svc.quote_create(by=world.rep1, account=world.account, currency="USD")
    # 9 USD × 7.2 = 64.8 CNY ≥ 60: fine; 8 USD = 57.6 CNY < 60: below cost
    svc.quote_line_add(
        quote=quote, by=world.rep1, data={"product": world.product, "quantity": "1", "unit_price": "9"}
    )
    assert rules.rules_met(quote) == []
    svc.quote_line_add(
        quote=quote, by=world.rep1, data={"product": world.product, "quantity": "1", "unit_price": "8"}
    )
    assert len(rules.rules_met(quote)) == 1


def test_manager_approves_and_owner_is_notified(world: Any) -> None:
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=D("10"))
    quote = _discounted(world)
    svc.quote_submit(quote=quote, by=world.rep1)
    quote.refresh_from_db()
    step = quote.approvals.get()
    assert quote.status == QuoteStatus.PENDING and step.approver == world.manager1
    assert Notification.objects.filter(recipient=world.manager1, kind=svc.KIND_APPROVAL_REQUEST).exists()
    assert list(approvals_for(world.manager1)) == [step]
    assert list(approvals_for(world.rep2)) == []
    with pytest.raises(PermissionDeniedError):
        svc.quote_approve(quote=quote, by=world.rep2)
    svc.quote_approve(quote=quote, by=world.manager1, comment="可以")
    quote.refresh_from_db()
    step.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED and step.status == ApprovalStatus.APPROVED
    assert step.decided_by == world.manager1 and step.comment == "可以"
    assert Notification.objects.filter(recipient=world.rep1, kind=svc.KIND_APPROVAL_DECISION).exists()
    assert list(approvals_for(world.manager1)) == []
    assert TimelineEvent.objects.filter(
        event="quote.approved", object_id=quote.pk, account_id=world.account.pk
    ).exists()


def test_manager_walks_up_when_the_owner_is_the_manager(world: Any) -> None:
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=D("10"))
    quote = _discounted(world, by=world.manager1)
    svc.quote_submit(quote=quote, by=world.manager1)
    assert quote.approvals.get().approver == world.director


def test_manager_walks_up_when_the_department_has_none(world: Any) -> None:
    world.north.manager = None
    world.north.save(update_fields=["manager"])
    assert rules.approver_for(world.rep1) == world.director


def test_nobody_to_approve_fails_clearly(world: Any) -> None:
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=D("10"))
    for dept in (world.north, world.sales):
        dept.manager = None
        dept.save(update_fields=["manager"])
    quote = _discounted(world)
    with pytest.raises(QuoteError) as exc:
        svc.quote_submit(quote=quote, by=world.rep1)
    assert exc.value.code == "no_approver" and "manager" in str(exc.value.message)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT and not QuoteApproval.objects.exists()


def test_role_approver_and_two_steps(world: Any) -> None:
    finance = UserFactory.create(username="finance", department=world.hq, roles=[world.role_all])
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=D("10"), position=1)
    ApprovalRuleFactory.create(
        kind=ApprovalRuleKind.TOTAL_ABOVE,
        threshold=D("10"),
        approver_kind=ApproverKind.ROLE,
        role=world.role_all,
        position=2,
    )
    quote = _discounted(world)
    svc.quote_submit(quote=quote, by=world.rep1)
    assert quote.approvals.count() == 2
    assert [a.role for a in approvals_for(finance)] == [world.role_all]
    assert Notification.objects.filter(recipient=finance).exists()
    svc.quote_approve(quote=quote, by=world.manager1)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING
    svc.quote_approve(quote=quote, by=finance)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED


def test_role_nobody_holds_fails(world: Any) -> None:
    from kehu.users.tests.factories import RoleFactory

    ApprovalRuleFactory.create(
        kind=ApprovalRuleKind.TOTAL_ABOVE,
        threshold=D("1"),
        approver_kind=ApproverKind.ROLE,
        role=RoleFactory.create(),
    )
    with pytest.raises(QuoteError):
        svc.quote_submit(quote=_discounted(world), by=world.rep1)


def test_reject_sends_back_to_draft_with_the_comment(world: Any) -> None:
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=D("10"))
    ApprovalRuleFactory.create(
        kind=ApprovalRuleKind.TOTAL_ABOVE,
        threshold=D("1"),
        approver_kind=ApproverKind.ROLE,
        role=world.role_all,
    )
    UserFactory.create(roles=[world.role_all])
    quote = _discounted(world)
    svc.quote_submit(quote=quote, by=world.rep1)
    with pytest.raises(QuoteError):
        svc.quote_reject(quote=quote, by=world.manager1, comment=" ")
    svc.quote_reject(quote=quote, by=world.manager1, comment="折扣太大")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT and quote.is_editable
    statuses = sorted(quote.approvals.values_list("status", "comment"))
    assert statuses == [(ApprovalStatus.CANCELLED, ""), (ApprovalStatus.REJECTED, "折扣太大")]
    note = Notification.objects.get(recipient=world.rep1, kind=svc.KIND_APPROVAL_DECISION)
    assert note.body == "折扣太大"
    # resubmitting creates fresh steps
    svc.quote_submit(quote=quote, by=world.rep1)
    assert quote.approvals.filter(status=ApprovalStatus.PENDING).count() == 2


def test_recall_cancels_pending_steps(world: Any) -> None:
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=D("10"))
    quote = _discounted(world)
    svc.quote_submit(quote=quote, by=world.rep1)
    with pytest.raises(PermissionDeniedError):
        svc.quote_recall(quote=quote, by=world.rep2)
    svc.quote_recall(quote=quote, by=world.rep1)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT
    assert list(quote.approvals.values_list("status", flat=True)) == [ApprovalStatus.CANCELLED]
    assert list(approvals_for(world.manager1)) == []
    with pytest.raises(QuoteStateError):
        svc.quote_approve(quote=quote, by=world.manager1)


def test_owner_cannot_approve_own_quote_through_a_role(world: Any) -> None:
    ApprovalRuleFactory.create(
        kind=ApprovalRuleKind.TOTAL_ABOVE,
        threshold=D("1"),
        approver_kind=ApproverKind.ROLE,
        role=world.role_rep,
    )
    quote = _discounted(world)
    svc.quote_submit(quote=quote, by=world.rep1)
    assert list(approvals_for(world.rep1)) == []
    with pytest.raises(PermissionDeniedError):
        svc.quote_approve(quote=quote, by=world.rep1)
    svc.quote_approve(quote=quote, by=world.rep2)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED


# --- the rules themselves -----------------------------------------------------------------------------


def test_rule_crud_and_validation(world: Any) -> None:
    rule = rules.approval_rule_create(
        by=world.admin, data={"name": "大折扣", "kind": ApprovalRuleKind.DISCOUNT_ABOVE, "threshold": "15"}
    )
    assert rule.threshold == D("15") and rule.approver_kind == ApproverKind.MANAGER
    for data, field in (
        ({"name": "x", "kind": ApprovalRuleKind.DISCOUNT_ABOVE, "threshold": "150"}, "threshold"),
        ({"name": "x", "kind": ApprovalRuleKind.TOTAL_ABOVE}, "threshold"),
        ({"name": "x", "kind": ApprovalRuleKind.TOTAL_ABOVE, "threshold": "-1"}, "threshold"),
        ({"name": "x", "kind": ApprovalRuleKind.BELOW_COST, "approver_kind": ApproverKind.ROLE}, "role"),
        ({"name": "", "kind": ApprovalRuleKind.BELOW_COST}, "name"),
    ):
        with pytest.raises(ApprovalRuleError) as exc:
            rules.approval_rule_create(by=world.admin, data=data)
        assert field in exc.value.fields
    rules.approval_rule_update(rule=rule, by=world.admin, data={"kind": ApprovalRuleKind.BELOW_COST})
    rule.refresh_from_db()
    assert rule.threshold is None
    with pytest.raises(PermissionDeniedError):
        rules.approval_rule_delete(rule=rule, by=world.rep1)
    rules.approval_rule_delete(rule=rule, by=world.admin)
    assert ApprovalRule.objects.count() == 0
