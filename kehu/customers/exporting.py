"""Exports of the account and contact lists (CSV / XLSX through `kehu.core.exports`).

The rows are the list's: ``restrict(user, "export")`` then the same FilterSet and sort the page
uses. Field permissions apply per column (hidden columns are left out, masked values stay masked).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.choices import Action, FieldMode
from kehu.core.exports import Column, Exporter, register_exporter
from kehu.core.masking import mask_value
from kehu.core.permissions import field_modes
from kehu.customfields.exporting import custom_export_columns
from kehu.customfields.selectors import picklist_label_map

from .choices import PICKLIST_FIELDS
from .filtersets import AccountFilterSet, ContactFilterSet
from .models import Account, Contact
from .regions import country_name, division_name


def _display(field: str) -> Any:
    return lambda obj: getattr(obj, f"get_{field}_display")() if getattr(obj, field) else ""


def _division(field: str) -> Any:
    return lambda obj: division_name(getattr(obj, field))


def _sorted(qs: QuerySet[Any], params: Any, table: Any) -> QuerySet[Any]:
    sort = params.get("sort") if hasattr(params, "get") else None
    return table(user=None, sort=sort).order(qs)


def account_queryset(user: Any, params: Any) -> QuerySet[Account]:
    from .tables import AccountTable

    base = Account.objects.restrict(user, Action.EXPORT).select_related("owner", "department", "parent")
    base = base.prefetch_related("phones", "emails")
    filterset = AccountFilterSet(params, queryset=base)
    qs = filterset.qs if filterset.is_valid() else base.none()
    return _sorted(qs, params, AccountTable)


def contact_queryset(user: Any, params: Any) -> QuerySet[Contact]:
    from .tables import ContactTable

    base = Contact.objects.restrict(user, Action.EXPORT).select_related("owner", "department", "account")
    base = base.prefetch_related("phones", "emails")
    filterset = ContactFilterSet(params, queryset=base)
    qs = filterset.qs if filterset.is_valid() else base.none()
    return _sorted(qs, params, ContactTable)


def _picklist_value(field: str) -> Any:
    labels: dict[str, Any] = {}

    def value(obj: Account) -> str:
        if not labels:
            labels.update(picklist_label_map(PICKLIST_FIELDS[field]))
            labels.setdefault("", None)  # loaded, even when the picklist is empty
        raw = getattr(obj, field)
        item = labels.get(raw)
        return item.display_label if item is not None else raw

    return value


def tags_column() -> Column:
    """The record's tag names, comma-separated (what an import's tags column reads back). The tags
    of the whole record type are read once, at the first row: one query per export, not per row."""
    from kehu.tags.models import TaggedItem

    names: dict[int, list[str]] | None = None

    def value(obj: Any) -> str:
        nonlocal names
        if names is None:
            names = {}
            rows = (
                TaggedItem.objects.filter(model=obj._meta.label_lower)
                .order_by("tag__order", "tag__name", "tag_id")
                .values_list("object_id", "tag__name")
            )
            for object_id, name in rows.iterator(chunk_size=5000):
                names.setdefault(object_id, []).append(name)
        return ", ".join(names.get(obj.pk, ()))

    return Column("tags", _("Tags"), value=value)


def _further(rel: str, attr: str, kinds: tuple[str, ...] | None, mask_kind: str | None) -> Any:
    """The record's further phone numbers or e-mails (not the primary one, of `kinds`), joined
    with ", "; each masked by itself when the user may see them only masked."""

    def value(obj: Any) -> str:
        items = [
            str(getattr(r, attr))
            for r in getattr(obj, rel).all()
            if not r.is_primary and (kinds is None or r.kind in kinds)
        ]
        if mask_kind is not None:
            items = [str(mask_value(i, mask_kind)) for i in items]
        return ", ".join(items)

    return value


def further_columns(user: Any, model: Any, phones: list[tuple[str, Any]]) -> list[Column]:
    """Columns of the further phones (`phones`: kind, label) and e-mails, one per kind, for the
    import fields ``phones.<kind>`` and ``emails.other``. Their keys ("phones__fax") name no field
    permission: the primary field's (phone, email) is applied here, hidden or masked."""
    modes = field_modes(user, model)
    columns = []
    for field, rel, attr, specs in (
        ("phone", "phones", "number", phones),
        ("email", "emails", "email", [("other", _("Other e-mail"))]),
    ):
        mode = modes.get(field)
        if mode == FieldMode.HIDDEN:
            continue
        mask_kind = field if mode == FieldMode.MASKED else None
        for kind, label in specs:
            kinds = (kind,) if rel == "phones" else None  # every further e-mail, whatever its kind
            columns.append(Column(f"{rel}__{kind}", label, value=_further(rel, attr, kinds, mask_kind)))
    return columns


def account_columns(user: Any) -> list[Column]:
    columns = [
        Column("id", _("ID")),
        Column("external_id", _("External ID")),
        Column("name", _("Name")),
        Column("short_name", _("Short name")),
        Column("kind", _("Type")),
        Column("level", _("Level"), value=_picklist_value("level")),
        Column("industry", _("Industry"), value=_picklist_value("industry")),
        Column("source", _("Source"), value=_picklist_value("source")),
        Column("phone", pgettext_lazy("customers", "Phone"), mask_kind="phone"),
        Column("email", _("E-mail"), mask_kind="email"),
        *further_columns(
            user,
            Account,
            [("mobile", _("Mobile")), ("fax", _("Fax")), ("other", _("Other phone"))],
        ),
        Column("website", _("Website")),
        Column("wechat", _("WeChat ID")),
        Column("tax_number", _("Unified social credit code"), mask_kind="text"),
        Column("lifecycle_stage", _("Lifecycle stage"), value=_display("lifecycle_stage")),
        Column("country", _("Country/region"), value=lambda obj: country_name(obj.country)),
        Column("province", _("Province"), value=_division("province")),
        Column("city", _("City"), value=_division("city")),
        Column("district", _("District"), value=_division("district")),
        Column("address", _("Address")),
        Column("parent", _("Parent account")),  # by name: what an import finds it by
        Column("last_activity_at", _("Last contact")),
        Column("completeness", _("Completeness")),
        Column("owner", _("Owner")),
        Column("department", pgettext_lazy("customers", "Department")),
        Column("is_active", pgettext_lazy("customers", "Active")),
        Column("created_at", pgettext_lazy("customers", "Created")),
        Column("updated_at", pgettext_lazy("customers", "Updated")),
        Column("notes", _("Notes")),
        tags_column(),
    ]
    columns += custom_export_columns(Account, user)
    return columns


def contact_columns(user: Any) -> list[Column]:
    columns = [
        Column("id", _("ID")),
        Column("external_id", _("External ID")),
        Column("name", _("Name")),
        Column("account", pgettext_lazy("customers", "Account")),
        Column("title", _("Job title")),
        Column("mobile", _("Mobile"), mask_kind="phone"),
        Column("phone", pgettext_lazy("customers", "Phone"), mask_kind="phone"),
        Column("email", _("E-mail"), mask_kind="email"),
        *further_columns(
            user,
            Contact,
            [("home", _("Home phone")), ("fax", _("Fax")), ("other", _("Other phone"))],
        ),
        Column("wechat", _("WeChat ID")),
        Column("gender", _("Gender"), value=_display("gender")),
        Column("birthday", _("Birthday")),
        Column("preferred_channel", _("Preferred channel"), value=_display("preferred_channel")),
        Column("do_not_call", _("Do not call")),
        Column("do_not_email", _("Do not e-mail")),
        Column("do_not_sms", _("Do not text (SMS)")),
        Column("do_not_wechat", _("Do not contact on WeChat")),
        Column("do_not_visit", _("Do not visit")),
        Column("is_primary", _("Primary contact")),
        Column("last_activity_at", _("Last contact")),
        Column("completeness", _("Completeness")),
        Column("owner", _("Owner")),
        Column("department", pgettext_lazy("customers", "Department")),
        Column("created_at", pgettext_lazy("customers", "Created")),
        Column("notes", _("Notes")),
        tags_column(),
    ]
    columns += custom_export_columns(Contact, user)
    return columns


def register() -> None:
    register_exporter(
        Exporter(
            name="customers.account",
            model=Account,
            title=pgettext_lazy("customers", "Accounts"),
            columns=account_columns,
            queryset=account_queryset,
        )
    )
    register_exporter(
        Exporter(
            name="customers.contact",
            model=Contact,
            title=_("Contacts"),
            columns=contact_columns,
            queryset=contact_queryset,
        )
    )
