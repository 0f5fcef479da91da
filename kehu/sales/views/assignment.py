"""Pages of assignment rules (settings) and user availability (leave)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.generic import is_htmx, success_response
from kehu.core.permissions import can

from ..choices import AssignmentAction, PoolKind
from ..forms_assignment import (
    AssignmentRuleForm,
    AvailabilityForm,
    conditions_form_filterset,
    conditions_from_post,
)
from ..models import AssignmentRule, Lead, UserAvailability
from ..selectors.assignment import availability_rows, conditions_summary, rules_by_kind
from ..services import assignment as services


def _crumbs(*extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("Administration"), None), (_("Assignment rules"), reverse("sales:rule_list")), *extra]


class RuleAdminView(LoginRequiredMixin, View):
    action = Action.VIEW

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not can(request.user, AssignmentRule, self.action):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class RuleListView(RuleAdminView):
    def get(self, request: HttpRequest) -> HttpResponse:
        sections = []
        for kind, label in PoolKind.choices:
            rules = rules_by_kind(kind)
            for rule in rules:
                rule.summary = conditions_summary(rule)  # type: ignore[attr-defined]
            sections.append({"kind": kind, "label": label, "rules": rules})
        return render(
            request,
            "sales/assignment_rule_list.html",
            {
                "sections": sections,
                "may_add": can(request.user, AssignmentRule, Action.ADD),
                "may_change": can(request.user, AssignmentRule, Action.CHANGE),
                "may_delete": can(request.user, AssignmentRule, Action.DELETE),
                "breadcrumbs": [(_("Administration"), None), (_("Assignment rules"), None)],
            },
        )


class RuleEditView(RuleAdminView):
    """Create (``?kind=lead|account``) or edit a rule: its action and its conditions (the list
    page's filters of that kind of record)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.action = Action.CHANGE if kwargs.get("pk") else Action.ADD
        return super().dispatch(request, *args, **kwargs)

    def _kind(self, request: HttpRequest, rule: AssignmentRule | None) -> str:
        if rule is not None:
            return rule.kind
        kind = request.GET.get("kind") or request.POST.get("kind") or PoolKind.LEAD
        if kind not in PoolKind.values:
            raise Http404
        return kind

    def _render(
        self, request: HttpRequest, form: AssignmentRuleForm, filterset: Any, rule: AssignmentRule | None
    ) -> HttpResponse:
        title = _("Edit assignment rule") if rule else _("New assignment rule")
        return render(
            request,
            "sales/assignment_rule_form.html",
            {
                "form": form,
                "filterset": filterset,
                "rule": rule,
                "kind": form.kind,
                "kind_label": PoolKind(form.kind).label,
                "title": title,
                "breadcrumbs": _crumbs((title, None)),
                "action_url": request.get_full_path(),
                "cancel_url": reverse("sales:rule_list"),
            },
            status=400 if request.method == "POST" else 200,
        )

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        rule = get_object_or_404(AssignmentRule, pk=pk) if pk else None
        kind = self._kind(request, rule)
        initial = {"action": AssignmentAction.ROUND_ROBIN, "is_active": True} if rule is None else {}
        form = AssignmentRuleForm(instance=rule, initial=initial, user=request.user, kind=kind)
        filterset = conditions_form_filterset(kind, initial=rule.conditions if rule else None)
        return self._render(request, form, filterset, rule)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        rule = get_object_or_404(AssignmentRule, pk=pk) if pk else None
        kind = self._kind(request, rule)
        form = AssignmentRuleForm(request.POST, instance=rule, user=request.user, kind=kind)
        filterset = conditions_form_filterset(kind, data=request.POST)
        if form.is_valid():
            data = form.service_data()
            data["conditions"] = conditions_from_post(kind, request.POST)
            try:
                if rule is None:
                    saved = services.assignment_rule_create(by=request.user, data=data)
                    message = _("Rule “%(name)s” created.") % {"name": saved.name}
                else:
                    saved = services.assignment_rule_update(rule=rule, by=request.user, data=data)
                    message = _("Rule “%(name)s” saved.") % {"name": saved.name}
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                return success_response(request, url=reverse("sales:rule_list"), message=message)
        return self._render(request, form, filterset, rule)


class RuleDeleteView(RuleAdminView):
    action = Action.DELETE

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = get_object_or_404(AssignmentRule, pk=pk)
        return render(
            request,
            "tags/_confirm_modal.html",
            {
                "title": _("Delete assignment rule"),
                "action_url": reverse("sales:rule_delete", args=[rule.pk]),
                "question": _("Delete the rule “%(name)s”?") % {"name": rule.name},
                "detail": _("Records already assigned keep their owner."),
                "danger": True,
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = get_object_or_404(AssignmentRule, pk=pk)
        name = rule.name
        services.assignment_rule_delete(rule=rule, by=request.user)
        return success_response(
            request, url=reverse("sales:rule_list"), message=_("Rule “%(name)s” deleted.") % {"name": name}
        )


class RuleReorderView(RuleAdminView):
    action = Action.CHANGE

    def post(self, request: HttpRequest) -> HttpResponse:
        # kind in the body, or in the URL (the shared drag-to-reorder script posts only ids)
        kind = request.POST.get("kind") or request.GET.get("kind", "")
        if kind not in PoolKind.values:
            raise Http404
        ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
        services.assignment_rules_reorder(kind=kind, ids=ids, by=request.user)
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps(
            {"kehu:toast": {"message": _("Order saved."), "level": "success"}}
        )
        return response


# --- availability ------------------------------------------------------------------------------


class AvailabilityListView(LoginRequiredMixin, View):
    """Who is available for new records. Everyone sees and sets their own line; users holding
    "assign" on leads (managers) set their team's."""

    def get(self, request: HttpRequest) -> HttpResponse:
        manages = can(request.user, Lead, Action.ASSIGN)
        return render(
            request,
            "sales/availability_list.html",
            {
                "rows": availability_rows(request.user, manages=manages),
                "manages": manages,
                "today": timezone.localdate(),
                "breadcrumbs": [(_("Sales"), None), (_("Availability"), None)],
            },
        )


class AvailabilityEditView(LoginRequiredMixin, View):
    def _user(self, request: HttpRequest, user_id: int) -> Any:
        if user_id != request.user.pk and not can(request.user, Lead, Action.ASSIGN):
            raise Http404
        return get_object_or_404(get_user_model(), pk=user_id, is_active=True)

    def _render(
        self, request: HttpRequest, form: AvailabilityForm, user: Any, status: int = 200
    ) -> HttpResponse:
        title = _("Availability of %(user)s") % {"user": user}
        context = {
            "form": form,
            "title": title,
            "action_url": reverse("sales:availability_edit", args=[user.pk]),
            "cancel_url": reverse("sales:availability"),
            "breadcrumbs": [
                (_("Sales"), None),
                (_("Availability"), reverse("sales:availability")),
                (title, None),
            ],
        }
        template = "core/_object_form_modal.html" if is_htmx(request) else "core/object_edit.html"
        return render(request, template, context, status=status)

    def get(self, request: HttpRequest, user_id: int) -> HttpResponse:
        user = self._user(request, user_id)
        current = UserAvailability.objects.filter(user=user).first()
        initial = (
            {
                "is_available": current.is_available,
                "away_from": current.away_from,
                "away_until": current.away_until,
                "note": current.note,
            }
            if current
            else {"is_available": True}
        )
        return self._render(request, AvailabilityForm(initial=initial), user)

    def post(self, request: HttpRequest, user_id: int) -> HttpResponse:
        user = self._user(request, user_id)
        form = AvailabilityForm(request.POST)
        if form.is_valid():
            try:
                services.user_availability_set(user=user, by=request.user, **form.cleaned_data)
            except DomainError as exc:
                for field, messages in exc.fields.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
                if not exc.fields:
                    form.add_error(None, str(exc.message))
            else:
                return success_response(
                    request, url=reverse("sales:availability"), message=_("Availability saved.")
                )
        return self._render(request, form, user, status=400)


urlpatterns: list[URLPattern] = [
    path("assignment-rules/", RuleListView.as_view(), name="rule_list"),
    path("assignment-rules/add/", RuleEditView.as_view(), name="rule_add"),
    path("assignment-rules/reorder/", RuleReorderView.as_view(), name="rule_reorder"),
    path("assignment-rules/<int:pk>/edit/", RuleEditView.as_view(), name="rule_edit"),
    path("assignment-rules/<int:pk>/delete/", RuleDeleteView.as_view(), name="rule_delete"),
    path("availability/", AvailabilityListView.as_view(), name="availability"),
    path("availability/<int:user_id>/", AvailabilityEditView.as_view(), name="availability_edit"),
]
