"""Hooks of the leads area: menu items, timeline events, the global search (index and provider),
the collision check's match keys, the lead list's export and bulk actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def register() -> None:
    from kehu.audit import events
    from kehu.core import navigation, search
    from kehu.search.registry import register_indexed

    from ..models import Lead
    from ..selectors.leads import lead_document, lead_search
    from ..services import leads as services

    navigation.register_item(
        "sales",
        navigation.MenuItem(
            _("Leads"), "sales:lead_list", icon="user-search", requires=("sales.lead", "view")
        ),
    )
    navigation.register_item(
        "settings",
        navigation.MenuItem(
            _("Lead conversion mapping"), "sales:lead_conversion_map", icon="arrows-exchange", admin_only=True
        ),
    )
    events.register_event(services.CREATED_EVENT, _("Lead created"), icon="user-plus")
    events.register_event(services.STATUS_EVENT, _("Lead status changed"), icon="flag")
    events.register_event(services.CONVERTED_EVENT, _("Lead converted"), icon="arrows-exchange")

    register_indexed(Lead, document=lead_document)
    search.register_provider(
        "sales.lead",
        _("Leads"),
        lead_search,
        icon="user-search",
        order=30,
        model="sales.lead",
        list_url_name="sales:lead_list",
    )
    _register_keys(Lead)
    _register_export()
    _register_bulk()


def _register_keys(model: Any) -> None:
    """The collision check's match keys of leads (converted leads are never matched)."""
    try:
        from kehu.dedup.registry import register_keys
    except ImportError:  # the dedup app's key registry is not there yet
        return
    register_keys(
        model,
        fields={
            "phone": ("phone", "mobile"),
            "email": ("email",),
            "company": ("company",),
            "tax_number": ("tax_number",),
        },
        active=lambda lead: lead.status != "converted",
        watch=("status",),
    )


# --- export ---------------------------------------------------------------------------------------


def _register_export() -> None:
    from kehu.core.choices import Action
    from kehu.core.exports import Column, Exporter, register_exporter
    from kehu.customers.exporting import tags_column
    from kehu.customers.regions import country_name, division_name
    from kehu.customfields.exporting import custom_export_columns
    from kehu.customfields.selectors import picklist_label_map

    from ..choices import LEAD_PICKLIST_FIELDS
    from ..models import Lead

    def queryset(user: Any, params: Any) -> QuerySet[Lead]:
        from ..filtersets_leads import LeadFilterSet
        from ..tables_leads import LeadTable

        base = Lead.objects.restrict(user, Action.EXPORT).select_related("owner", "department")
        filterset = LeadFilterSet(params, queryset=base)
        qs = filterset.qs if filterset.is_valid() else base.none()
        sort = params.get("sort") if hasattr(params, "get") else None
        return LeadTable(user=None, sort=sort).order(qs)

    def picklist(field: str) -> Any:
        labels: dict[str, Any] = {}

        def value(obj: Lead) -> str:
            if not labels:
                labels.update(picklist_label_map(LEAD_PICKLIST_FIELDS[field]))
                labels.setdefault("", None)
            raw = getattr(obj, field)
            item = labels.get(raw)
            return item.display_label if item is not None else raw

        return value

    def columns(user: Any) -> list[Column]:
        return [
            Column("id", _("ID")),
            Column("external_id", _("External ID")),
            Column("name", pgettext_lazy("lead person", "Name")),
            Column("company", pgettext_lazy("lead", "Company"), mask_kind="text"),
            Column("title", _("Job title")),
            Column("status", _("Status"), value=lambda o: o.get_status_display()),
            Column("unqualified_reason", _("Unqualified reason"), value=picklist("unqualified_reason")),
            Column("source", _("Source"), value=picklist("source")),
            Column("product_interest", _("Product interest"), value=picklist("product_interest")),
            Column("campaign", _("Campaign")),
            Column("mobile", _("Mobile"), mask_kind="phone"),
            Column("phone", pgettext_lazy("customers", "Phone"), mask_kind="phone"),
            Column("email", _("E-mail"), mask_kind="email"),
            Column("wechat", _("WeChat ID"), mask_kind="text"),
            Column("website", _("Website")),
            Column("tax_number", _("Unified social credit code")),
            Column("country", _("Country/region"), value=lambda o: country_name(o.country)),
            Column("province", _("Province"), value=lambda o: division_name(o.province)),
            Column("city", _("City"), value=lambda o: division_name(o.city)),
            Column("district", _("District"), value=lambda o: division_name(o.district)),
            Column("address", _("Address")),
            Column("last_activity_at", _("Last follow-up")),
            Column("owner", _("Owner")),
            Column("department", pgettext_lazy("customers", "Department")),
            Column("created_at", pgettext_lazy("customers", "Created")),
            Column("converted_at", _("Converted")),
            Column("converted_account_id", _("Converted into account ID")),
            Column("description", _("Description")),
            tags_column(),
            *custom_export_columns(Lead, user),
        ]

    register_exporter(
        Exporter(name="sales.lead", model=Lead, title=_("Leads"), columns=columns, queryset=queryset)
    )


# --- bulk actions -----------------------------------------------------------------------------------


class _OwnerForm(forms.Form):
    owner: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, label=_("New owner"), widget=forms.Select(attrs={"data-tom-select": ""})
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        from kehu.users.selectors import assignable_users

        super().__init__(*args, **kwargs)
        field: Any = self.fields["owner"]
        field.queryset = assignable_users()


class _StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=())
    reason = forms.ChoiceField(
        label=_("Reason"), choices=(), required=False, help_text=_("Needed when the status is “Unqualified”.")
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        from kehu.customfields.selectors import picklist_choices

        from ..choices import LeadStatus

        super().__init__(*args, **kwargs)
        status: Any = self.fields["status"]
        status.choices = [(v, label) for v, label in LeadStatus.choices if v != LeadStatus.CONVERTED]
        reason: Any = self.fields["reason"]
        reason.choices = [("", "---------"), *picklist_choices("lead_unqualified_reason")]


def _tags_form() -> type[forms.Form]:
    from ..models import Lead

    class TagsForm(forms.Form):
        tags: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
            queryset=None, label=_("Tags"), widget=forms.SelectMultiple(attrs={"data-tom-select": ""})
        )

        def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
            from kehu.tags.models import Tag
            from kehu.tags.selectors import applicable_tags

            super().__init__(*args, **kwargs)
            field: Any = self.fields["tags"]
            field.queryset = Tag.objects.filter(
                pk__in=[t.pk for t in applicable_tags(Lead, active_only=False)]
            ).order_by("name")

    return TagsForm


def _register_bulk() -> None:
    from kehu.core import bulk
    from kehu.core.bulk import BulkAction, BulkResult
    from kehu.core.choices import Action

    from ..models import Lead
    from ..services import leads as services

    def tags(*, ids: list[int], params: dict[str, Any], by: Any, job: Any = None, add: bool) -> BulkResult:
        from kehu.tags.services import tags_add, tags_remove

        allowed = list(
            Lead.objects.restrict(by, Action.CHANGE).filter(pk__in=ids).values_list("pk", flat=True)
        )
        fn = tags_add if add else tags_remove
        changed = fn(model=Lead, ids=allowed, tags=params["tags"], by=by)
        return BulkResult(done=len(allowed), skipped=len(set(ids)) - len(allowed), extra={"changed": changed})

    label = "sales.lead"
    bulk.register_bulk_action(
        label,
        BulkAction(
            "change_owner",
            _("Change owner"),
            fn=lambda *, ids, params, by, job=None: services.leads_change_owner(
                ids=ids, owner=params["owner"], by=by, job=job
            ),
            permission=Action.ASSIGN,
            form_class=_OwnerForm,
            icon="user-share",
            order=10,
        ),
    )
    bulk.register_bulk_action(
        label,
        BulkAction(
            "tags_add",
            _("Add tags"),
            fn=lambda *, ids, params, by, job=None: tags(ids=ids, params=params, by=by, job=job, add=True),
            form_class=_tags_form(),
            icon="tag",
            order=20,
        ),
    )
    bulk.register_bulk_action(
        label,
        BulkAction(
            "tags_remove",
            _("Remove tags"),
            fn=lambda *, ids, params, by, job=None: tags(ids=ids, params=params, by=by, job=job, add=False),
            form_class=_tags_form(),
            icon="tag-off",
            order=21,
        ),
    )
    bulk.register_bulk_action(
        label,
        BulkAction(
            "set_status",
            _("Set status"),
            fn=lambda *, ids, params, by, job=None: services.leads_set_status(
                ids=ids, status=params["status"], reason=params.get("reason") or "", by=by, job=job
            ),
            form_class=_StatusForm,
            icon="flag",
            order=30,
        ),
    )
    bulk.register_bulk_action(
        label,
        BulkAction(
            "delete",
            _("Delete"),
            fn=lambda *, ids, params, by, job=None: services.leads_delete(ids=ids, by=by, job=job),
            permission=Action.DELETE,
            confirm=True,
            danger=True,
            icon="trash",
            order=90,
            help_text=_("Converted leads are not deleted."),
        ),
    )
