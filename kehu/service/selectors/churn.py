"""Reads of churn warning: the at-risk accounts a user may see (their account scope), an
account's open flag, the rules."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from kehu.core.choices import Action
from kehu.core.permissions import can

from ..choices import RiskStatus
from ..models import AccountRisk, ChurnRule


def risk_list(
    *, user: Any, status: str | None = RiskStatus.OPEN, signal: str | None = None, action: str = Action.VIEW
) -> QuerySet[AccountRisk]:
    """Flags the user may see: AccountRisk's permission, restricted to the accounts the user may
    view (own / department / below / all, as their account scope says)."""
    from kehu.customers.models import Account

    if not can(user, Account, Action.VIEW):
        return AccountRisk.objects.none()
    accounts = Account.objects.restrict(user, Action.VIEW).values("pk")
    qs = AccountRisk.objects.restrict(user, action).filter(account_id__in=accounts)
    if status:
        qs = qs.filter(status=status)
    if signal:
        # reasons is a JSON list of {"signal": ...}: match the text (portable across databases).
        qs = qs.filter(
            Q(reasons__icontains=f'"signal": "{signal}"') | Q(reasons__icontains=f'"signal":"{signal}"')
        )
    return qs.select_related("account", "account__owner", "resolved_by").order_by("-flagged_at", "-id")


def account_open_risk(*, user: Any, account_id: int) -> AccountRisk | None:
    """The account's open flag, when the user may see it (`risk_list`'s scope)."""
    return risk_list(user=user).filter(account_id=account_id).first()


def may_resolve(*, user: Any, risk: AccountRisk) -> bool:
    """Whether the user may resolve the flag: "change" on it within their account scope."""
    return risk_list(user=user, status=None, action=Action.CHANGE).filter(pk=risk.pk).exists()


def rule_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[ChurnRule]:
    return ChurnRule.objects.restrict(user, action).order_by("id")
