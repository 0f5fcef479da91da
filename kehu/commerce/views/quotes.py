"""Quote pages: list, detail (lines edited in place while a draft, totals, approvals, versions,
timeline), create (from an account or an opportunity), edit, delete, and the status moves.

Every view loads the quote through ``Quote.objects.restrict(user, action)`` (404 outside scope)
and calls one service; a `DomainError` becomes a form error or an error toast."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from kehu.catalog.models import Product
from kehu.catalog.selectors import company_currency_code, currency_places
from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.permissions import can
from kehu.customers.models import Account, Contact
from kehu.sales.views.opportunities import LineModalView, capped_toast, preview_quantity, toast_error

from ..choices import QuoteStatus
from ..filtersets_quotes import QuoteFilterSet
from ..forms_quotes import AcceptForm, DecisionForm, DeclineForm, QuoteForm, QuoteLineForm
from ..models import Quote, QuoteLine
from ..selectors.quotes import opportunity_price_list, quote_approvals, quote_lines, quote_versions
from ..services import quotes as services
from ..tables_quotes import STATUS_BADGES, QuoteTable

# --- list ---------------------------------------------------------------------------------------


class QuoteListView(generic.ObjectListView):
    model = Quote
    table_class = QuoteTable
    filterset_class = QuoteFilterSet
    exporter = "commerce.quote"

    def get_queryset(self) -> Any:
        qs = super().get_queryset()
        if self.request.GET.get("all_versions") not in ("true", "1", "on", "True"):
            qs = qs.filter(is_latest=True)
        return qs


# --- detail -------------------------------------------------------------------------------------


def amount_format(places: int) -> str:
    """The `floatformat` argument that shows an amount with `places` decimals, digits grouped."""
    return f"{places}g"


def unit_price_format(price: Decimal, places: int) -> str:
    """A unit price shows the currency's decimals, or more when it was priced finer (0.125)."""
    exponent = price.normalize().as_tuple().exponent
    finer = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return amount_format(max(places, finer))


def _overview(request: HttpRequest, obj: Quote) -> dict[str, Any]:
    user = request.user
    approvals = list(quote_approvals(quote=obj))
    places = currency_places(obj.currency)
    lines = list(quote_lines(quote=obj))
    for line in lines:
        line.unit_price_format = unit_price_format(line.unit_price, places)  # type: ignore[attr-defined]
    return {
        "lines": lines,
        "approvals": approvals,
        "may_decide": any(services.may_decide(a, user) for a in approvals) and obj.owner_id != user.pk,
        "versions": list(quote_versions(user=user, quote=obj)),
        "company_currency": company_currency_code(),
        "show_company_total": obj.currency != company_currency_code(),
    }


class QuoteDetailView(generic.ObjectDetailView):
    model = Quote
    template_name = "commerce/quotes/quote_detail.html"
    select_related = ("owner", "department", "account", "contact", "opportunity", "price_list", "previous")
    tabs = [
        generic.Tab(
            "overview",
            gettext_lazy("Overview"),
            "commerce/quotes/_quote_overview.html",
            context=_overview,
            icon="layout-dashboard",
            order=0,
        ),
        generic.Tab(
            "timeline",
            gettext_lazy("Timeline"),
            "commerce/quotes/_quote_timeline.html",
            icon="timeline",
            order=10,
        ),
    ]

    def get_extra_context(self, obj: Quote) -> dict[str, Any]:
        user = self.request.user
        may_change = can(user, Quote, Action.CHANGE) and generic.in_scope(user, obj, Action.CHANGE)
        moves = set(services.allowed_moves(obj)) if may_change else set()
        return {
            "moves": moves,
            "editable": obj.is_editable and may_change,
            "can_change": may_change and obj.is_editable,
            "can_delete": "delete" in moves and can(user, Quote, Action.DELETE),
            "status_badge": STATUS_BADGES.get(QuoteStatus(obj.status), "bg-secondary-lt"),
            # every amount of the page with the quote currency's decimals (JPY 0, CNY 2, ...)
            "amount_format": amount_format(currency_places(obj.currency)),
            "company_amount_format": amount_format(currency_places(company_currency_code())),
            "latest": None
            if obj.is_latest
            else Quote.objects.restrict(user, Action.VIEW).filter(number=obj.number, is_latest=True).first(),
        }


# --- create / edit / delete -----------------------------------------------------------------------


class QuoteEditView(generic.ObjectEditView):
    """Create (``?account=`` or ``?opportunity=``) or edit a draft's header."""

    model = Quote
    form_class = QuoteForm

    def refuse(self) -> HttpResponse | None:
        """Not a draft (or an earlier version): the service's "not editable" message — an error
        toast for htmx (as the line views answer), else back to the quote with the message."""
        if self.kwargs.get("pk") is None:
            return None
        obj = super().get_object()
        if obj.is_editable:
            return None
        error = services._not_editable(obj)
        if generic.is_htmx(self.request):
            return toast_error(error)
        messages.error(self.request, str(error.message))
        return redirect(obj.get_absolute_url())

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse() or super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse() or super().post(request, *args, **kwargs)

    def opportunity(self) -> Any:
        from kehu.sales.models import Opportunity

        pk = self.request.GET.get("opportunity") or self.request.POST.get("opportunity")
        if not pk or not str(pk).isdigit():
            return None
        return get_object_or_404(Opportunity.objects.restrict(self.request.user, Action.VIEW), pk=pk)

    def get_initial(self, obj: Any) -> dict[str, Any]:
        initial = super().get_initial(obj)
        opp = self.opportunity() if obj is None else None
        if opp is not None:
            initial.update({"account": opp.account_id, "currency": opp.currency, "name": opp.name})
            price_list = opportunity_price_list(opportunity=opp, user=self.request.user)
            if price_list is not None:
                initial["price_list"] = price_list.pk
        return initial

    def render_form(self, form: Any, obj: Any, status: int = 200) -> HttpResponse:
        response = super().render_form(form, obj, status)
        return response

    def get_form(self, obj: Any, data: Any = None) -> Any:
        form = super().get_form(obj, data)
        opp = self.opportunity() if obj is None else None
        if opp is not None and "account" in form.fields:
            form.fields["account"].disabled = True
            form.fields["account"].required = False
            form.fields["account"].help_text = _("From the opportunity %(name)s; its lines are copied.") % {
                "name": opp.name
            }
            if data is not None:
                form.data = data.copy()
                form.data["account"] = str(opp.account_id)
        return form

    def save(self, form: QuoteForm, obj: Quote | None) -> Quote:
        data = form.service_data()
        if obj is None:
            opp = self.opportunity()
            if opp is not None:
                data.pop("account", None)
                # the form offered the opportunity's price list: what it sends (even none) counts
                return services.quote_create(
                    by=self.request.user,
                    opportunity=opp,
                    price_list_from_opportunity="price_list" not in data,
                    **data,
                )
            return services.quote_create(by=self.request.user, **data)
        return services.quote_update(quote=obj, by=self.request.user, data=data, version=form.version)


class QuoteDeleteView(generic.ObjectDeleteView):
    model = Quote

    def delete(self, obj: Quote) -> None:
        services.quote_delete(quote=obj, by=self.request.user)


# --- lines ---------------------------------------------------------------------------------------


def _quote_for_change(request: HttpRequest, pk: int) -> Quote:
    """404 outside the user's view scope, 403 when they may view but not change it."""
    obj: Quote = generic.get_for_action(Quote, request.user, pk, Action.CHANGE)
    return obj


class LineEditView(LineModalView):
    """Add (no ``line_pk``) or edit a line in a modal; the page reloads (totals). The modal and
    its error handling are the opportunity lines' (`kehu.sales.views.opportunities.LineModalView`)."""

    form_class = QuoteLineForm
    document_kwarg = "quote"
    line_model = QuoteLine
    add_url_name, edit_url_name = "commerce:quote_line_add", "commerce:quote_line_edit"
    price_url_name = "commerce:quote_line_price"
    fields_template = "commerce/quotes/_line_form.html"
    add_title, edit_title = gettext_lazy("Add a line"), gettext_lazy("Edit line")
    added_message, saved_message = gettext_lazy("Line added."), gettext_lazy("Line saved.")

    def get_document(self, request: HttpRequest, pk: int) -> Quote:
        return _quote_for_change(request, pk)

    def refuse(self, document: Quote) -> HttpResponse | None:
        return None if document.is_editable else toast_error(services._not_editable(document))

    def save_line(self, request: HttpRequest, document: Quote, line: Any, form: QuoteLineForm) -> None:
        version = form.cleaned_data.get("version")
        if line is None:
            services.quote_line_add(
                quote=document, by=request.user, data=form.service_values(), version=version
            )
        else:
            services.quote_line_update(
                line=line, by=request.user, data=form.service_values(), version=version
            )


class LineDeleteView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
        obj = _quote_for_change(request, pk)
        line = get_object_or_404(QuoteLine, pk=line_pk, quote=obj)
        try:
            services.quote_line_delete(line=line, by=request.user)
        except DomainError as exc:
            return toast_error(exc)
        return generic.success_response(request, url=obj.get_absolute_url(), message=_("Line removed."))


class LineReorderView(LoginRequiredMixin, View):
    """POST ``ids`` in the new order (the drag handle of the lines table, SortableJS)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = _quote_for_change(request, pk)
        try:
            services.quote_lines_reorder(quote=obj, by=request.user, order=request.POST.getlist("ids"))  # type: ignore[arg-type]
        except DomainError as exc:
            response = toast_error(exc)
            response.status_code = exc.status
            return response
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps(
            {"kehu:toast": {"message": str(_("Order saved.")), "level": "success"}}
        )
        return response


class LinePriceView(LoginRequiredMixin, View):
    """GET ``?product=&quantity=`` (htmx, as the line form changes): the unit price for this
    quote's customer, currency and quantity, pre-filled (out of band), and where it comes from."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = _quote_for_change(request, pk)
        raw = request.GET.get("product") or ""
        product = (
            Product.objects.restrict(request.user, Action.VIEW).filter(pk=raw).first()
            if raw.isdigit()
            else None
        )
        quantity, capped = preview_quantity(request.GET.get("quantity"), services.MAX_QUANTITY)
        resolved = None
        if product is not None:
            try:
                resolved = services.resolve_price(quote=obj, product=product, quantity=quantity)
            except DomainError:
                resolved = None
        response = render(
            request,
            "commerce/quotes/_line_price.html",
            {
                "product": product,
                "price": resolved[0].normalize() if resolved else None,
                "source": resolved[1] if resolved else "",
                "currency": obj.currency,
            },
        )
        return capped_toast(response, capped)


class ProductAutocompleteView(generic.ObjectAutocompleteView):
    """The product picker of a line: active products the user may view, by code or name."""

    model = Product
    search_fields = ("code", "name", "name_en")

    def get_queryset(self) -> Any:
        return super().get_queryset().filter(is_active=True)

    def label(self, obj: Any) -> str:
        return f"{obj.code} · {obj.name}"


class ContactAutocompleteView(generic.ObjectAutocompleteView):
    """Contacts the user may view (``?account=`` narrows to that account's)."""

    model = Contact
    search_fields = ("name",)

    def get_queryset(self) -> Any:
        qs = super().get_queryset()
        account = self.request.GET.get("account") or ""
        if account.isdigit():
            qs = qs.filter(accounts__id=account).distinct()
        return qs


# --- status moves -------------------------------------------------------------------------------


class QuoteMoveView(LoginRequiredMixin, View):
    """POST a status move (submit, recall, mark sent, revise); approve / reject / accept /
    decline take a comment or reason from a modal (GET)."""

    move: str = ""
    form_class: Any = None
    title: Any = ""
    needs_change = True

    def get_quote(self, request: HttpRequest, pk: int) -> Quote:
        if self.needs_change:
            return _quote_for_change(request, pk)
        return get_object_or_404(Quote.objects.restrict(request.user, Action.VIEW), pk=pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self.get_quote(request, pk)
        if self.form_class is None:
            raise Http404
        return self._render(request, obj, self.form_class())

    def _render(self, request: HttpRequest, obj: Quote, form: Any) -> HttpResponse:
        return render(
            request,
            "core/_object_form_modal.html",
            {"form": form, "title": f"{self.title} · {obj}", "action_url": request.path, "object": obj},
        )

    def run(self, obj: Quote, request: HttpRequest, data: dict[str, Any]) -> Quote:  # pragma: no cover
        raise NotImplementedError

    def message(self, obj: Quote) -> str:
        return _("Quote %(number)s: %(status)s.") % {"number": obj, "status": obj.get_status_display()}

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self.get_quote(request, pk)
        data: dict[str, Any] = {}
        form = None
        if self.form_class is not None:
            form = self.form_class(request.POST)
            if not form.is_valid():
                return self._render(request, obj, form)
            data = form.cleaned_data
        try:
            result = self.run(obj, request, data)
        except DomainError as exc:
            if form is not None and generic.is_htmx(request):
                for name, messages in exc.fields.items():
                    for message in messages:
                        form.add_error(name if name in form.fields else None, message)
                if not exc.fields:
                    form.add_error(None, str(exc.message))
                return self._render(request, obj, form)
            if generic.is_htmx(request):
                return toast_error(exc)
            from django.contrib import messages as flash
            from django.http import HttpResponseRedirect

            flash.error(request, str(exc.message))
            return HttpResponseRedirect(obj.get_absolute_url())
        return generic.success_response(request, url=result.get_absolute_url(), message=self.message(result))


class SubmitView(QuoteMoveView):
    def run(self, obj: Quote, request: HttpRequest, data: dict[str, Any]) -> Quote:
        return services.quote_submit(quote=obj, by=request.user)


class RecallView(QuoteMoveView):
    def run(self, obj: Quote, request: HttpRequest, data: dict[str, Any]) -> Quote:
        return services.quote_recall(quote=obj, by=request.user)


class MarkSentView(QuoteMoveView):
    def run(self, obj: Quote, request: HttpRequest, data: dict[str, Any]) -> Quote:
        return services.quote_mark_sent(quote=obj, by=request.user, channel="manual")


class ReviseView(QuoteMoveView):
    def run(self, obj: Quote, request: HttpRequest, data: dict[str, Any]) -> Quote:
        return services.quote_revise(quote=obj, by=request.user)

    def message(self, obj: Quote) -> str:
        return _("Version %(revision)s of quote %(number)s created.") % {
            "revision": obj.revision,
            "number": obj.number,
        }


class AcceptView(QuoteMoveView):
    form_class = AcceptForm
    title = gettext_lazy("Accepted by the customer")

    def run(self, obj: Quote, request: HttpRequest, data: dict[str, Any]) -> Quote:
        return services.quote_accept(quote=obj, by=request.user, note=data.get("note", ""))


class DeclineView(QuoteMoveView):
    form_class = DeclineForm
    title = gettext_lazy("Declined by the customer")

    def run(self, obj: Quote, request: HttpRequest, data: dict[str, Any]) -> Quote:
        return services.quote_reject_by_customer(quote=obj, by=request.user, reason=data.get("reason", ""))


class ApproveView(QuoteMoveView):
    """The approver's decision (the quote need not be in their change scope)."""

    form_class = DecisionForm
    title = gettext_lazy("Approve")
    needs_change = False

    def get_quote(self, request: HttpRequest, pk: int) -> Quote:
        return _decidable_quote(request, pk)

    def run(self, obj: Quote, request: HttpRequest, data: dict[str, Any]) -> Quote:
        return services.quote_approve(quote=obj, by=request.user, comment=data.get("comment", ""))

    def message(self, obj: Quote) -> str:
        return _("Your approval of quote %(number)s is recorded.") % {"number": obj}


class RejectView(ApproveView):
    title = gettext_lazy("Reject")

    def run(self, obj: Quote, request: HttpRequest, data: dict[str, Any]) -> Quote:
        return services.quote_reject(quote=obj, by=request.user, comment=data.get("comment", ""))

    def message(self, obj: Quote) -> str:
        return _("Quote %(number)s was rejected and is back with its owner.") % {"number": obj}


def _decidable_quote(request: HttpRequest, pk: int) -> Quote:
    """A quote the user can view, or one with a pending step they may decide (else 404)."""
    from ..selectors.approvals import approvals_for

    visible = Quote.objects.restrict(request.user, Action.VIEW).filter(pk=pk).first()
    if visible is not None:
        return visible
    step = approvals_for(request.user).filter(quote_id=pk).select_related("quote").first()
    if step is None:
        raise Http404
    return step.quote


def account_of(request: HttpRequest, pk: int) -> Account:
    return get_object_or_404(Account.objects.restrict(request.user, Action.VIEW), pk=pk)


urlpatterns = [
    path("quotes/", QuoteListView.as_view(), name="quote_list"),
    path("quotes/add/", QuoteEditView.as_view(), name="quote_add"),
    path(
        "quotes/products/autocomplete/", ProductAutocompleteView.as_view(), name="quote_product_autocomplete"
    ),
    path(
        "quotes/contacts/autocomplete/", ContactAutocompleteView.as_view(), name="quote_contact_autocomplete"
    ),
    path("quotes/<int:pk>/", QuoteDetailView.as_view(), name="quote_detail"),
    path("quotes/<int:pk>/edit/", QuoteEditView.as_view(), name="quote_edit"),
    path("quotes/<int:pk>/delete/", QuoteDeleteView.as_view(), name="quote_delete"),
    path("quotes/<int:pk>/lines/add/", LineEditView.as_view(), name="quote_line_add"),
    path("quotes/<int:pk>/lines/price/", LinePriceView.as_view(), name="quote_line_price"),
    path("quotes/<int:pk>/lines/reorder/", LineReorderView.as_view(), name="quote_lines_reorder"),
    path("quotes/<int:pk>/lines/<int:line_pk>/edit/", LineEditView.as_view(), name="quote_line_edit"),
    path("quotes/<int:pk>/lines/<int:line_pk>/delete/", LineDeleteView.as_view(), name="quote_line_delete"),
    path("quotes/<int:pk>/submit/", SubmitView.as_view(), name="quote_submit"),
    path("quotes/<int:pk>/recall/", RecallView.as_view(), name="quote_recall"),
    path("quotes/<int:pk>/mark-sent/", MarkSentView.as_view(), name="quote_mark_sent"),
    path("quotes/<int:pk>/revise/", ReviseView.as_view(), name="quote_revise"),
    path("quotes/<int:pk>/accept/", AcceptView.as_view(), name="quote_accept"),
    path("quotes/<int:pk>/decline/", DeclineView.as_view(), name="quote_decline"),
    path("quotes/<int:pk>/approve/", ApproveView.as_view(), name="quote_approve"),
    path("quotes/<int:pk>/reject/", RejectView.as_view(), name="quote_reject"),
]
