"""Reads of approval rules and approval steps."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from kehu.core.choices import Action

from ..choices import ApprovalStatus, QuoteStatus
from ..models import ApprovalRule, QuoteApproval


def approvals_for(user: Any) -> QuerySet[QuoteApproval]:
    """The pending approval steps `user` may decide: they are the approver, or hold the step's
    role (never steps of their own quotes), on quotes still waiting for approval."""
    if not getattr(user, "is_authenticated", False):
        return QuoteApproval.objects.none()
    role_ids = list(user.roles.values_list("pk", flat=True))
    return (
        QuoteApproval.objects.filter(
            Q(approver=user) | Q(approver__isnull=True, role_id__in=role_ids),
            status=ApprovalStatus.PENDING,
            quote__status=QuoteStatus.PENDING,
            quote__is_latest=True,
        )
        .exclude(quote__owner=user)
        .select_related("quote__account", "quote__owner", "role", "rule")
        .order_by("quote__submitted_at", "id")
    )


def approval_rule_list(*, user: Any) -> QuerySet[ApprovalRule]:
    return ApprovalRule.objects.restrict(user, Action.VIEW).select_related("role")
