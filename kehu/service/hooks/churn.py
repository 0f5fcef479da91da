"""Registrations of churn warning: permissions, audit, menu items (at-risk accounts, churn rules),
the owner's notification kind, timeline events, the daily evaluation, and the "At risk" fact and
card on the account 360°."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _open_risk(request: HttpRequest, obj: Any) -> Any:
    from ..selectors.churn import account_open_risk

    cache = getattr(request, "_kehu_open_risk", None)
    if cache is None:
        cache = {}
        request._kehu_open_risk = cache  # type: ignore[attr-defined]
    if obj.pk not in cache:
        cache[obj.pk] = account_open_risk(user=request.user, account_id=obj.pk)
    return cache[obj.pk]


def _fact(request: HttpRequest, obj: Any) -> Any:
    from django.utils.html import format_html

    risk = _open_risk(request, obj)
    if risk is None:
        return None
    return format_html('<span class="badge bg-red text-red-fg" data-at-risk>{}</span>', _("At risk"))


def _panel(request: HttpRequest, obj: Any) -> dict[str, Any] | None:
    from ..selectors.churn import may_resolve
    from ..services.churn import reason_text

    risk = _open_risk(request, obj)
    if risk is None:
        return None
    return {
        "risk": risk,
        "reasons": [reason_text(r) for r in risk.reasons],
        "may_resolve": may_resolve(user=request.user, risk=risk),
    }


def register() -> None:
    from kehu.audit import events
    from kehu.audit import registry as audit_registry
    from kehu.core import generic, navigation, permissions
    from kehu.core.choices import Action
    from kehu.notifications import kinds

    from .. import tasks_churn  # noqa: F401  (the worker registers the daily task)
    from ..models import AccountRisk, ChurnRule
    from ..services import churn as services

    permissions.register(
        ChurnRule, actions=(Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE), group=_("Service")
    )
    permissions.register(AccountRisk, actions=(Action.VIEW, Action.CHANGE), group=_("Service"))
    audit_registry.register(ChurnRule)
    audit_registry.register(AccountRisk)
    kinds.register_kind(
        services.NOTIFY_KIND,
        _("Accounts at risk of churning"),
        default_channels={"in_app", "email"},
        description=_("A churn rule flagged one of your accounts as at risk."),
        order=60,
    )
    events.register_event(services.EVENT_FLAGGED, _("Flagged at risk of churning"), icon="alert-triangle")
    events.register_event(services.EVENT_RESOLVED, _("Churn warning resolved"), icon="circle-check")
    navigation.register_item(
        "service",
        navigation.MenuItem(
            _("At-risk accounts"),
            "service:risk_list",
            icon="alert-triangle",
            requires=("service.accountrisk", "view"),
        ),
    )
    navigation.register_item(
        "settings",
        navigation.MenuItem(
            _("Churn rules"),
            "service:churn_rule_list",
            icon="chart-arrows-vertical",
            requires=("service.churnrule", "view"),
        ),
    )
    generic.register_fact(
        "customers.account",
        generic.Fact(
            "service.at_risk",
            _("Churn warning"),
            _fact,
            order=5,
            icon="alert-triangle",
            url=lambda request, obj: f"{obj.get_absolute_url()}#panel-service.at_risk",
        ),
    )
    generic.register_panel(
        "customers.account",
        generic.Panel(
            "service.at_risk",
            _("Churn warning"),
            "service/churn/_account_panel.html",
            context=_panel,
            order=1,
            icon="alert-triangle",
        ),
    )
