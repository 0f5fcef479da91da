"""Churn warning (流失预警): the at-risk accounts a manager may see (their account scope), filtered
by reason, with the resolve action; and the churn rules' settings pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.generic import get_for_action, is_htmx, paginate, success_response
from kehu.core.permissions import can

from ..choices import ChurnSignal, RiskStatus
from ..forms_surveys import ChurnRuleForm, ResolveRiskForm
from ..models import AccountRisk, ChurnRule
from ..selectors import churn as selectors
from ..services import churn as services

PER_PAGE = 50
RULE_FIELDS = (
    "name",
    "name_en",
    "signal",
    "threshold",
    "window_days",
    "is_active",
    "create_task",
    "task_due_days",
)


def _require(request: HttpRequest, model: type, action: str) -> None:
    if not can(request.user, model, action):
        raise PermissionDenied


def _form_errors(form: Any, exc: DomainError) -> None:
    for name, messages in exc.fields.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
    if not exc.fields:
        form.add_error(None, str(exc.message))


# --- at-risk accounts -------------------------------------------------------------------------


@login_required
@require_GET
def risk_list_view(request: HttpRequest) -> HttpResponse:
    _require(request, AccountRisk, Action.VIEW)
    signal = request.GET.get("signal") or ""
    if signal not in ChurnSignal.values and signal != "model":
        signal = ""
    status = request.GET.get("status") or RiskStatus.OPEN
    if status not in (*RiskStatus.values, "all"):
        status = RiskStatus.OPEN
    qs = selectors.risk_list(
        user=request.user, status=None if status == "all" else status, signal=signal or None
    )
    page = paginate(qs, request.GET.get("page"), PER_PAGE)
    rows = [
        {"risk": risk, "reasons": [services.reason_text(r) for r in risk.reasons]}
        for risk in page.object_list
    ]
    return render(
        request,
        "service/churn/risk_list.html",
        {
            "rows": rows,
            "page": page,
            "signal": signal,
            "status": status,
            "signals": [*ChurnSignal.choices, ("model", _("Churn model"))],
            "statuses": [*RiskStatus.choices, ("all", _("All"))],
            "may_resolve": can(request.user, AccountRisk, Action.CHANGE),
            "may_rules": can(request.user, ChurnRule, Action.VIEW),
            "breadcrumbs": [(_("Service"), None), (_("At-risk accounts"), None)],
        },
    )


def _visible_risk(request: HttpRequest, pk: int, action: str) -> AccountRisk:
    risk = selectors.risk_list(user=request.user, status=None, action=action).filter(pk=pk).first()
    if risk is None:
        if selectors.risk_list(user=request.user, status=None).filter(pk=pk).exists():
            raise PermissionDenied
        raise Http404
    return risk


@login_required
@require_http_methods(["GET", "POST"])
def risk_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    risk = _visible_risk(request, pk, Action.CHANGE)
    form = ResolveRiskForm(request.POST or None)
    back = request.POST.get("next") or request.GET.get("next") or reverse("service:risk_list")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("service:risk_list")
    if request.method == "POST" and form.is_valid():
        try:
            services.account_risk_resolve(
                risk=risk, by=request.user, note=form.cleaned_data.get("note") or ""
            )
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            return success_response(
                request,
                url=back,
                message=_("Churn warning for %(account)s resolved.") % {"account": risk.account.name},
            )
    template = "service/churn/_resolve_modal.html" if is_htmx(request) else "service/churn/resolve.html"
    return render(
        request,
        template,
        {
            "risk": risk,
            "form": form,
            "next": back,
            "reasons": [services.reason_text(r) for r in risk.reasons],
            "breadcrumbs": [
                (_("At-risk accounts"), reverse("service:risk_list")),
                (str(risk.account.name), None),
            ],
        },
        status=400 if request.method == "POST" else 200,
    )


# --- churn rules ------------------------------------------------------------------------------


def _rule_crumbs(*extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("Administration"), None), (_("Churn rules"), reverse("service:churn_rule_list")), *extra]


@login_required
@require_GET
def churn_rule_list_view(request: HttpRequest) -> HttpResponse:
    _require(request, ChurnRule, Action.VIEW)
    return render(
        request,
        "service/churn/rule_list.html",
        {
            "rules": selectors.rule_list(user=request.user),
            "may_add": can(request.user, ChurnRule, Action.ADD),
            "may_change": can(request.user, ChurnRule, Action.CHANGE),
            "may_delete": can(request.user, ChurnRule, Action.DELETE),
            "breadcrumbs": [*_rule_crumbs()[:1], (_("Churn rules"), None)],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def churn_rule_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule: ChurnRule | None = None
    if pk is None:
        _require(request, ChurnRule, Action.ADD)
        initial: dict[str, Any] = {
            "window_days": 30,
            "task_due_days": 3,
            "is_active": True,
            "create_task": True,
        }
    else:
        _require(request, ChurnRule, Action.CHANGE)
        rule = get_for_action(ChurnRule, request.user, pk, Action.CHANGE)
        initial = {name: getattr(rule, name) for name in RULE_FIELDS}
    form = ChurnRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                rule = services.churn_rule_create(by=request.user, data=form.cleaned_data)
            else:
                rule = services.churn_rule_update(rule=rule, by=request.user, data=form.cleaned_data)
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            return success_response(
                request,
                url=reverse("service:churn_rule_list"),
                message=_("Churn rule “%(name)s” saved.") % {"name": rule},
            )
    title = _("New churn rule") if rule is None else _("Edit %(name)s") % {"name": rule}
    return render(
        request,
        "service/churn/rule_form.html",
        {"form": form, "rule": rule, "title": title, "breadcrumbs": _rule_crumbs((title, None))},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def churn_rule_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, ChurnRule, Action.DELETE)
    rule = get_for_action(ChurnRule, request.user, pk, Action.DELETE)
    services.churn_rule_delete(rule=rule, by=request.user)
    return success_response(
        request,
        url=reverse("service:churn_rule_list"),
        message=_("Churn rule “%(name)s” deleted.") % {"name": rule},
    )


urlpatterns: list[URLPattern] = [
    path("at-risk/", risk_list_view, name="risk_list"),
    path("at-risk/<int:pk>/resolve/", risk_resolve_view, name="risk_resolve"),
    path("churn-rules/", churn_rule_list_view, name="churn_rule_list"),
    path("churn-rules/add/", churn_rule_edit_view, name="churn_rule_add"),
    path("churn-rules/<int:pk>/edit/", churn_rule_edit_view, name="churn_rule_edit"),
    path("churn-rules/<int:pk>/delete/", churn_rule_delete_view, name="churn_rule_delete"),
]
