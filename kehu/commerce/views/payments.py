"""Pages of payments (回款), payment plans and invoices (发票): lists, detail pages, the record-payment
form, the reversal dialog, the plan editor (a partial included on contract and order pages) and
the invoice actions. Every read starts from `restrict()`; every write calls one service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.permissions import can

from ..filtersets_payments import InvoiceFilterSet, PaymentFilterSet
from ..forms_payments import (
    InvoiceForm,
    InvoiceIssueForm,
    InvoiceVoidForm,
    PaymentRecordForm,
    PaymentReverseForm,
    PlanForm,
)
from ..models import Contract, Instalment, Invoice, Order, Payment, PaymentPlan
from ..selectors import payments as selectors
from ..services import invoices as invoice_services
from ..services import payments as services
from ..tables_payments import InvoiceTable, PaymentTable
from ..templatetags.commerce_payments import plan_panel_context
from .contracts import submit_action_form

PLAN_BODY = "commerce/payments/_plan_panel_body.html"


def _require_login(request: HttpRequest) -> None:
    """Function views are wrapped in `login_required` (anonymous users go to the login page)."""
    if not request.user.is_authenticated:  # pragma: no cover - login_required answers first
        raise PermissionDenied


# --- payments ---------------------------------------------------------------------------------


class PaymentListView(generic.ObjectListView):
    model = Payment
    table_class = PaymentTable
    filterset_class = PaymentFilterSet
    exporter = "commerce.payment"


def _payment_overview(request: HttpRequest, obj: Payment) -> dict[str, Any]:
    reversal = Payment.objects.filter(reverses=obj).first()
    return {
        "reversal": reversal,
        "reversed": reversal is not None,
        "document": services._document_of(obj.plan) if obj.plan_id else None,
        "invoices": list(obj.invoices.all()),
    }


class PaymentDetailView(generic.ObjectDetailView):
    model = Payment
    template_name = "commerce/payments/payment_detail.html"
    select_related = ("account", "instalment", "plan__contract", "plan__order", "owner", "reverses")
    tabs = [
        generic.Tab(
            "overview",
            gettext_lazy("Overview"),
            "commerce/payments/_payment_overview.html",
            icon="info-circle",
            order=0,
            context=_payment_overview,
        )
    ]

    def get_extra_context(self, obj: Payment) -> dict[str, Any]:
        user = self.request.user
        may_reverse = (
            obj.reverses_id is None
            and can(user, Payment, Action.CHANGE)
            and generic.in_scope(user, obj, Action.CHANGE)
            and not selectors.is_reversed(obj)
        )
        return {"may_reverse": may_reverse, "can_change": False, "can_delete": False}


@login_required
def payment_reverse_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The reversal dialog (GET) and the reversal (POST): the reason is required."""
    _require_login(request)
    payment = generic.get_for_action(Payment, request.user, pk, Action.CHANGE)
    form = PaymentReverseForm(request.POST or None)

    def perform(cleaned: dict[str, Any]) -> str:
        services.payment_reverse(payment=payment, reason=cleaned["reason"], by=request.user)
        return _("Payment %(number)s reversed.") % {"number": payment.number}

    return submit_action_form(
        request,
        form=form,
        perform=perform,
        success_url=payment.get_absolute_url(),
        title=_("Reverse payment %(number)s") % {"number": payment.number},
        action_url=reverse("commerce:payment_reverse", args=[pk]),
        cancel_url=payment.get_absolute_url(),
    )


def _record_target(request: HttpRequest) -> tuple[Any, Instalment | None, Any]:
    """The account, the instalment and the document the form was opened from (?instalment=,
    ?contract=, ?order= or ?account=), all within the user's view scope."""
    from kehu.customers.models import Account

    params = request.GET
    user = request.user
    instalment = None
    document: Any = None
    account = None

    def _id(name: str) -> int | None:
        raw = params.get(name)
        try:
            return int(raw) if raw else None
        except ValueError:
            raise Http404 from None

    if (pk := _id("instalment")) is not None:
        instalment = get_object_or_404(
            Instalment.objects.restrict(user, Action.VIEW).select_related("plan"), pk=pk
        )
        account = instalment.account
        document = services._document_of(instalment.plan)
    elif (pk := _id("contract")) is not None:
        document = get_object_or_404(Contract.objects.restrict(user, Action.VIEW), pk=pk)
        account = document.account
    elif (pk := _id("order")) is not None:
        document = get_object_or_404(Order.objects.restrict(user, Action.VIEW), pk=pk)
        account = document.account
    elif (pk := _id("account")) is not None:
        account = get_object_or_404(Account.objects.restrict(user, Action.VIEW), pk=pk)
    if account is None:
        raise Http404
    return account, instalment, document


@login_required
def payment_record_view(request: HttpRequest) -> HttpResponse:
    """Record a payment: from an instalment, a contract or order page, or an account."""
    _require_login(request)
    if not can(request.user, Payment, Action.ADD):
        raise PermissionDenied
    account, instalment, document = _record_target(request)
    choices = selectors.open_instalments(user=request.user, account=account)
    if document is not None:
        plan = selectors.plan_of(document)
        choices = choices.filter(plan=plan) if plan is not None else choices.none()
    initial: dict[str, Any] = {}
    if instalment is not None:
        initial = {"instalment": instalment.pk, "amount": instalment.outstanding}
    form = PaymentRecordForm(request.POST or None, instalments=choices, initial=initial)
    query = request.GET.urlencode()
    url = reverse("commerce:payment_record") + (f"?{query}" if query else "")
    back = generic.safe_next(request) or (document or account).get_absolute_url()

    def perform(cleaned: dict[str, Any]) -> str:
        payment = services.payment_record(
            account=account,
            instalment=cleaned["instalment"],
            amount=cleaned["amount"],
            received_on=cleaned["received_on"],
            method=cleaned["method"],
            reference=cleaned["reference"],
            note=cleaned["note"],
            allow_credit=cleaned["allow_credit"],
            by=request.user,
        )
        return _("Payment %(number)s recorded: %(amount)s %(currency)s.") % {
            "number": payment.number,
            "amount": payment.amount,
            "currency": payment.currency,
        }

    return submit_action_form(
        request,
        form=form,
        perform=perform,
        success_url=back,
        title=_("Record a payment from %(account)s") % {"account": account},
        action_url=url,
        cancel_url=back,
    )


class CreditApplyForm(forms.Form):
    """How much of the account's credit pays the instalment (the service checks the credit and
    what the instalment still lacks)."""

    amount = forms.DecimalField(
        label=gettext_lazy("Amount"),
        max_digits=18,
        decimal_places=4,
        widget=forms.NumberInput({"step": "0.01", "min": "0"}),
    )


@login_required
def instalment_apply_credit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Pay an instalment from its account's credit (GET: the dialog, POST: `payment_apply_credit`).
    Needs the permission to record payments; an instalment out of view scope answers 404."""
    _require_login(request)
    instalment = get_object_or_404(
        Instalment.objects.restrict(request.user, Action.VIEW).select_related("plan", "account"), pk=pk
    )
    if not can(request.user, Payment, Action.ADD):
        raise PermissionDenied
    credit = selectors.account_credit(instalment.account_id, instalment.currency)
    outstanding = instalment.outstanding
    form = CreditApplyForm(request.POST or None, initial={"amount": max(min(credit, outstanding), 0)})
    form.fields["amount"].help_text = _(
        "Credit on the account: %(currency)s %(credit)s · outstanding: %(currency)s %(outstanding)s."
    ) % {"currency": instalment.currency, "credit": f"{credit:,.2f}", "outstanding": f"{outstanding:,.2f}"}
    document = services._document_of(instalment.plan)
    back = generic.safe_next(request) or (document or instalment.account).get_absolute_url()

    def perform(cleaned: dict[str, Any]) -> str:
        services.payment_apply_credit(instalment=instalment, amount=cleaned["amount"], by=request.user)
        return _("Credit of %(amount)s %(currency)s applied to %(instalment)s.") % {
            "amount": f"{cleaned['amount']:,.2f}",
            "currency": instalment.currency,
            "instalment": instalment,
        }

    return submit_action_form(
        request,
        form=form,
        perform=perform,
        success_url=back,
        title=_("Apply credit to %(instalment)s") % {"instalment": instalment},
        action_url=reverse("commerce:instalment_apply_credit", args=[pk]),
        cancel_url=back,
    )


# --- payment plans ----------------------------------------------------------------------------


def _document_for_plan(request: HttpRequest, kind: str, pk: int) -> Contract | Order:
    model: Any = {"contract": Contract, "order": Order}.get(kind)
    if model is None:
        raise Http404
    document = generic.get_for_action(model, request.user, pk, Action.VIEW)
    if not model.objects.restrict(request.user, Action.CHANGE).filter(pk=pk).exists():
        raise PermissionDenied
    return document


@login_required
def plan_edit_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The plan editor (dynamic rows) of a contract or an order; GET shows the form in the panel,
    POST saves through `payment_plan_set` and answers the refreshed panel (or redirects)."""
    _require_login(request)
    document = _document_for_plan(request, kind, pk)
    plan = selectors.plan_of(document)
    if not can(request.user, PaymentPlan, Action.CHANGE if plan else Action.ADD):
        raise PermissionDenied
    errors: list[str] = []
    rows: list[tuple[Any, Any, str]] = []
    if request.method == "POST":
        form = PlanForm(request.POST)
        form.is_valid()
        rows = form.rows
        errors = [str(e) for e in form.non_field_errors()]
        if not errors:
            try:
                plan = services.payment_plan_set(
                    contract=document if isinstance(document, Contract) else None,
                    order=document if isinstance(document, Order) else None,
                    instalments=rows,
                    by=request.user,
                )
            except DomainError as exc:
                errors = [m for ms in exc.fields.values() for m in ms] or [str(exc.message)]
            else:
                if not generic.is_htmx(request):
                    return generic.success_response(
                        request, url=document.get_absolute_url(), message=_("Payment plan saved.")
                    )
                context = plan_panel_context(request.user, document, plan)
                context["saved"] = True
                return render(request, PLAN_BODY, context)
    elif plan is not None:
        rows = [(i.due_on, i.amount, i.note) for i in selectors.plan_instalments(plan)]
    context = plan_panel_context(request.user, document, plan)
    context.update(
        {
            "editing": True,
            "edit_rows": rows or [(None, context["value"], "")],
            "errors": errors,
            "edit_url": reverse("commerce:payment_plan_edit", args=[kind, pk]),
        }
    )
    status = 200 if (generic.is_htmx(request) or not errors) else 400
    if generic.is_htmx(request):
        return render(request, PLAN_BODY, context)
    context["breadcrumbs"] = [(str(document), document.get_absolute_url()), (_("Payment plan"), None)]
    return render(request, "commerce/payments/plan_edit.html", context, status=status)


# --- invoices ---------------------------------------------------------------------------------


class InvoiceListView(generic.ObjectListView):
    model = Invoice
    table_class = InvoiceTable
    filterset_class = InvoiceFilterSet


def _invoice_overview(request: HttpRequest, obj: Invoice) -> dict[str, Any]:
    return {
        "payments": list(Payment.objects.restrict(request.user, Action.VIEW).filter(invoices=obj)),
        "document": obj.contract or obj.order,
    }


class InvoiceDetailView(generic.ObjectDetailView):
    model = Invoice
    template_name = "commerce/payments/invoice_detail.html"
    select_related = ("account", "contract", "order", "owner")
    tabs = [
        generic.Tab(
            "overview",
            gettext_lazy("Overview"),
            "commerce/payments/_invoice_overview.html",
            icon="info-circle",
            order=0,
            context=_invoice_overview,
        )
    ]

    def get_extra_context(self, obj: Invoice) -> dict[str, Any]:
        user = self.request.user
        may_change = can(user, Invoice, Action.CHANGE) and generic.in_scope(user, obj, Action.CHANGE)
        return {
            "can_change": may_change and obj.status == "draft",
            "can_delete": False,
            "may_issue": may_change and obj.status == "draft",
            "may_void": may_change and obj.status != "void",
        }


class InvoiceEditView(generic.ObjectEditView):
    model = Invoice
    form_class = InvoiceForm

    def get_initial(self, obj: Invoice | None) -> dict[str, Any]:
        initial = super().get_initial(obj)
        if obj is None:
            from kehu.customers.models import Account

            pairs: tuple[tuple[str, Any], ...] = (("contract", Contract), ("order", Order))
            for key, model in pairs:
                if initial.get(key):
                    try:
                        document = model.objects.restrict(self.request.user, Action.VIEW).get(
                            pk=int(initial[key])
                        )
                    except (ValueError, model.DoesNotExist):
                        continue
                    initial.setdefault("account", document.account_id)
                    initial.setdefault("currency", document.currency)
                    already = invoice_services.invoiced_total(document)
                    value = services.document_value(document)
                    initial.setdefault("amount", max(value - already, 0))
            account_id = initial.get("account")
            if account_id:
                account = (
                    Account.objects.restrict(self.request.user, Action.VIEW).filter(pk=account_id).first()
                )
                if account is not None:
                    for k, v in invoice_services.buyer_defaults(account).items():
                        initial.setdefault(k, v)
        return initial

    def save(self, form: InvoiceForm, obj: Invoice | None) -> Invoice:
        data = form.service_data()
        override = bool(data.pop("override", False))
        reason = data.pop("override_reason", "") or ""
        if obj is None:
            account = data.pop("account")
            return invoice_services.invoice_create(
                account=account, data=data, by=self.request.user, override=override, override_reason=reason
            )
        data.pop("account", None)
        return invoice_services.invoice_update(
            invoice=obj,
            data=data,
            by=self.request.user,
            version=form.version,
            override=override or obj.over_limit,
            override_reason=reason or obj.override_reason,
        )


@login_required
def invoice_issue_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_login(request)
    invoice = generic.get_for_action(Invoice, request.user, pk, Action.CHANGE)
    form = InvoiceIssueForm(request.POST or None, initial={"number": invoice.number})

    def perform(cleaned: dict[str, Any]) -> str:
        invoice_services.invoice_issue(
            invoice=invoice, by=request.user, number=cleaned["number"], issued_on=cleaned["issued_on"]
        )
        return _("Invoice issued.")

    return submit_action_form(
        request,
        form=form,
        perform=perform,
        success_url=invoice.get_absolute_url(),
        title=_("Issue invoice"),
        action_url=reverse("commerce:invoice_issue", args=[pk]),
        cancel_url=invoice.get_absolute_url(),
    )


@login_required
def invoice_void_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_login(request)
    invoice = generic.get_for_action(Invoice, request.user, pk, Action.CHANGE)
    form = InvoiceVoidForm(request.POST or None)

    def perform(cleaned: dict[str, Any]) -> str:
        invoice_services.invoice_void(invoice=invoice, by=request.user, reason=cleaned["reason"])
        return _("Invoice voided.")

    return submit_action_form(
        request,
        form=form,
        perform=perform,
        success_url=invoice.get_absolute_url(),
        title=_("Void invoice"),
        action_url=reverse("commerce:invoice_void", args=[pk]),
        cancel_url=invoice.get_absolute_url(),
    )


urlpatterns = [
    path("payments/", PaymentListView.as_view(), name="payment_list"),
    path("payments/record/", payment_record_view, name="payment_record"),
    path("payments/<int:pk>/", PaymentDetailView.as_view(), name="payment_detail"),
    path("payments/<int:pk>/reverse/", payment_reverse_view, name="payment_reverse"),
    path("instalments/<int:pk>/apply-credit/", instalment_apply_credit_view, name="instalment_apply_credit"),
    path("payment-plans/<str:kind>/<int:pk>/", plan_edit_view, name="payment_plan_edit"),
    path("invoices/", InvoiceListView.as_view(), name="invoice_list"),
    path("invoices/add/", InvoiceEditView.as_view(), name="invoice_add"),
    path("invoices/<int:pk>/", InvoiceDetailView.as_view(), name="invoice_detail"),
    path("invoices/<int:pk>/edit/", InvoiceEditView.as_view(), name="invoice_edit"),
    path("invoices/<int:pk>/issue/", invoice_issue_view, name="invoice_issue"),
    path("invoices/<int:pk>/void/", invoice_void_view, name="invoice_void"),
]
