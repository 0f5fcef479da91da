"""List columns of payments and invoices."""

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

from .choices import InvoiceStatus
from .models import Invoice, Payment
from .tables_quotes import CurrencyAmountColumn

INVOICE_BADGES = {
    InvoiceStatus.DRAFT: "bg-secondary-lt",
    InvoiceStatus.ISSUED: "bg-green-lt",
    InvoiceStatus.VOID: "bg-red-lt",
}


class MoneyColumn(CurrencyAmountColumn):
    """An amount with its currency's decimals; negative (a reversal) in red."""

    def render_value(self, record: Any, value: Any) -> Any:
        css = "text-danger" if value is not None and value < 0 else ""
        return html_format('<span class="text-nowrap {}">{}</span>', css, self.amount(record, value))


class PaymentLink(LinkColumn):
    url_name = "commerce:payment_detail"


class InvoiceLink(LinkColumn):
    url_name = "commerce:invoice_detail"

    def render_value(self, record: Any, value: Any) -> Any:
        return super().render_value(record, value or f"#{record.pk}")


class InvoiceStatusColumn(ChoiceColumn):
    def render_value(self, record: Any, value: Any) -> Any:
        return html_format('<span class="badge {}">{}</span>', INVOICE_BADGES.get(record.status, ""), value)


class PaymentTable(Table):
    model = Payment
    select_related = ("owner", "account")
    related_only = {"owner": USER_FIELDS, "account": NAME_FIELDS}
    default_ordering = ("-received_on", "-id")
    columns = (
        PaymentLink("number", pgettext_lazy("document", "Number"), order_by="number", required=True),
        RelatedLinkColumn("account", pgettext_lazy("customers", "Account"), order_by=("account__name",)),
        DateTimeColumn("received_on", _("Date received"), order_by="received_on"),
        MoneyColumn("amount", _("Amount"), order_by="amount", css_class="text-end"),
        MoneyColumn("applied", _("Applied"), order_by="applied", css_class="text-end", default=False),
        MoneyColumn("credited", _("Credited"), order_by="credited", css_class="text-end", default=False),
        ChoiceColumn("method", pgettext_lazy("payment", "Method"), order_by="method"),
        Column("reference", _("Reference"), order_by="reference"),
        UserColumn("owner", _("Owner"), order_by=("owner__username",)),
        DateTimeColumn("created_at", _("Recorded"), order_by="created_at", default=False),
    )


class InvoiceTable(Table):
    model = Invoice
    select_related = ("owner", "account")
    related_only = {"owner": USER_FIELDS, "account": NAME_FIELDS}
    default_ordering = ("-id",)
    columns = (
        InvoiceLink("number", _("Invoice number"), order_by="number", required=True),
        ChoiceColumn("kind", _("Type"), order_by="kind"),
        InvoiceStatusColumn("status", _("Status"), order_by="status"),
        RelatedLinkColumn("account", pgettext_lazy("customers", "Account"), order_by=("account__name",)),
        Column("buyer_name", _("Buyer"), order_by="buyer_name", default=False),
        MoneyColumn(
            "amount", _("Amount excluding tax"), order_by="amount", css_class="text-end", default=False
        ),
        MoneyColumn("tax", _("Tax"), order_by="tax", css_class="text-end", default=False),
        MoneyColumn("total", _("Total"), order_by="total", css_class="text-end"),
        DateTimeColumn("issued_on", _("Issue date"), order_by="issued_on"),
        UserColumn("owner", _("Owner"), order_by=("owner__username",)),
    )
