"""Pages of leads (线索): list, detail, create/edit (with the collision check), delete, status
actions ("mark qualified", "mark unqualified"), conversion, and the admin's conversion mapping."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.permissions import is_admin
from kehu.customers.views import CreateOutOfScopeMixin
from kehu.customfields.selectors import custom_fields_for, picklist_label_map

from ..choices import LEAD_PICKLIST_FIELDS, LeadStatus
from ..filtersets_leads import LeadFilterSet
from ..forms_leads import LeadConvertForm, LeadForm, LeadUnqualifyForm
from ..models import ConversionFieldMap, Lead
from ..selectors.leads import lead_candidate_accounts, lead_conversion_matches
from ..services import leads as services
from ..tables_leads import STATUS_BADGES, LeadTable


class LeadListView(generic.ObjectListView):
    model = Lead
    table_class = LeadTable
    filterset_class = LeadFilterSet
    exporter = "sales.lead"
    title = gettext_lazy("Leads")


def _picklist_labels(lead: Lead) -> dict[str, str]:
    out = {}
    for name, code in LEAD_PICKLIST_FIELDS.items():
        value = getattr(lead, name)
        item = picklist_label_map(code).get(value) if value else None
        out[name] = item.display_label if item is not None else value
    return out


class LeadDetailView(generic.ObjectDetailView):
    """A lead's page: header facts (status, owner, source, last follow-up, what it became), then
    overview, timeline and history."""

    model = Lead
    template_name = "sales/lead_detail.html"
    select_related = (
        "owner",
        "department",
        "created_by",
        "converted_by",
        "converted_account",
        "converted_contact",
        "converted_opportunity",
    )
    tabs = [
        generic.Tab(
            "overview",
            gettext_lazy("Overview"),
            "sales/_lead_overview.html",
            icon="layout-dashboard",
            order=0,
        ),
        generic.Tab(
            "timeline", gettext_lazy("Timeline"), "sales/_lead_timeline.html", icon="timeline", order=20
        ),
    ]

    def get_extra_context(self, obj: Lead) -> dict[str, Any]:
        user = self.request.user
        can_change = generic.in_scope(user, obj, Action.CHANGE)
        pool_item = getattr(obj, "pool_item", None) if hasattr(obj, "pool_item") else None
        return {
            # A converted lead is read-only: no edit or delete.
            "can_change": can_change and not obj.is_converted,
            "can_delete": not obj.is_converted and generic.in_scope(user, obj, Action.DELETE),
            "can_convert": can_change and obj.can_convert(),
            "can_set_status": can_change and not obj.is_converted,
            "status_badge": STATUS_BADGES.get(obj.status, ""),
            "labels": _picklist_labels(obj),
            "pool_item": pool_item,
            "converted_links": _converted_links(user, obj) if obj.is_converted else {},
            "statuses": LeadStatus,
        }


def _converted_links(user: Any, lead: Lead) -> dict[str, Any]:
    """What the lead became, linked where the user may see it."""
    out: dict[str, Any] = {}
    for name in ("account", "contact", "opportunity"):
        target = getattr(lead, f"converted_{name}")
        if target is None:
            continue
        visible = type(target)._default_manager.restrict(user, Action.VIEW).filter(pk=target.pk).exists()
        out[name] = {"label": str(target), "url": target.get_absolute_url() if visible else ""}
    return out


class LeadEditView(CreateOutOfScopeMixin, generic.ObjectEditView):
    model = Lead
    form_class = LeadForm

    def get_object(self) -> Any:
        obj = super().get_object()
        if obj is not None and obj.is_converted:
            raise PermissionDenied(_("This lead was converted and is read-only."))
        return obj

    @transaction.atomic
    def save(self, form: LeadForm, obj: Lead | None) -> Lead:
        confirmed = bool(getattr(form, "collisions_confirmed", False))
        if obj is None:
            # The tags go in with the create, before the assignment rules (or the pool) take it.
            return services.lead_create(
                by=self.request.user,
                data=form.service_data(),  # type: ignore[arg-type]
                confirmed=confirmed,
                tags=form.new_tags(),
            )
        saved = services.lead_update(
            lead=obj,
            by=self.request.user,
            data=form.service_data(),  # type: ignore[arg-type]
            version=form.version,
            confirmed=confirmed,
        )
        form.save_tags(saved)
        return saved


class LeadDeleteView(generic.ObjectDeleteView):
    model = Lead

    def delete(self, obj: Lead) -> None:
        services.lead_delete(lead=obj, by=self.request.user)


class _LeadActionView(generic.KehuView):
    model = Lead

    def get_lead(self) -> Lead:
        return generic.get_for_action(Lead, self.request.user, self.kwargs["pk"], Action.CHANGE)


class LeadStatusView(_LeadActionView):
    """POST ``status`` (new, contacting, qualified): a one-click status change from the detail page."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        lead = self.get_lead()
        status = request.POST.get("status", "")
        if status == LeadStatus.UNQUALIFIED:
            raise Http404
        try:
            version = int(request.POST.get("version") or 0) or None
        except ValueError:
            version = None
        try:
            lead = services.lead_set_status(lead=lead, status=status, by=request.user, version=version)
        except DomainError as exc:
            return generic.success_response(
                request, url=lead.get_absolute_url(), message=exc.message, level="error"
            )
        message = _("Status set to “%(status)s”.") % {"status": lead.get_status_display()}
        return generic.success_response(request, url=lead.get_absolute_url(), message=message)


class LeadUnqualifyView(_LeadActionView):
    """Mark a lead unqualified with a reason (modal)."""

    def render_form(self, lead: Lead, form: LeadUnqualifyForm, status: int = 200) -> HttpResponse:
        context = {
            "object": lead,
            "form": form,
            "title": _("Mark as unqualified"),
            "action_url": request_path(self.request),
            "cancel_url": lead.get_absolute_url(),
            "breadcrumbs": [
                self.list_crumb(),
                (str(lead), lead.get_absolute_url()),
                (_("Mark as unqualified"), None),
            ],
        }
        template = (
            "core/_object_form_modal.html" if generic.is_htmx(self.request) else "core/object_edit.html"
        )
        return render(self.request, template, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        lead = self.get_lead()
        return self.render_form(lead, LeadUnqualifyForm(initial={"version": lead.version}))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        lead = self.get_lead()
        form = LeadUnqualifyForm(request.POST)
        if form.is_valid():
            try:
                services.lead_set_status(
                    lead=lead,
                    status=LeadStatus.UNQUALIFIED,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    version=form.cleaned_data.get("version"),
                )
            except DomainError as exc:
                for message in exc.fields.get("unqualified_reason", []):
                    form.add_error("reason", message)
                if not exc.fields.get("unqualified_reason"):
                    form.add_error(None, str(exc.message))
            else:
                return generic.success_response(
                    request, url=lead.get_absolute_url(), message=_("The lead was marked as unqualified.")
                )
        return self.render_form(lead, form, status=200 if generic.is_htmx(request) else 400)


def request_path(request: HttpRequest) -> str:
    return request.get_full_path()


class LeadConvertView(_LeadActionView):
    """The conversion page: the collision check's matching accounts to pick, or a new account; a
    contact; optionally an opportunity. POST converts (one transaction) and goes to the account."""

    template_name = "sales/lead_convert.html"

    def context(
        self, lead: Lead, form: LeadConvertForm | None = None, matches: list[Any] | None = None
    ) -> dict[str, Any]:
        return {
            "object": lead,
            "form": form,
            "matches": matches or [],
            "title": _("Convert lead"),
            "action_url": request_path(self.request),
            "cancel_url": lead.get_absolute_url(),
            "breadcrumbs": [self.list_crumb(), (str(lead), lead.get_absolute_url()), (_("Convert"), None)],
        }

    def build(self, lead: Lead, data: Any = None) -> tuple[LeadConvertForm, list[Any]]:
        user = self.request.user
        matches = lead_conversion_matches(user=user, lead=lead)
        candidates = lead_candidate_accounts(user=user, lead=lead, matches=matches)
        return LeadConvertForm(data, user=user, lead=lead, candidates=candidates), matches

    def refused(self, lead: Lead, message: str, status: int = 409) -> HttpResponse:
        context = {**self.context(lead), "error": message}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        lead = self.get_lead()
        if lead.is_converted:
            return self.refused(lead, _("This lead has already been converted."))
        if not lead.can_convert():
            return self.refused(
                lead, _("Only a qualified lead can be converted. Mark it as qualified first."), 400
            )
        form, matches = self.build(lead)
        return render(request, self.template_name, self.context(lead, form, matches))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        lead = self.get_lead()
        form, matches = self.build(lead, request.POST)
        if form.is_valid():
            kwargs = form.service_kwargs()
            # Creating a new account while the check found matches: the user saw them here.
            confirmed = kwargs["account"] is None
            try:
                result = services.lead_convert(lead=lead, by=request.user, confirmed=confirmed, **kwargs)
            except DomainError as exc:
                for name, messages in exc.fields.items():
                    for message in messages:
                        if name in form.fields:
                            form.add_error(name, message)
                form.add_error(None, str(exc.message))
            else:
                target = result.opportunity or result.account
                url = target.get_absolute_url()
                if not generic.in_scope(request.user, target, Action.VIEW):
                    url = lead.get_absolute_url()
                return generic.success_response(
                    request,
                    url=url,
                    message=_("Lead “%(lead)s” converted into “%(account)s”.")
                    % {"lead": lead, "account": result.account},
                )
        return render(request, self.template_name, self.context(lead, form, matches), status=400)


# --- the conversion mapping (administration) ------------------------------------------------------


class ConversionMapView(LoginRequiredMixin, View):
    """Administrators decide which custom field of a lead carries over into which custom field of
    the account, the contact or the opportunity on conversion."""

    template_name = "sales/lead_conversion_map.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not is_admin(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def context(self, error: str = "") -> dict[str, Any]:
        targets = {
            label: [
                (f.name, f.display_label if hasattr(f, "display_label") else f.label)
                for f in custom_fields_for(label)
            ]
            for label, _name in ConversionFieldMap.TARGETS
        }
        return {
            "rows": list(ConversionFieldMap.objects.all()),
            "lead_fields": [(f.name, getattr(f, "display_label", f.label)) for f in custom_fields_for(Lead)],
            "targets": ConversionFieldMap.TARGETS,
            "target_fields": targets,
            "error": error,
            "title": _("Lead conversion mapping"),
            "breadcrumbs": [(_("Lead conversion mapping"), None)],
        }

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, self.context())

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            if request.POST.get("delete"):
                services.conversion_map_delete(by=request.user, pk=int(request.POST["delete"]))
            else:
                services.conversion_map_set(
                    by=request.user,
                    lead_field=request.POST.get("lead_field", ""),
                    target_model=request.POST.get("target_model", ""),
                    target_field=request.POST.get("target_field", ""),
                )
        except (DomainError, ValueError) as exc:
            message = str(getattr(exc, "message", exc))
            return render(request, self.template_name, self.context(message), status=400)
        return generic.success_response(
            request, url=reverse("sales:lead_conversion_map"), message=_("Saved.")
        )


class LeadAutocompleteView(generic.ObjectAutocompleteView):
    model = Lead
    search_fields = ("name", "company")


urlpatterns: list[URLPattern] = [
    path("leads/", LeadListView.as_view(), name="lead_list"),
    path("leads/add/", LeadEditView.as_view(), name="lead_add"),
    path("leads/autocomplete/", LeadAutocompleteView.as_view(), name="lead_autocomplete"),
    path("leads/conversion-mapping/", ConversionMapView.as_view(), name="lead_conversion_map"),
    path("leads/<int:pk>/", LeadDetailView.as_view(), name="lead_detail"),
    path("leads/<int:pk>/edit/", LeadEditView.as_view(), name="lead_edit"),
    path("leads/<int:pk>/delete/", LeadDeleteView.as_view(), name="lead_delete"),
    path("leads/<int:pk>/status/", LeadStatusView.as_view(), name="lead_status"),
    path("leads/<int:pk>/unqualify/", LeadUnqualifyView.as_view(), name="lead_unqualify"),
    path("leads/<int:pk>/convert/", LeadConvertView.as_view(), name="lead_convert"),
]
