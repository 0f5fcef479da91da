"""List columns of products and price lists."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.core.tables import (
    BooleanColumn,
    ChoiceColumn,
    Column,
    DateTimeColumn,
    LinkColumn,
    Table,
    html_format,
)
from kehu.customfields.tables import custom_list_columns

from .models import PriceList, Product


class ProductLink(LinkColumn):
    url_name = "catalog:product_detail"


class PriceListLink(LinkColumn):
    url_name = "catalog:pricelist_detail"


class NumberColumn(Column):
    """A Decimal without trailing zeros (13.00 → 13, 100.5000 → 100.5), right-aligned."""

    def render_value(self, record: Any, value: Any) -> Any:
        return f"{value.normalize():f}" if hasattr(value, "normalize") else value


class CategoryColumn(Column):
    def render_value(self, record: Any, value: Any) -> Any:
        return html_format('<span class="badge bg-secondary-lt">{}</span>', value)


class ProductTable(Table):
    model = Product
    select_related = ("category",)
    related_only = {"category": ("name",)}
    default_ordering = ("code",)
    columns = (
        Column("code", _("Code"), order_by="code", required=True),
        ProductLink("name", _("Name"), order_by="name", required=True),
        Column("name_en", _("English name"), default=False),
        ChoiceColumn("kind", _("Kind"), order_by="kind"),
        CategoryColumn("category", _("Category"), accessor="category.name", order_by="category__name"),
        Column("unit", _("Unit")),
        NumberColumn("tax_rate", _("Tax rate (%)"), order_by="tax_rate", css_class="text-end"),
        NumberColumn("cost", _("Cost"), order_by="cost", css_class="text-end", default=False),
        BooleanColumn("is_active", _("Active"), order_by="is_active"),
    )

    @classmethod
    def extra_columns(cls) -> list[Column]:
        return list(custom_list_columns(cls.model))


class PriceListTable(Table):
    model = PriceList
    select_related = ("currency", "account")
    related_only = {"currency": ("code",), "account": ("name",)}
    default_ordering = ("currency__code", "name")
    columns = (
        PriceListLink("name", _("Name"), order_by="name", required=True),
        Column("currency", _("Currency"), accessor="currency.code", order_by="currency__code"),
        Column("customer_level", _("Customer level"), order_by="customer_level"),
        Column("account", _("Account"), accessor="account.name", field="account"),
        DateTimeColumn("valid_from", _("Valid from"), order_by="valid_from"),
        DateTimeColumn("valid_until", _("Valid until"), order_by="valid_until"),
        BooleanColumn("is_active", _("Active"), order_by="is_active"),
    )
