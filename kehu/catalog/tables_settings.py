"""Tables of the catalog's settings lists: currencies, exchange rates and the category tree."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Count
from django.utils.functional import lazy
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kehu.core.tables import BooleanColumn, Column, DateTimeColumn, Table, html_format

from .models import Currency, ExchangeRate, Product, ProductCategory


def _label(model: type[models.Model], name: str) -> Any:
    """A column label from the model field's verbose name (translated once, for forms too)."""
    return capfirst(model._meta.get_field(name).verbose_name)  # type: ignore[union-attr]


class CurrencyCodeColumn(Column):
    """The code, with the company-currency badge (本位币)."""

    def render_value(self, record: Any, value: Any) -> Any:
        if record.is_company:
            return html_format(
                '<span class="fw-medium font-monospace">{}</span> '
                '<span class="badge bg-blue-lt ms-1" data-company-currency>{}</span>',
                value,
                _("Company currency"),
            )
        return html_format('<span class="fw-medium font-monospace">{}</span>', value)


class RateColumn(Column):
    """A rate without trailing zeros (7.12340000 → 7.1234)."""

    def render_value(self, record: Any, value: Any) -> Any:
        if isinstance(value, Decimal):
            text = f"{value.normalize():f}"
            return html_format('<span class="font-monospace">{}</span>', text)
        return value


class CurrencyTable(Table):
    model = Currency
    key = "catalog.currency"
    default_ordering = ("-is_company", "code")
    columns = [
        CurrencyCodeColumn("code", _label(Currency, "code"), order_by="code", required=True),
        Column("name", _label(Currency, "name"), order_by="name"),
        Column("name_en", _label(Currency, "name_en"), order_by="name_en"),
        Column("symbol", _label(Currency, "symbol")),
        Column("minor_unit", _label(Currency, "minor_unit"), order_by="minor_unit", css_class="text-end"),
        BooleanColumn("is_active", _label(Currency, "is_active"), order_by="is_active"),
    ]


def _rate_label() -> str:
    code = Currency.objects.filter(is_company=True).values_list("code", flat=True).first()
    if not code:
        return str(capfirst(ExchangeRate._meta.get_field("rate").verbose_name))
    return gettext("Rate (%(code)s per unit)") % {"code": code}


class ExchangeRateTable(Table):
    model = ExchangeRate
    key = "catalog.exchangerate"
    select_related = ("currency",)
    default_ordering = ("currency__code", "-valid_on")
    columns = [
        Column(
            "currency",
            _label(ExchangeRate, "currency"),
            accessor="currency.code",
            order_by="currency__code",
            required=True,
        ),
        DateTimeColumn("valid_on", _label(ExchangeRate, "valid_on"), order_by="valid_on"),
        RateColumn("rate", lazy(_rate_label, str)(), order_by="rate", css_class="text-end"),
        Column("source", _label(ExchangeRate, "source"), order_by="source"),
    ]


class CategoryNameColumn(Column):
    """The name, indented by its depth in the tree."""

    def render_value(self, record: Any, value: Any) -> Any:
        depth = getattr(record, "depth", 0)
        icon = "ti-folder" if depth == 0 else "ti-corner-down-right"
        return html_format(
            '<span style="padding-left: {}rem" data-depth="{}">'
            '<i class="ti {} text-secondary me-1"></i>{}</span>',
            f"{depth * 1.5:g}",
            depth,
            icon,
            value,
        )


def tree_order(categories: list[ProductCategory]) -> list[ProductCategory]:
    """`categories` depth first (siblings by order, then name), each with `depth` set. The path is
    taken from the whole tree, so a filtered list keeps its rows where the tree has them."""
    nodes = {
        pk: (parent, order, name)
        for pk, parent, order, name in ProductCategory.objects.values_list("pk", "parent_id", "order", "name")
    }

    def path(pk: int) -> list[tuple[int, str, int]]:
        out: list[tuple[int, str, int]] = []
        seen: set[int] = set()
        node: int | None = pk
        while node is not None and node in nodes and node not in seen:
            seen.add(node)
            parent, order, name = nodes[node]
            out.append((order, name.casefold(), node))
            node = parent
        return out[::-1]

    keyed = []
    for category in categories:
        p = path(category.pk)
        category.depth = max(len(p) - 1, 0)  # type: ignore[attr-defined]
        keyed.append((p, category))
    keyed.sort(key=lambda item: item[0])
    return [c for _p, c in keyed]


class ProductCategoryTable(Table):
    """The category tree: not sortable (its order is the tree's), one page of many rows."""

    model = ProductCategory
    key = "catalog.productcategory"
    default_ordering = ("order", "name")
    columns = [
        CategoryNameColumn("name", _label(ProductCategory, "name"), required=True),
        Column("name_en", _label(ProductCategory, "name_en")),
        Column("order", _label(ProductCategory, "order"), css_class="text-end"),
        Column(
            "product_count", capfirst(Product._meta.verbose_name_plural or ""), field="", css_class="text-end"
        ),
    ]

    def prepare(self, queryset: models.QuerySet[Any]) -> Any:
        rows = list(queryset.annotate(product_count=Count("products")).order_by())
        return tree_order(rows)
