"""List columns of orders and order statuses."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.tables import (
    NAME_FIELDS,
    USER_FIELDS,
    BooleanColumn,
    ChoiceColumn,
    Column,
    DateTimeColumn,
    LinkColumn,
    RelatedLinkColumn,
    Table,
    UserColumn,
    html_format,
)
from kehu.customfields.tables import custom_list_columns

from .choices import OrderStatusKind
from .models import Order, OrderStatus
from .tables_contracts import MoneyColumn

KIND_BADGES = {
    OrderStatusKind.OPEN: "bg-blue-lt",
    OrderStatusKind.DONE: "bg-green-lt",
    OrderStatusKind.CANCELLED: "bg-red-lt",
}


class OrderLink(LinkColumn):
    url_name = "commerce:order_detail"


class OrderStatusColumn(Column):
    def render_value(self, record: Any, value: Any) -> Any:
        return html_format('<span class="badge {}">{}</span>', KIND_BADGES.get(value.kind, ""), str(value))


class OrderTable(Table):
    model = Order
    select_related = ("owner", "account", "status")
    related_only = {"owner": USER_FIELDS, "account": NAME_FIELDS}
    default_ordering = ("-id",)
    columns = (
        OrderLink("number", pgettext_lazy("document", "Number"), order_by="number", required=True),
        RelatedLinkColumn("account", pgettext_lazy("customers", "Account"), order_by=("account__name",)),
        OrderStatusColumn("status", _("Status"), order_by=("status__position",)),
        DateTimeColumn("ordered_on", _("Order date"), order_by="ordered_on"),
        MoneyColumn("total", _("Total"), order_by="total", css_class="text-end"),
        UserColumn("owner", _("Owner"), order_by=("owner__username",)),
        DateTimeColumn("created_at", _("Created"), order_by="created_at", default=False),
    )

    @classmethod
    def extra_columns(cls) -> list[Column]:
        return list(custom_list_columns(cls.model))


class NextStatusesColumn(Column):
    def value(self, record: Any) -> Any:
        return ", ".join(str(s) for s in record.next_statuses.all())


class OrderStatusTable(Table):
    model = OrderStatus
    prefetch_related = ("next_statuses",)
    default_ordering = ("position", "id")
    columns = (
        Column("position", _("Position"), order_by="position"),
        Column("code", _("Code"), order_by="code", required=True),
        Column("name", _("Name"), order_by="name", required=True),
        Column("name_en", _("English name")),
        ChoiceColumn("kind", _("Kind"), order_by="kind"),
        BooleanColumn("is_initial", _("Initial status")),
        NextStatusesColumn("next_statuses", _("May move to"), field=""),
    )
