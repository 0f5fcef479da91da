"""Pages of orders: list, detail (header, lines, status buttons for the allowed moves, related
quote/contract, payment plan, timeline), create and edit, delete, lines (while the order is in its
initial status), status moves, the conversions quote → order and contract → order, and the order
statuses' settings pages."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.permissions import can

from ..filtersets_orders import OrderFilterSet
from ..forms_orders import OrderForm, OrderLineForm, OrderMoveForm, OrderStatusForm
from ..models import Contract, Order, OrderLine, OrderStatus, Quote
from ..selectors import orders as selectors
from ..services import orders as services
from ..tables_orders import OrderStatusTable, OrderTable
from .contracts import PLAN_PANEL, quote_for_conversion, render_action_form, show_errors, template_exists


class OrderListView(generic.ObjectListView):
    model = Order
    table_class = OrderTable
    filterset_class = OrderFilterSet
    exporter = "commerce.order"


def _may_change(user: Any, obj: Order) -> bool:
    return can(user, Order, Action.CHANGE) and generic.in_scope(user, obj, Action.CHANGE)


def _overview(request: HttpRequest, obj: Order) -> dict[str, Any]:
    user = request.user
    editable = services.is_editable(obj) and _may_change(user, obj)
    return {
        "lines": list(selectors.order_lines(order=obj)),
        "lines_editable": editable,
        "line_form": OrderLineForm(user=user, initial={"version": obj.version}) if editable else None,
        "plan_panel": PLAN_PANEL if template_exists(PLAN_PANEL) else "",
        "quote": obj.quote
        if obj.quote_id and Quote.objects.restrict(user, Action.VIEW).filter(pk=obj.quote_id).exists()
        else None,
        "contract": obj.contract
        if obj.contract_id
        and Contract.objects.restrict(user, Action.VIEW).filter(pk=obj.contract_id).exists()
        else None,
    }


class OrderDetailView(generic.ObjectDetailView):
    model = Order
    template_name = "commerce/orders/order_detail.html"
    select_related = ("account", "contact", "owner", "status", "contract", "quote", "opportunity")
    tabs = [
        generic.Tab(
            "overview",
            gettext_lazy("Overview"),
            "commerce/orders/_overview.html",
            icon="info-circle",
            order=0,
            context=_overview,
        ),
        generic.Tab(
            "timeline", gettext_lazy("Timeline"), "commerce/orders/_timeline.html", icon="timeline", order=20
        ),
    ]

    def get_extra_context(self, obj: Order) -> dict[str, Any]:
        user = self.request.user
        may_change = _may_change(user, obj)
        from ..choices import OrderStatusKind

        return {
            "moves": services.allowed_moves(obj) if may_change else [],
            "can_change": may_change and obj.status.kind == OrderStatusKind.OPEN,
            "can_delete": can(user, Order, Action.DELETE)
            and obj.status.is_initial
            and generic.in_scope(user, obj, Action.DELETE),
        }


class OrderEditView(generic.ObjectEditView):
    model = Order
    form_class = OrderForm

    def save(self, form: OrderForm, obj: Order | None) -> Order:
        if obj is None:
            return services.order_create(by=self.request.user, data=form.service_data())
        return services.order_update(
            order=obj, by=self.request.user, data=form.service_data(), version=form.version
        )


class OrderDeleteView(generic.ObjectDeleteView):
    model = Order

    def delete(self, obj: Order) -> None:
        services.order_delete(order=obj, by=self.request.user)


def _for_change(request: HttpRequest, pk: int) -> Order:
    """The order to change: 404 out of sight, 403 seen but not changeable."""
    return generic.get_for_action(Order, request.user, pk, Action.CHANGE)  # type: ignore[no-any-return,unused-ignore]


# --- status moves -----------------------------------------------------------------------------


@login_required
def order_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the move dialog (``?status=<id>`` preselects); POST: move."""
    order = _for_change(request, pk)
    data = request.POST if request.method == "POST" else None
    initial = {"status": request.GET.get("status"), "version": order.version}
    form = OrderMoveForm(data, order=order, initial=initial)
    if data is not None and form.is_valid():
        try:
            services.order_move_status(
                order=order,
                status=form.cleaned_data["status"],
                by=request.user,
                version=form.cleaned_data.get("version"),
                note=form.cleaned_data.get("note") or "",
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            return generic.success_response(
                request,
                url=order.get_absolute_url(),
                message=_("Order %(number)s is now “%(status)s”.")
                % {"number": order.number, "status": form.cleaned_data["status"]},
            )
    return render_action_form(
        request,
        form=form,
        title=_("Change the status of order %(number)s") % {"number": order.number},
        action_url=request.get_full_path(),
        cancel_url=order.get_absolute_url(),
        status=400 if data is not None else 200,
    )


# --- lines ------------------------------------------------------------------------------------


@login_required
def order_line_edit_view(request: HttpRequest, pk: int, line: int | None = None) -> HttpResponse:
    """Add (no `line`) or change a line: GET the dialog, POST save."""
    order = _for_change(request, pk)
    found = get_object_or_404(OrderLine, pk=line, order=order) if line is not None else None
    data = request.POST if request.method == "POST" else None
    initial: dict[str, Any] = {"version": order.version}
    if found is not None:
        initial.update(
            {
                "product": found.product_id,
                "description": found.description,
                "quantity": found.quantity.normalize(),
                "unit_price": found.unit_price.normalize(),
                "discount_percent": found.discount_percent,
                "discount_amount": found.discount_amount,
                "tax_rate": found.tax_rate,
            }
        )
    form = OrderLineForm(data, user=request.user, initial=initial)
    if data is not None and form.is_valid():
        values = form.service_data()
        version = form.cleaned_data.get("version")
        try:
            if found is None:
                services.order_line_add(order=order, by=request.user, data=values, version=version)
            else:
                services.order_line_update(line=found, by=request.user, data=values, version=version)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            return generic.success_response(request, url=order.get_absolute_url(), message=_("Line saved."))
    title = _("Add a line") if found is None else _("Change the line")
    return render_action_form(
        request,
        form=form,
        title=title,
        action_url=request.path,
        cancel_url=order.get_absolute_url(),
        status=400 if data is not None else 200,
    )


@login_required
@require_POST
def order_line_delete_view(request: HttpRequest, pk: int, line: int) -> HttpResponse:
    order = _for_change(request, pk)
    found = get_object_or_404(OrderLine, pk=line, order=order)
    try:
        services.order_line_delete(line=found, by=request.user)
    except DomainError as exc:
        return generic.success_response(
            request, url=order.get_absolute_url(), message=str(exc.message), level="error"
        )
    return generic.success_response(request, url=order.get_absolute_url(), message=_("Line removed."))


# --- conversions ------------------------------------------------------------------------------


def _converted(request: HttpRequest, back: str, make: Any) -> HttpResponse:
    if not can(request.user, Order, Action.ADD):
        raise PermissionDenied
    try:
        order = make()
    except DomainError as exc:
        return generic.success_response(request, url=back, message=str(exc.message), level="error")
    return generic.success_response(
        request,
        url=order.get_absolute_url(),
        message=_("Order %(number)s created.") % {"number": order.number},
    )


@login_required
@require_POST
def quote_order_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Create order" on an accepted quote (its lines copied exactly)."""
    quote = quote_for_conversion(request, pk)
    return _converted(
        request,
        quote.get_absolute_url(),
        lambda: services.order_create_from_quote(by=request.user, quote=quote),
    )


@login_required
@require_POST
def contract_order_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Create order" on a contract."""
    contract = get_object_or_404(Contract.objects.restrict(request.user, Action.VIEW), pk=pk)
    return _converted(
        request,
        contract.get_absolute_url(),
        lambda: services.order_create_from_contract(by=request.user, contract=contract),
    )


# --- order statuses (settings) ----------------------------------------------------------------


class _StatusAccess:
    required: ClassVar[str] = Action.CHANGE

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not can(request.user, OrderStatus, self.required):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class OrderStatusListView(_StatusAccess, generic.ObjectListView):
    model = OrderStatus
    table_class = OrderStatusTable
    template_name = "commerce/settings/orderstatus_list.html"
    row_actions_template = "commerce/settings/_orderstatus_actions.html"

    def get_extra_context(self) -> dict[str, Any]:
        user = self.request.user
        return {
            "breadcrumbs": [(_("Administration"), None), (generic.verbose(OrderStatus, plural=True), None)],
            "row_actions_template": self.row_actions_template,
            "may_change": can(user, OrderStatus, Action.CHANGE),
            "may_delete": can(user, OrderStatus, Action.DELETE),
        }


class OrderStatusEditView(_StatusAccess, generic.ObjectEditView):
    model = OrderStatus
    form_class = OrderStatusForm

    def get_object(self) -> Any:
        pk = self.kwargs.get("pk")
        if pk is None:
            if not can(self.request.user, OrderStatus, Action.ADD):
                raise PermissionDenied
            return None
        return get_object_or_404(OrderStatus, pk=pk)

    def get_success_url(self, obj: Any) -> str:
        return generic.object_url(OrderStatus, "list") or "/"

    def save(self, form: OrderStatusForm, obj: OrderStatus | None) -> OrderStatus:
        if obj is None:
            return services.orderstatus_create(by=self.request.user, data=form.service_data())
        return services.orderstatus_update(status=obj, by=self.request.user, data=form.service_data())

    def on_success(self, obj: Any, *, created: bool) -> HttpResponse:
        return generic.success_response(
            self.request, url=self.get_success_url(obj), message=self.success_message(obj, created)
        )


class OrderStatusDeleteView(_StatusAccess, generic.ObjectDeleteView):
    model = OrderStatus
    required = Action.DELETE

    def get_object(self) -> Any:
        return get_object_or_404(OrderStatus, pk=self.kwargs["pk"])

    def delete(self, obj: OrderStatus) -> None:
        services.orderstatus_delete(status=obj, by=self.request.user)


urlpatterns = [
    path("orders/", OrderListView.as_view(), name="order_list"),
    path("orders/add/", OrderEditView.as_view(), name="order_add"),
    path("orders/<int:pk>/", OrderDetailView.as_view(), name="order_detail"),
    path("orders/<int:pk>/edit/", OrderEditView.as_view(), name="order_edit"),
    path("orders/<int:pk>/delete/", OrderDeleteView.as_view(), name="order_delete"),
    path("orders/<int:pk>/move/", order_move_view, name="order_move"),
    path("orders/<int:pk>/lines/add/", order_line_edit_view, name="order_line_add"),
    path("orders/<int:pk>/lines/<int:line>/edit/", order_line_edit_view, name="order_line_edit"),
    path("orders/<int:pk>/lines/<int:line>/delete/", order_line_delete_view, name="order_line_delete"),
    path("quotes/<int:pk>/order/", quote_order_create_view, name="quote_order_create"),
    path("contracts/<int:pk>/order/", contract_order_create_view, name="contract_order_create"),
    path("settings/order-statuses/", OrderStatusListView.as_view(), name="orderstatus_list"),
    path("settings/order-statuses/add/", OrderStatusEditView.as_view(), name="orderstatus_add"),
    path("settings/order-statuses/<int:pk>/edit/", OrderStatusEditView.as_view(), name="orderstatus_edit"),
    path(
        "settings/order-statuses/<int:pk>/delete/", OrderStatusDeleteView.as_view(), name="orderstatus_delete"
    ),
]
