"""Exports of products, price-list items and exchange rates (CSV / XLSX through `kehu.core.exports`).

The rows are the list page's: ``restrict(user, "export")`` then the page's FilterSet (the price
lists' export holds the prices of the filtered price lists). The column titles are those the
catalog import reads back (`kehu.catalog.imports`), so an export edited in a spreadsheet imports
as an update.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.core.choices import Action
from kehu.core.exports import Column, Exporter, register_exporter
from kehu.customfields.exporting import custom_export_columns

from .filtersets import ExchangeRateFilterSet, PriceListFilterSet, ProductFilterSet
from .models import ExchangeRate, PriceList, PriceListItem, Product, ProductCategory


def _filtered(filterset_class: Any, params: Any, base: QuerySet[Any]) -> QuerySet[Any]:
    filterset = filterset_class(params, queryset=base)
    return filterset.qs if filterset.is_valid() else base.none()


def product_queryset(user: Any, params: Any) -> QuerySet[Product]:
    base = Product.objects.restrict(user, Action.EXPORT).select_related("category")
    return _filtered(ProductFilterSet, params, base).order_by("code", "pk")


def price_queryset(user: Any, params: Any) -> QuerySet[PriceListItem]:
    lists = _filtered(PriceListFilterSet, params, PriceList.objects.restrict(user, Action.EXPORT))
    return (
        PriceListItem.objects.filter(price_list__in=lists.values("pk"))
        .select_related("price_list__currency", "product")
        .order_by("price_list__name", "product__code", "min_quantity", "pk")
    )


def rate_queryset(user: Any, params: Any) -> QuerySet[ExchangeRate]:
    base = ExchangeRate.objects.restrict(user, Action.EXPORT).select_related("currency")
    return _filtered(ExchangeRateFilterSet, params, base).order_by("currency__code", "-valid_on", "pk")


def _category_path() -> Any:
    """A product's category as its path from the top ("硬件/服务器"): the categories are read once,
    at the first row."""
    paths: dict[int, str] = {}

    def value(obj: Product) -> str:
        if obj.category_id is None:
            return ""
        if not paths:
            rows = {
                pk: (parent, name)
                for pk, parent, name in ProductCategory.objects.values_list("pk", "parent_id", "name")
            }
            for pk in rows:
                names, node, seen = [], pk, set()
                while node is not None and node in rows and node not in seen:
                    seen.add(node)
                    parent, name = rows[node]
                    names.append(name)
                    node = parent
                paths[pk] = "/".join(reversed(names))
        return paths.get(obj.category_id, "")

    return value


def _number(path: str) -> Any:
    def value(obj: Any) -> Any:
        number = obj
        for part in path.split("__"):
            number = getattr(number, part)
        if number is None:
            return None
        plain = number.normalize()  # 13.00 -> 13, 100.5000 -> 100.5; 10 stays 10, not 1E+1
        return plain.quantize(Decimal(1)) if int(plain.as_tuple().exponent) > 0 else plain

    return value


def product_columns(user: Any) -> list[Column]:
    columns = [
        Column("code", _("Code")),
        Column("name", _("Name")),
        Column("name_en", _("English name")),
        Column("kind", _("Kind"), value=lambda obj: obj.get_kind_display()),
        Column("category", _("Category"), value=_category_path()),
        Column("unit", _("Unit")),
        Column("tax_rate", _("Tax rate"), value=_number("tax_rate")),
        Column("cost", _("Cost"), value=_number("cost")),
        Column("description", _("Description")),
        Column("is_active", _("Active")),
    ]
    return columns + custom_export_columns(Product, user)


def price_columns(user: Any) -> list[Column]:
    return [
        Column("price_list", _("Price list"), value=lambda obj: obj.price_list.name),
        Column("currency", _("Currency"), value=lambda obj: obj.price_list.currency.code),
        Column("product", _("Product code"), value=lambda obj: obj.product.code),
        Column("product_name", _("Product name"), value=lambda obj: obj.product.name),
        Column("min_quantity", _("Min quantity"), value=_number("min_quantity")),
        Column("unit_price", _("Unit price"), value=_number("unit_price")),
    ]


def rate_columns(user: Any) -> list[Column]:
    return [
        Column("currency", _("Currency"), value=lambda obj: obj.currency.code),
        Column("valid_on", _("Date")),
        Column("rate", _("Rate"), value=_number("rate")),
        Column("source", _("Source")),
    ]


def register() -> None:
    for exporter in (
        Exporter(
            name="catalog.product",
            model=Product,
            title=_("Products"),
            columns=product_columns,
            queryset=product_queryset,
        ),
        Exporter(
            name="catalog.pricelistitem",
            model=PriceList,
            title=_("Prices"),
            columns=price_columns,
            queryset=price_queryset,
        ),
        Exporter(
            name="catalog.exchangerate",
            model=ExchangeRate,
            title=_("Exchange rates"),
            columns=rate_columns,
            queryset=rate_queryset,
        ),
    ):
        register_exporter(exporter)
