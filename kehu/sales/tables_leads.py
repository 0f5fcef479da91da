"""List columns of leads."""

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
    EmailColumn,
    LinkColumn,
    PhoneColumn,
    UserColumn,
    html_format,
)
from kehu.customers.tables import PicklistColumn, PicklistTableMixin, RegionColumn
from kehu.customfields.tables import custom_list_columns
from kehu.tags.tables import TagsColumn

from .choices import LEAD_PICKLIST_FIELDS, LeadStatus
from .models import Lead

STATUS_BADGES: dict[str, str] = {
    LeadStatus.NEW: "bg-blue-lt",
    LeadStatus.CONTACTING: "bg-azure-lt",
    LeadStatus.QUALIFIED: "bg-green-lt",
    LeadStatus.UNQUALIFIED: "bg-secondary-lt",
    LeadStatus.CONVERTED: "bg-purple-lt",
}


class LeadStatusColumn(ChoiceColumn):
    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return ("status",)

    def render_value(self, record: Any, value: Any) -> Any:
        return html_format('<span class="badge {}">{}</span>', STATUS_BADGES.get(record.status, ""), value)


class LeadLinkColumn(LinkColumn):
    url_name = "sales:lead_detail"  # Lead.get_absolute_url


class LeadTable(PicklistTableMixin):
    model = Lead
    select_related = ("owner", "department")
    related_only = {"owner": USER_FIELDS, "department": NAME_FIELDS}
    load_only_shown = True
    columns = [
        LeadLinkColumn(
            "name",
            pgettext_lazy("lead person", "Name"),
            order_by="name",
            required=True,
            css_class="text-nowrap",
        ),
        Column("company", pgettext_lazy("lead", "Company"), order_by="company"),
        Column("title", _("Job title"), default=False),
        LeadStatusColumn("status", _("Status"), order_by="status"),
        PicklistColumn("source", _("Source"), LEAD_PICKLIST_FIELDS["source"], order_by="source"),
        PicklistColumn(
            "product_interest",
            _("Product interest"),
            LEAD_PICKLIST_FIELDS["product_interest"],
            order_by="product_interest",
            default=False,
        ),
        TagsColumn(),
        PhoneColumn("mobile", _("Mobile")),
        PhoneColumn("phone", pgettext_lazy("customers", "Phone"), default=False),
        EmailColumn("email", _("E-mail"), default=False),
        Column("wechat", _("WeChat ID"), default=False),
        RegionColumn(
            "region", _("Region"), order_by=("province", "city", "district"), default=False, field=""
        ),
        UserColumn("owner", _("Owner"), order_by=("owner__username",)),
        Column(
            "department",
            pgettext_lazy("customers", "Department"),
            order_by=("department__path",),
            default=False,
        ),
        Column("campaign", _("Campaign"), default=False),
        Column("external_id", _("External ID"), order_by="external_id", default=False),
        DateTimeColumn("last_activity_at", _("Last follow-up"), order_by="last_activity_at"),
        DateTimeColumn("created_at", pgettext_lazy("customers", "Created"), order_by="created_at"),
        DateTimeColumn("converted_at", _("Converted"), order_by="converted_at", default=False),
    ]

    @classmethod
    def extra_columns(cls) -> list[Column]:
        return list(custom_list_columns(cls.model))
