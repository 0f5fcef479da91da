"""Pages of contracts: list, detail (header, attachments, orders, payment plan, timeline), create
and edit, delete, activate and terminate, attachments (upload, download through Django's storage,
delete), and the conversions of an accepted quote into a contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.permissions import can

from ..choices import AttachmentKind, ContractStatus
from ..filtersets_contracts import ContractFilterSet
from ..forms_contracts import AttachmentForm, ContractActivateForm, ContractForm, ContractTerminateForm
from ..models import Contract, Order, Quote
from ..selectors import contracts as selectors
from ..services import contracts as services
from ..tables_contracts import ContractTable

PLAN_PANEL = "commerce/payments/_plan_panel.html"


def template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


def show_errors(form: Any, exc: DomainError) -> None:
    """A refused service call on its form: each field message under its field, else on top."""
    shown = False
    for name, messages in (exc.fields or {}).items():
        for message in messages:
            if name in form.fields:
                form.add_error(name, message)
                shown = True
    if not shown:
        form.add_error(None, str(exc.message))


def render_action_form(
    request: HttpRequest, *, form: Any, title: str, action_url: str, cancel_url: str, status: int = 200
) -> HttpResponse:
    """A small form (activate, terminate, move; record or reverse a payment, apply credit, issue or
    void an invoice) as the htmx modal or a full page (`status`: 400 for a refused full-page post)."""
    context = {
        "form": form,
        "title": title,
        "action_url": action_url,
        "cancel_url": cancel_url,
        "breadcrumbs": [(title, None)],
    }
    if generic.is_htmx(request):
        return render(request, "core/_object_form_modal.html", context)
    return render(request, "core/object_edit.html", context, status=status)


def submit_action_form(
    request: HttpRequest,
    *,
    form: Any,
    perform: Callable[[dict[str, Any]], str],
    success_url: str,
    title: str,
    action_url: str,
    cancel_url: str,
) -> HttpResponse:
    """The round trip of a small action form: on a valid POST, `perform(cleaned_data)` calls the
    service and returns the success message (a `DomainError` it raises lands on the form's fields);
    otherwise, or when refused, the form again (400 for a refused full-page post)."""
    if request.method == "POST" and form.is_valid():
        try:
            message = perform(form.cleaned_data)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            return generic.success_response(request, url=success_url, message=message)
    return render_action_form(
        request,
        form=form,
        title=title,
        action_url=action_url,
        cancel_url=cancel_url,
        status=400 if request.method == "POST" else 200,
    )


# --- list / detail / edit / delete -------------------------------------------------------------


class ContractListView(generic.ObjectListView):
    model = Contract
    table_class = ContractTable
    filterset_class = ContractFilterSet
    exporter = "commerce.contract"


def _overview(request: HttpRequest, obj: Contract) -> dict[str, Any]:
    user = request.user
    may_change = (
        can(user, Contract, Action.CHANGE)
        and generic.in_scope(user, obj, Action.CHANGE)
        and obj.status in (ContractStatus.DRAFT, ContractStatus.ACTIVE)
    )

    return {
        "attachments": list(selectors.contract_attachments(contract=obj)),
        "attachment_form": AttachmentForm() if may_change else None,
        "may_change": may_change,
        "orders": list(selectors.contract_orders(user=user, contract=obj)),
        "may_add_order": can(user, Order, Action.ADD)
        and obj.status in (ContractStatus.DRAFT, ContractStatus.ACTIVE),
        "accept_types": ",".join(f".{t}" for t in services.attachment_types()),
        "max_mb": services.attachment_max_bytes() // (1024 * 1024),
        "plan_panel": PLAN_PANEL if template_exists(PLAN_PANEL) else "",
        "quote": obj.quote if obj.quote_id and _quote_visible(user, obj.quote_id) else None,
    }


def _quote_visible(user: Any, quote_id: int) -> bool:
    return Quote.objects.restrict(user, Action.VIEW).filter(pk=quote_id).exists()


class ContractDetailView(generic.ObjectDetailView):
    model = Contract
    template_name = "commerce/contracts/contract_detail.html"
    select_related = ("account", "contact", "owner", "opportunity", "quote")
    tabs = [
        generic.Tab(
            "overview",
            gettext_lazy("Overview"),
            "commerce/contracts/_overview.html",
            icon="info-circle",
            order=0,
            context=_overview,
        ),
        generic.Tab(
            "timeline",
            gettext_lazy("Timeline"),
            "commerce/contracts/_timeline.html",
            icon="timeline",
            order=20,
        ),
    ]

    def get_extra_context(self, obj: Contract) -> dict[str, Any]:
        user = self.request.user
        may_change = can(user, Contract, Action.CHANGE) and generic.in_scope(user, obj, Action.CHANGE)
        return {
            "may_activate": may_change and obj.status == ContractStatus.DRAFT,
            "may_terminate": may_change and obj.status == ContractStatus.ACTIVE,
            "can_change": may_change and obj.status in (ContractStatus.DRAFT, ContractStatus.ACTIVE),
            "can_delete": can(user, Contract, Action.DELETE)
            and obj.status == ContractStatus.DRAFT
            and generic.in_scope(user, obj, Action.DELETE),
        }


class ContractEditView(generic.ObjectEditView):
    model = Contract
    form_class = ContractForm

    def save(self, form: ContractForm, obj: Contract | None) -> Contract:
        if obj is None:
            return services.contract_create(by=self.request.user, data=form.service_data())
        return services.contract_update(
            contract=obj, by=self.request.user, data=form.service_data(), version=form.version
        )


class ContractDeleteView(generic.ObjectDeleteView):
    model = Contract

    def delete(self, obj: Contract) -> None:
        services.contract_delete(contract=obj, by=self.request.user)


# --- status -----------------------------------------------------------------------------------


def _for_change(request: HttpRequest, pk: int) -> Contract:
    """The contract to change: 404 out of sight, 403 seen but not changeable."""
    return generic.get_for_action(Contract, request.user, pk, Action.CHANGE)  # type: ignore[no-any-return,unused-ignore]


@login_required
def contract_activate_view(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _for_change(request, pk)
    data = request.POST if request.method == "POST" else None
    form = ContractActivateForm(data, initial={"signed_on": contract.signed_on})

    def perform(cleaned: dict[str, Any]) -> str:
        services.contract_activate(contract=contract, by=request.user, signed_on=cleaned["signed_on"])
        return _("Contract %(number)s is active.") % {"number": contract.number}

    return submit_action_form(
        request,
        form=form,
        perform=perform,
        success_url=contract.get_absolute_url(),
        title=_("Activate contract %(number)s") % {"number": contract.number},
        action_url=request.path,
        cancel_url=contract.get_absolute_url(),
    )


@login_required
def contract_terminate_view(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _for_change(request, pk)
    data = request.POST if request.method == "POST" else None
    form = ContractTerminateForm(data)

    def perform(cleaned: dict[str, Any]) -> str:
        services.contract_terminate(
            contract=contract,
            by=request.user,
            terminated_on=cleaned["terminated_on"],
            reason=cleaned["termination_reason"],
        )
        return _("Contract %(number)s is terminated.") % {"number": contract.number}

    return submit_action_form(
        request,
        form=form,
        perform=perform,
        success_url=contract.get_absolute_url(),
        title=_("Terminate contract %(number)s") % {"number": contract.number},
        action_url=request.path,
        cancel_url=contract.get_absolute_url(),
    )


# --- attachments ------------------------------------------------------------------------------


@login_required
@require_POST
def attachment_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _for_change(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.contract_attachment_add(
                contract=contract,
                by=request.user,
                upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"] or AttachmentKind.SIGNED,
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            return generic.success_response(
                request, url=contract.get_absolute_url(), message=_("Attachment added.")
            )
    context = {
        "object": contract,
        "attachments": list(selectors.contract_attachments(contract=contract)),
        "attachment_form": form,
        "may_change": True,
        "accept_types": ",".join(f".{t}" for t in services.attachment_types()),
        "max_mb": services.attachment_max_bytes() // (1024 * 1024),
    }
    return render(
        request,
        "commerce/contracts/_attachments.html",
        context,
        status=200 if generic.is_htmx(request) else 400,
    )


@login_required
def attachment_download_view(request: HttpRequest, pk: int, attachment: int) -> FileResponse:
    """The file, through Django's storage, for users who may view the contract (else 404)."""
    found = selectors.contract_attachment_get(user=request.user, contract_id=pk, pk=attachment)
    if found is None:
        raise Http404
    try:
        handle = found.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    return FileResponse(
        handle, as_attachment=True, filename=found.name, content_type=found.content_type or None
    )


@login_required
@require_POST
def attachment_delete_view(request: HttpRequest, pk: int, attachment: int) -> HttpResponse:
    contract = _for_change(request, pk)
    found = get_object_or_404(contract.attachments, pk=attachment)
    services.contract_attachment_delete(attachment=found, by=request.user)
    return generic.success_response(
        request, url=contract.get_absolute_url(), message=_("Attachment removed.")
    )


# --- conversions ------------------------------------------------------------------------------


def quote_for_conversion(request: HttpRequest, pk: int) -> Quote:
    """The quote (404 outside the view scope)."""
    return get_object_or_404(Quote.objects.restrict(request.user, Action.VIEW), pk=pk)


@login_required
@require_POST
def quote_contract_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Create contract" on an accepted quote."""
    quote = quote_for_conversion(request, pk)
    if not can(request.user, Contract, Action.ADD):
        raise PermissionDenied
    try:
        contract = services.contract_create_from_quote(by=request.user, quote=quote)
    except DomainError as exc:
        return generic.success_response(
            request, url=quote.get_absolute_url(), message=str(exc.message), level="error"
        )
    return generic.success_response(
        request,
        url=contract.get_absolute_url(),
        message=_("Contract %(number)s created from the quote.") % {"number": contract.number},
    )


urlpatterns = [
    path("contracts/", ContractListView.as_view(), name="contract_list"),
    path("contracts/add/", ContractEditView.as_view(), name="contract_add"),
    path("contracts/<int:pk>/", ContractDetailView.as_view(), name="contract_detail"),
    path("contracts/<int:pk>/edit/", ContractEditView.as_view(), name="contract_edit"),
    path("contracts/<int:pk>/delete/", ContractDeleteView.as_view(), name="contract_delete"),
    path("contracts/<int:pk>/activate/", contract_activate_view, name="contract_activate"),
    path("contracts/<int:pk>/terminate/", contract_terminate_view, name="contract_terminate"),
    path("contracts/<int:pk>/attachments/", attachment_add_view, name="contract_attachment_add"),
    path(
        "contracts/<int:pk>/attachments/<int:attachment>/",
        attachment_download_view,
        name="contract_attachment_download",
    ),
    path(
        "contracts/<int:pk>/attachments/<int:attachment>/delete/",
        attachment_delete_view,
        name="contract_attachment_delete",
    ),
    path("quotes/<int:pk>/contract/", quote_contract_create_view, name="quote_contract_create"),
]
