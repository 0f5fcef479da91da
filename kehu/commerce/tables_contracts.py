"""List columns of contracts."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.tables import (
    NAME_FIELDS,
    USER_FIELDS,
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

from .choices import ContractStatus
from .models import Contract
from .tables_quotes import CurrencyAmountColumn

CONTRACT_BADGES = {
    ContractStatus.DRAFT: "bg-secondary-lt",
    ContractStatus.ACTIVE: "bg-green-lt",
    ContractStatus.EXPIRED: "bg-yellow-lt",
    ContractStatus.TERMINATED: "bg-red-lt",
}


class ContractLink(LinkColumn):
    url_name = "commerce:contract_detail"


class MoneyColumn(CurrencyAmountColumn):
    """The contract value with its currency's decimals."""


class ContractStatusColumn(ChoiceColumn):
    def render_value(self, record: Any, value: Any) -> Any:
        return html_format('<span class="badge {}">{}</span>', CONTRACT_BADGES.get(record.status, ""), value)


class ContractTable(Table):
    model = Contract
    select_related = ("owner", "account")
    related_only = {"owner": USER_FIELDS, "account": NAME_FIELDS}
    default_ordering = ("-id",)
    columns = (
        ContractLink("number", pgettext_lazy("document", "Number"), order_by="number", required=True),
        Column("name", _("Subject"), order_by="name"),
        RelatedLinkColumn("account", pgettext_lazy("customers", "Account"), order_by=("account__name",)),
        ContractStatusColumn("status", _("Status"), order_by="status"),
        MoneyColumn("value", _("Contract value"), order_by="value", css_class="text-end"),
        DateTimeColumn("signed_on", _("Signed"), order_by="signed_on"),
        DateTimeColumn("start_on", _("Start"), order_by="start_on", default=False),
        DateTimeColumn("end_on", _("End"), order_by="end_on"),
        UserColumn("owner", _("Owner"), order_by=("owner__username",)),
        DateTimeColumn("created_at", _("Created"), order_by="created_at", default=False),
    )

    @classmethod
    def extra_columns(cls) -> list[Column]:
        return list(custom_list_columns(cls.model))
