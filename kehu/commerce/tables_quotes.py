"""List columns of quotes, approval rules and the approvals inbox."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.catalog.selectors import currency_places
from kehu.core.tables import (
    NAME_FIELDS,
    USER_FIELDS,
    BooleanColumn,
    Column,
    DateTimeColumn,
    LinkColumn,
    RelatedLinkColumn,
    Table,
    UserColumn,
    html_format,
)
from kehu.customfields.tables import custom_list_columns

from .choices import QuoteStatus
from .models import ApprovalRule, Quote

STATUS_BADGES = {
    QuoteStatus.DRAFT: "bg-secondary-lt",
    QuoteStatus.PENDING: "bg-yellow-lt",
    QuoteStatus.APPROVED: "bg-blue-lt",
    QuoteStatus.SENT: "bg-azure-lt",
    QuoteStatus.ACCEPTED: "bg-green-lt",
    QuoteStatus.REJECTED: "bg-red-lt",
    QuoteStatus.EXPIRED: "bg-orange-lt",
}


def money(amount: Any, currency: str, places: int | None = None) -> str:
    """``CNY 1,234.50``, ``JPY 1,235``, ``KWD 1.235``: the currency's decimal places."""
    if amount is None:
        return ""
    if places is None:
        places = currency_places(currency)
    value = Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{currency} {value:,.{places}f}"


@dataclass
class CurrencyAmountColumn(Column):
    """An amount in the record's ``currency`` with that currency's decimals (JPY 0, KWD 3);
    the decimals are read once per page (`prepare`), one query per currency shown."""

    places: dict[str, int] | None = None

    def prepare(self, records: list[Any]) -> Column:
        codes = {str(getattr(r, "currency", "") or "") for r in records}
        return replace(self, places={code: currency_places(code) for code in sorted(codes) if code})

    def amount(self, record: Any, value: Any) -> str:
        code = str(record.currency or "")
        places = (self.places or {}).get(code)
        return money(value, code, places)

    def render_value(self, record: Any, value: Any) -> Any:
        return html_format('<span class="text-nowrap">{}</span>', self.amount(record, value))


class QuoteStatusColumn(Column):
    def render_value(self, record: Any, value: Any) -> Any:
        return html_format(
            '<span class="badge {}">{}</span>',
            STATUS_BADGES.get(value, "bg-secondary-lt"),
            record.get_status_display(),
        )


class TotalColumn(CurrencyAmountColumn):
    pass


class NumberColumn(LinkColumn):
    """The number with its version (QT-0001 v2), linked to the quote."""

    url_name = "commerce:quote_detail"

    def value(self, record: Any) -> Any:
        return str(record)


class QuoteTable(Table):
    model = Quote
    select_related = ("owner", "account")
    related_only = {"owner": USER_FIELDS, "account": NAME_FIELDS}
    default_ordering = ("-id",)
    columns = [
        NumberColumn(
            "number", pgettext_lazy("document", "Number"), order_by=("number", "revision"), required=True
        ),
        Column("name", _("Subject"), order_by="name"),
        RelatedLinkColumn("account", pgettext_lazy("customers", "Account"), order_by=("account__name",)),
        QuoteStatusColumn("status", _("Status"), order_by="status"),
        TotalColumn("total", _("Total"), order_by="total", css_class="text-end"),
        DateTimeColumn("quote_date", _("Quote date"), order_by="quote_date"),
        DateTimeColumn("valid_until", _("Valid until"), order_by="valid_until"),
        UserColumn("owner", _("Owner"), order_by=("owner__username",)),
        Column("total_company", _("Total (company currency)"), order_by="total_company", default=False),
        DateTimeColumn(
            "created_at", pgettext_lazy("customers", "Created"), order_by="created_at", default=False
        ),
    ]

    @classmethod
    def extra_columns(cls) -> list[Column]:
        return list(custom_list_columns(cls.model))


class ThresholdColumn(Column):
    def render_value(self, record: Any, value: Any) -> Any:
        return "" if value is None else f"{value.normalize():f}"


class ApprovalRuleTable(Table):
    model = ApprovalRule
    select_related = ("role",)
    default_ordering = ("position", "id")
    columns = [
        Column("name", _("Name"), order_by="name", required=True),
        Column("kind", _("Condition"), accessor="get_kind_display", order_by="kind", field=""),
        ThresholdColumn("threshold", _("Threshold"), order_by="threshold"),
        Column("approver_kind", _("Approver"), accessor="get_approver_kind_display", field=""),
        Column("role", _("Role"), field=""),
        Column("position", _("Position"), order_by="position"),
        BooleanColumn("is_active", _("Active"), order_by="is_active"),
    ]
