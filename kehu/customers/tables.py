"""List columns of accounts and contacts."""

from __future__ import annotations

import copy
from contextvars import ContextVar
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core import confcache
from kehu.core.tables import (
    NAME_FIELDS,
    USER_FIELDS,
    BooleanColumn,
    ChoiceColumn,
    Column,
    DateTimeColumn,
    EmailColumn,
    LinkColumn,
    PhoneColumn,
    RelatedLinkColumn,
    Table,
    UserColumn,
    html_format,
)
from kehu.customfields.selectors import picklist_label_map
from kehu.customfields.tables import custom_list_columns
from kehu.tags.tables import TagsColumn

from .choices import PICKLIST_FIELDS
from .models import Account, Contact
from .regions import region_label


class RegionColumn(Column):
    """Province, city and district (or the country outside China), from the stored codes."""

    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return ("country", "province", "city", "district")

    def value(self, record: Any) -> Any:
        return region_label(
            country=record.country,
            province=record.province,
            city=record.city,
            district=record.district,
            compact=True,
        )


def _percent(value: Any) -> str:
    return f"{value}%"


# {picklist code: {value: item}} of the page being rendered (PicklistTableMixin.rows): the
# picklist columns of a table read their items in one query instead of one each.
_PAGE_MAPS: ContextVar[dict[str, dict[str, Any]] | None] = ContextVar("kehu_picklist_maps", default=None)


def _label_maps(codes: set[str]) -> dict[str, dict[str, Any]]:
    from django.db.models import F

    from kehu.customfields.models import PicklistItem

    maps: dict[str, dict[str, Any]] = {code: {} for code in codes}
    items = (
        PicklistItem.objects.filter(picklist__code__in=codes)
        .annotate(picklist_code=F("picklist__code"))
        .order_by("order", "id")
    )
    for item in items:
        maps[item.picklist_code][item.value] = item
    return maps


class PicklistColumn(Column):
    """A standard field holding a picklist value: the item's label as a coloured badge."""

    def __init__(self, name: str, label: Any, code: str, **kwargs: Any) -> None:
        super().__init__(name, label, **kwargs)
        self.code = code

    labels: dict[str, Any] | None = None

    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return (self.name,)

    def prepare(self, records: list[Any]) -> Column:
        bound = copy.copy(self)
        page = _PAGE_MAPS.get()
        if not records:
            bound.labels = {}
        elif page is not None and self.code in page:
            bound.labels = page[self.code]
        else:
            bound.labels = picklist_label_map(self.code)
        return bound

    def render_value(self, record: Any, value: Any) -> Any:
        item = (self.labels or {}).get(value)
        if item is None:
            return value
        return html_format(
            '<span class="{}" style="{}">{}</span>', item.badge_class, item.badge_style, item.display_label
        )


class PicklistTableMixin(Table):
    """Loads the items of every visible picklist column in one query per page."""

    def rows(self, records: Any) -> Any:
        records = list(records)
        codes = {c.code for c in self.visible if isinstance(c, PicklistColumn)}
        if len(codes) < 2 or not records:
            return super().rows(records)
        # kept in the process until picklists change (kehu.core.confcache; customfields signals)
        maps = confcache.cached(("picklist-maps", frozenset(codes)), lambda: _label_maps(codes))
        token = _PAGE_MAPS.set(maps)
        try:
            return super().rows(records)
        finally:
            _PAGE_MAPS.reset(token)


# A number no account has, standing for the id in the reversed detail URL (one reverse() a page).
_PK_MARK = 9_876_543_210


class AccountLinkColumn(LinkColumn):
    url_pattern: str | None = None

    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return ("name", "kind", "short_name")

    def prepare(self, records: list[Any]) -> Column:
        bound = copy.copy(self)
        bound.url_pattern = reverse("customers:account_detail", args=[_PK_MARK])
        return bound

    def _url(self, record: Any) -> str:
        if self.url_pattern is None or type(record).get_absolute_url is not Account.get_absolute_url:
            return str(record.get_absolute_url())
        return self.url_pattern.replace(str(_PK_MARK), str(record.pk))

    def render_value(self, record: Any, value: Any) -> Any:
        icon = "building" if record.kind == "company" else "user"
        return html_format(
            '<i class="ti ti-{} text-secondary me-1"></i><a href="{}" class="fw-medium">{}</a>{}',
            icon,
            self._url(record),
            value,
            html_format('<div class="small text-secondary">{}</div>', record.short_name)
            if record.short_name
            else "",
        )


class ContactLinkColumn(LinkColumn):
    url_name = "customers:contact_detail"  # Contact.get_absolute_url


class AccountTable(PicklistTableMixin):
    model = Account
    select_related = ("owner", "department")
    related_only = {"owner": USER_FIELDS, "department": NAME_FIELDS}
    load_only_shown = True
    columns = [
        AccountLinkColumn("name", _("Name"), order_by="name", required=True, css_class="text-nowrap"),
        ChoiceColumn("kind", _("Type"), order_by="kind", default=False),
        PicklistColumn("level", _("Level"), PICKLIST_FIELDS["level"], order_by="level"),
        PicklistColumn("industry", _("Industry"), PICKLIST_FIELDS["industry"], order_by="industry"),
        TagsColumn(),
        PicklistColumn("source", _("Source"), PICKLIST_FIELDS["source"], order_by="source", default=False),
        PhoneColumn("phone", pgettext_lazy("customers", "Phone")),
        EmailColumn("email", _("E-mail"), default=False),
        Column("address", _("Address"), default=False, css_class="text-truncate"),
        UserColumn("owner", _("Owner"), order_by=("owner__username",)),
        Column(
            "department",
            pgettext_lazy("customers", "Department"),
            order_by=("department__path",),
            default=False,
        ),
        ChoiceColumn("lifecycle_stage", _("Lifecycle stage"), order_by="lifecycle_stage", default=False),
        RegionColumn(
            "region", _("Region"), order_by=("province", "city", "district"), default=False, field=""
        ),
        Column("wechat", _("WeChat ID"), default=False),
        Column("tax_number", _("Unified social credit code"), default=False),
        Column("external_id", _("External ID"), order_by="external_id", default=False),
        DateTimeColumn("last_activity_at", _("Last contact"), order_by="last_activity_at", default=False),
        Column("completeness", _("Completeness"), order_by="completeness", default=False, formatter=_percent),
        BooleanColumn("is_active", pgettext_lazy("customers", "Active"), order_by="is_active", default=False),
        DateTimeColumn("created_at", pgettext_lazy("customers", "Created"), order_by="created_at"),
        DateTimeColumn(
            "updated_at", pgettext_lazy("customers", "Updated"), order_by="updated_at", default=False
        ),
    ]

    @classmethod
    def extra_columns(cls) -> list[Column]:
        return list(custom_list_columns(cls.model))


class ContactTable(Table):
    model = Contact
    select_related = ("owner", "account")
    related_only = {"owner": USER_FIELDS, "account": NAME_FIELDS}
    load_only_shown = True
    columns = [
        ContactLinkColumn("name", _("Name"), order_by="name", required=True, css_class="text-nowrap"),
        Column("title", _("Job title"), order_by="title"),
        RelatedLinkColumn("account", pgettext_lazy("customers", "Account"), order_by=("account__name",)),
        TagsColumn(default=False),
        PhoneColumn("mobile", _("Mobile")),
        PhoneColumn("phone", pgettext_lazy("customers", "Phone"), default=False),
        EmailColumn("email", _("E-mail")),
        Column("wechat", _("WeChat ID"), default=False),
        BooleanColumn("is_primary", _("Primary"), order_by="is_primary", default=False),
        ChoiceColumn("gender", _("Gender"), order_by="gender", default=False),
        Column("birthday", _("Birthday"), order_by="birthday", default=False),
        ChoiceColumn("preferred_channel", _("Preferred channel"), default=False),
        Column("external_id", _("External ID"), order_by="external_id", default=False),
        DateTimeColumn("last_activity_at", _("Last contact"), order_by="last_activity_at", default=False),
        Column("completeness", _("Completeness"), order_by="completeness", default=False, formatter=_percent),
        UserColumn("owner", _("Owner"), order_by=("owner__username",)),
        DateTimeColumn(
            "created_at", pgettext_lazy("customers", "Created"), order_by="created_at", default=False
        ),
    ]

    @classmethod
    def extra_columns(cls) -> list[Column]:
        return list(custom_list_columns(cls.model))
