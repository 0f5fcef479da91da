"""Pages of products and price lists (the catalog's settings pages are in views_settings.py).
Lists, detail pages, edit and delete through `kehu.core.generic`; writes through `services`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.permissions import can

from . import selectors, services
from .filtersets import PriceListFilterSet, ProductFilterSet
from .forms import PriceListForm, PriceSetForm, ProductForm
from .models import PriceList, PriceListItem, Product
from .tables import PriceListTable, ProductTable

# --- products ---------------------------------------------------------------------------------


class ProductListView(generic.ObjectListView):
    model = Product
    table_class = ProductTable
    filterset_class = ProductFilterSet
    exporter = "catalog.product"


def _product_prices(request: HttpRequest, obj: Product) -> dict[str, Any]:
    """The product's prices in the price lists the user may view."""
    return {"prices": list(selectors.product_prices(user=request.user, product=obj))}


class ProductDetailView(generic.ObjectDetailView):
    model = Product
    template_name = "catalog/product_detail.html"
    select_related = ("category",)
    tabs = [
        generic.Tab(
            "overview",
            gettext_lazy("Overview"),
            "catalog/_product_overview.html",
            icon="info-circle",
            order=0,
            context=_product_prices,
        )
    ]


class ProductEditView(generic.ObjectEditView):
    model = Product
    form_class = ProductForm

    def save(self, form: ProductForm, obj: Product | None) -> Product:
        if obj is None:
            return services.product_create(by=self.request.user, data=form.service_data())
        return services.product_update(
            product=obj, by=self.request.user, data=form.service_data(), version=form.version
        )


class ProductDeleteView(generic.ObjectDeleteView):
    model = Product

    def delete(self, obj: Product) -> None:
        services.product_delete(product=obj, by=self.request.user)


# --- price lists ------------------------------------------------------------------------------


class PriceListListView(generic.ObjectListView):
    model = PriceList
    table_class = PriceListTable
    exporter = "catalog.pricelistitem"  # the prices of the listed price lists
    filterset_class = PriceListFilterSet


def _price_list_items(request: HttpRequest, obj: PriceList) -> dict[str, Any]:
    may_change = can(request.user, PriceList, Action.CHANGE)
    return {
        "items": list(selectors.price_list_items(price_list=obj)),
        "may_change": may_change,
        "price_form": PriceSetForm() if may_change else None,
    }


class PriceListDetailView(generic.ObjectDetailView):
    model = PriceList
    template_name = "catalog/pricelist_detail.html"
    select_related = ("currency", "account")
    tabs = [
        generic.Tab(
            "prices",
            gettext_lazy("Prices"),
            "catalog/_pricelist_prices.html",
            icon="currency-yuan",
            order=0,
            context=_price_list_items,
        )
    ]


class PriceListEditView(generic.ObjectEditView):
    model = PriceList
    form_class = PriceListForm

    def save(self, form: PriceListForm, obj: PriceList | None) -> PriceList:
        if obj is None:
            return services.price_list_create(by=self.request.user, data=form.service_data())
        return services.price_list_update(price_list=obj, by=self.request.user, data=form.service_data())


class PriceListDeleteView(generic.ObjectDeleteView):
    model = PriceList

    def delete(self, obj: PriceList) -> None:
        services.price_list_delete(price_list=obj, by=self.request.user)


def _price_list_for_change(request: HttpRequest, pk: int) -> PriceList:
    price_list = generic.get_for_action(PriceList, request.user, pk, Action.VIEW)
    if not can(request.user, PriceList, Action.CHANGE):
        raise PermissionDenied
    return price_list


def _prices_tab(
    request: HttpRequest, price_list: PriceList, form: PriceSetForm, status: int = 200
) -> HttpResponse:
    context = {**_price_list_items(request, price_list), "object": price_list, "price_form": form}
    return render(request, "catalog/_pricelist_prices.html", context, status=status)


@require_POST
def price_set_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Add or replace one price tier (the prices tab's form); answers the refreshed tab."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    price_list = _price_list_for_change(request, pk)
    form = PriceSetForm(request.POST)
    if form.is_valid():
        try:
            services.price_set(
                price_list=price_list,
                product=form.cleaned_data["product"],
                min_quantity=form.cleaned_data["min_quantity"],
                unit_price=form.cleaned_data["unit_price"],
                by=request.user,
            )
        except DomainError as exc:
            for field, messages in (exc.fields or {}).items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            if not exc.fields:
                form.add_error(None, str(exc.message))
        else:
            if not generic.is_htmx(request):
                return generic.success_response(
                    request, url=price_list.get_absolute_url(), message=_("Price saved.")
                )
            return _prices_tab(request, price_list, PriceSetForm())
    if not generic.is_htmx(request):
        return _prices_tab(request, price_list, form, status=400)
    return _prices_tab(request, price_list, form)


@require_POST
def price_delete_view(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    if not request.user.is_authenticated:
        raise PermissionDenied
    price_list = _price_list_for_change(request, pk)
    found = get_object_or_404(PriceListItem, pk=item, price_list=price_list)
    services.price_delete(item=found, by=request.user)
    if generic.is_htmx(request):
        return _prices_tab(request, price_list, PriceSetForm())
    return generic.success_response(request, url=price_list.get_absolute_url(), message=_("Price removed."))
