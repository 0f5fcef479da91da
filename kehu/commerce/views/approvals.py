"""The approvals inbox (quotes waiting for the user's decision) and the approval rule settings
pages (list / add / edit / delete under Settings, like the catalog's settings pages)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.catalog.selectors import currency_places
from kehu.core.choices import Action
from kehu.core.generic import ObjectDeleteView, ObjectEditView, ObjectListView, object_url, verbose
from kehu.core.permissions import can

from ..filtersets_quotes import ApprovalRuleFilterSet
from ..forms_quotes import ApprovalRuleForm
from ..models import ApprovalRule
from ..selectors.approvals import approvals_for
from ..services import approvals as services
from ..tables_quotes import ApprovalRuleTable


@login_required
def approval_inbox(request: HttpRequest) -> HttpResponse:
    """Pending approval steps the user may decide, with the quote, account, owner, reason, total."""
    steps = list(approvals_for(request.user)[:500])
    places: dict[str, int] = {}
    for step in steps:  # totals with their currency's decimals (one look-up per currency)
        code = step.quote.currency
        if code not in places:
            places[code] = currency_places(code)
        step.total_format = f"{places[code]}g"  # type: ignore[attr-defined]
    return render(
        request,
        "commerce/approvals/inbox.html",
        {
            "steps": steps,
            "title": _("Approvals"),
            "breadcrumbs": [(_("Approvals"), None)],
        },
    )


# --- approval rules (settings) -------------------------------------------------------------------


def _crumbs(model: type[models.Model], *extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("Administration"), None), (verbose(model, plural=True), object_url(model, "list")), *extra]


class _SettingsAccess:
    """Configuration records have no data scope to hide in: a user without the permission gets 403."""

    model: ClassVar[type[models.Model]] = ApprovalRule
    required: ClassVar[str] = Action.VIEW
    request: HttpRequest

    def required_action(self) -> str:
        return self.required

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not can(request.user, self.model, self.required_action()):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class ApprovalRuleListView(_SettingsAccess, ObjectListView):
    model = ApprovalRule
    table_class = ApprovalRuleTable
    filterset_class = ApprovalRuleFilterSet
    template_name = "commerce/approvals/rule_list.html"
    search_fields = ("name",)

    def get_extra_context(self) -> dict[str, Any]:
        user = self.request.user
        return {
            "breadcrumbs": [(_("Administration"), None), (verbose(ApprovalRule, plural=True), None)],
            "row_actions_template": "commerce/approvals/_rule_actions.html",
            "may_change": can(user, ApprovalRule, Action.CHANGE),
            "may_delete": can(user, ApprovalRule, Action.DELETE),
            "description": gettext_lazy(
                "When a submitted quote needs approval and by whom. Every active rule a quote meets adds "
                "one approval step; a quote that meets none is approved at once."
            ),
        }


class ApprovalRuleEditView(_SettingsAccess, ObjectEditView):
    model = ApprovalRule
    form_class = ApprovalRuleForm

    def required_action(self) -> str:
        return Action.CHANGE if self.kwargs.get("pk") else Action.ADD

    def save(self, form: Any, obj: ApprovalRule | None) -> ApprovalRule:
        data = form.service_data()
        if obj is None:
            return services.approval_rule_create(by=self.request.user, data=data)
        return services.approval_rule_update(rule=obj, by=self.request.user, data=data)

    def get_success_url(self, obj: Any) -> str:
        return object_url(ApprovalRule, "list") or "/"


class ApprovalRuleDeleteView(_SettingsAccess, ObjectDeleteView):
    model = ApprovalRule
    required = Action.DELETE

    def delete(self, obj: ApprovalRule) -> None:
        services.approval_rule_delete(rule=obj, by=self.request.user)


urlpatterns = [
    path("approvals/", approval_inbox, name="approval_inbox"),
    path("settings/approval-rules/", ApprovalRuleListView.as_view(), name="approvalrule_list"),
    path("settings/approval-rules/add/", ApprovalRuleEditView.as_view(), name="approvalrule_add"),
    path("settings/approval-rules/<int:pk>/edit/", ApprovalRuleEditView.as_view(), name="approvalrule_edit"),
    path(
        "settings/approval-rules/<int:pk>/delete/",
        ApprovalRuleDeleteView.as_view(),
        name="approvalrule_delete",
    ),
]
