"""Hooks of the opportunities area: menu items, timeline events, the stuck-deal notification kind,
the opportunities card and "open deals" fact on the account 360° view, the global search (index and
provider) and the list export."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def _can_view(request: HttpRequest) -> bool:
    from kehu.core.permissions import can

    from ..models import Opportunity

    return can(request.user, Opportunity, "view")


def _open_deals(request: HttpRequest, obj: Any) -> Any:
    from django.utils.html import format_html

    from ..selectors.opportunities import account_open_deals

    if not _can_view(request):
        return None
    data = account_open_deals(user=request.user, account_id=obj.pk)
    obj._kehu_open_deals = data
    if not data["count"]:
        return 0
    cur, amount = data["totals"][0]
    return format_html(
        '{} <span class="small text-secondary">· {} {}</span>', data["count"], cur, f"{amount:,.0f}"
    )


def _panel_context(request: HttpRequest, obj: Any) -> dict[str, Any] | None:
    from ..selectors.opportunities import account_opportunities

    if not _can_view(request):
        return None
    from kehu.core.permissions import can, field_modes

    from ..models import Opportunity

    add_url = None
    if can(request.user, Opportunity, "add"):
        add_url = reverse("sales:opportunity_add") + f"?account={obj.pk}"
    return {
        "opportunities": account_opportunities(user=request.user, account_id=obj.pk),
        "all_url": reverse("sales:opportunity_list") + f"?account={obj.pk}",
        "add_url": add_url,
        "hide_amount": bool(field_modes(request.user, Opportunity).get("amount")),
    }


def opportunity_search(user: Any, q: str, limit: int) -> list[Any]:
    from kehu.core.permissions import field_modes
    from kehu.core.search import SearchHit
    from kehu.search.selectors import search_ranked

    from ..models import Opportunity

    qs = Opportunity.objects.restrict(user, "view")
    ranked = search_ranked(queryset=qs, q=q, limit=limit)
    rows = {
        r["pk"]: r
        for r in qs.filter(pk__in=[pk for pk, _s in ranked]).values(
            "pk", "name", "account__name", "stage__name", "stage__name_en", "amount", "currency"
        )
    }
    hide_amount = bool(field_modes(user, Opportunity).get("amount"))
    from kehu.customfields.models import in_language

    hits = []
    for pk, score in ranked:
        r = rows.get(pk)
        if r is None:
            continue
        parts = [r["account__name"], in_language(r["stage__name"], r["stage__name_en"])]
        if not hide_amount:
            parts.append(f"{r['currency']} {r['amount']:,.0f}")
        hits.append(
            SearchHit(
                title=r["name"],
                url=reverse("sales:opportunity_detail", args=[pk]),
                subtitle=" · ".join(p for p in parts if p),
                score=score + (1.0 if r["name"] == q else 0.0),
                pk=pk,
            )
        )
    return hits


def _document(opp: Any) -> Any:
    from kehu.search.tokens import Document

    doc = Document(title=opp.name)
    doc.add_name(opp.name)
    doc.add_text(opp.competitors)
    return doc


def _documents(ids: list[int], using: str) -> dict[int, Any]:
    from kehu.search.tokens import Document

    from ..models import Opportunity

    out = {}
    for pk, name, competitors in (
        Opportunity.objects.using(using).filter(pk__in=ids).values_list("pk", "name", "competitors")
    ):
        doc = Document(title=name)
        doc.add_name(name)
        doc.add_text(competitors)
        out[pk] = doc
    return out


def _export_columns(user: Any) -> list[Any]:
    from django.utils.translation import pgettext_lazy

    from kehu.core.exports import Column
    from kehu.customers.exporting import tags_column
    from kehu.customfields.exporting import custom_export_columns
    from kehu.customfields.selectors import picklist_label_map

    from ..choices import OPPORTUNITY_PICKLIST_FIELDS
    from ..models import Opportunity

    def picklist(field: str) -> Any:
        """The option's label (what the list shows; an import reads labels and keys alike)."""
        labels: dict[str, Any] = {}

        def value(obj: Any) -> str:
            if not labels:
                labels.update(picklist_label_map(OPPORTUNITY_PICKLIST_FIELDS[field]))
                labels.setdefault("", None)
            raw = getattr(obj, field)
            item = labels.get(raw)
            return item.display_label if item is not None else raw

        return value

    return [
        Column("id", _("ID")),
        Column("external_id", _("External ID")),
        Column("name", _("Name")),
        Column("account", pgettext_lazy("customers", "Account")),
        Column("pipeline", _("Pipeline"), value=lambda o: o.pipeline.label),
        Column("stage", _("Stage"), value=lambda o: o.stage.label),
        Column("status", _("Status"), value=lambda o: o.get_status_display()),
        Column("amount", _("Amount")),
        Column("currency", _("Currency")),
        Column("probability", _("Probability (%)")),
        Column(
            "forecast_category", _("Forecast category"), value=lambda o: o.get_forecast_category_display()
        ),
        Column("expected_close_date", _("Expected close date")),
        Column("source", _("Source"), value=picklist("source")),
        Column("campaign", _("Campaign")),
        Column("competitors", _("Competitors")),
        Column("next_step", _("Next step")),
        Column("loss_reason", _("Loss reason"), value=picklist("loss_reason")),
        Column("stage_entered_at", _("In stage since")),
        Column("closed_at", _("Closed")),
        Column("owner", _("Owner")),
        Column("department", pgettext_lazy("customers", "Department")),
        Column("created_at", pgettext_lazy("customers", "Created")),
        tags_column(),
        *custom_export_columns(Opportunity, user),
    ]


def _export_queryset(user: Any, params: Any) -> Any:
    from ..filtersets_opportunities import OpportunityFilterSet
    from ..models import Opportunity
    from ..tables_opportunities import OpportunityTable

    base = Opportunity.objects.restrict(user, "export").select_related(
        "owner", "department", "account", "pipeline", "stage"
    )
    filterset = OpportunityFilterSet(params, queryset=base)
    qs = filterset.qs if filterset.is_valid() else base.none()
    sort = params.get("sort") if hasattr(params, "get") else None
    return OpportunityTable(user=None, sort=sort).order(qs)


def _bulk_change_owner(*, ids: list[int], params: dict[str, Any], by: Any, job: Any = None) -> Any:
    """Give the selected deals to another owner, one service call each (it re-checks the scope and
    the assign permission; a refused row is reported with its reason)."""
    from kehu.core.bulk import BulkResult
    from kehu.core.errors import DomainError

    from ..models import Opportunity
    from ..services.opportunities import opportunity_update

    result = BulkResult()
    rows = {o.pk: o for o in Opportunity.objects.restrict(by, "assign").filter(pk__in=ids)}
    result.skipped = len(set(ids)) - len(rows)
    for opp in rows.values():
        try:
            opportunity_update(opportunity=opp, by=by, data={"owner": params["owner"]})
        except DomainError as exc:
            result.fail(opp.pk, opp.name, exc.message)
        else:
            result.done += 1
    return result


def _bulk_tags(*, ids: list[int], params: dict[str, Any], by: Any, add: bool) -> Any:
    """Put tags on (or take them off) the selected deals the user may change, in one service call."""
    from kehu.core.bulk import BulkResult
    from kehu.tags.services import tags_add, tags_remove

    from ..models import Opportunity

    allowed = list(Opportunity.objects.restrict(by, "change").filter(pk__in=ids).values_list("pk", flat=True))
    result = BulkResult(done=len(allowed), skipped=len(set(ids)) - len(allowed))
    if allowed:
        fn = tags_add if add else tags_remove
        result.extra["added" if add else "removed"] = fn(
            model=Opportunity, ids=allowed, tags=list(params["tags"]), by=by
        )
    return result


def _bulk_move_stage(*, ids: list[int], params: dict[str, Any], by: Any, job: Any = None) -> Any:
    """Move the selected deals to one stage, each through the stage-move service (the pipeline's
    rules: allowed next stages, required fields, loss reason). A refused deal is reported with the
    reason and stays as it was; the others move."""
    from kehu.core.bulk import BulkResult
    from kehu.core.errors import DomainError

    from ..models import Opportunity
    from ..services.opportunities import opportunity_move_stage

    stage = params["stage"]
    values = {"loss_reason": params["loss_reason"]} if params.get("loss_reason") else {}
    rows = {o.pk: o for o in Opportunity.objects.restrict(by, "change").filter(pk__in=ids).order_by("pk")}
    result = BulkResult(skipped=len(set(ids)) - len(rows))
    for opp in rows.values():
        if opp.stage_id == stage.pk:
            result.done += 1  # already there
            continue
        try:
            opportunity_move_stage(opportunity=opp, stage=stage, by=by, values=values)
        except DomainError as exc:
            result.fail(opp.pk, opp.name, exc.message)
        else:
            result.done += 1
    return result


def _tags_form() -> Any:
    from django import forms

    class TagsForm(forms.Form):
        tags: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
            queryset=None, label=_("Tags"), widget=forms.SelectMultiple(attrs={"data-tom-select": ""})
        )

        def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
            from kehu.tags.models import Tag
            from kehu.tags.selectors import applicable_tags

            from ..models import Opportunity

            super().__init__(*args, **kwargs)
            field: Any = self.fields["tags"]
            ids = [t.pk for t in applicable_tags(Opportunity, active_only=False)]
            field.queryset = Tag.objects.filter(pk__in=ids).order_by("name")

    return TagsForm


def _change_owner_form() -> Any:
    from django import forms

    from kehu.users.selectors import assignable_users

    class ChangeOwnerForm(forms.Form):
        owner = forms.ModelChoiceField(
            queryset=assignable_users().order_by("username"),
            label=_("New owner"),
            widget=forms.Select(attrs={"data-tom-select": ""}),
        )

        def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)

    return ChangeOwnerForm


def register() -> None:
    """Hooks of the opportunities area."""
    from kehu.audit import events
    from kehu.core import bulk, detail, exports, navigation, search
    from kehu.notifications import kinds
    from kehu.search.registry import register_indexed

    from ..models import Opportunity
    from ..services.opportunities import CREATED_EVENT, STAGE_MOVED_EVENT, STUCK_KIND

    events.register_event(CREATED_EVENT, _("Opportunity created"), icon="target-arrow")
    events.register_event(STAGE_MOVED_EVENT, _("Opportunity stage moved"), icon="arrow-right-circle")
    kinds.register_kind(
        STUCK_KIND,
        _("Stuck deals"),
        description=_("A deal of yours stayed longer in its stage than the pipeline allows."),
        order=40,
    )
    navigation.register_item(
        "sales",
        navigation.MenuItem(
            _("Opportunities"),
            "sales:opportunity_list",
            icon="target-arrow",
            requires=("sales.opportunity", "view"),
        ),
    )
    navigation.register_item(
        "sales",
        navigation.MenuItem(
            _("Kanban"),
            "sales:opportunity_kanban",
            icon="layout-kanban",
            requires=("sales.opportunity", "view"),
        ),
    )
    navigation.register_item(
        "sales",
        navigation.MenuItem(
            _("Pipelines"), "sales:pipeline_list", icon="git-branch", requires=("sales.pipeline", "change")
        ),
    )
    detail.register_fact(
        "customers.account",
        detail.Fact(
            "sales.open_deals",
            _("Open deals"),
            _open_deals,
            order=40,
            icon="target-arrow",
            url=lambda request, obj: reverse("sales:opportunity_list") + f"?account={obj.pk}&status=open",
        ),
    )
    detail.register_panel(
        "customers.account",
        detail.Panel(
            "sales.opportunities",
            _("Opportunities"),
            "sales/_opportunity_account_panel.html",
            context=_panel_context,
            order=20,
            icon="target-arrow",
        ),
    )
    register_indexed(Opportunity, document=_document, documents=_documents)
    search.register_provider(
        "sales.opportunity",
        _("Opportunities"),
        opportunity_search,
        icon="target-arrow",
        order=40,
        model="sales.opportunity",
        list_url_name="sales:opportunity_list",
    )
    bulk.register_bulk_action(
        "sales.opportunity",
        bulk.BulkAction(
            "change_owner",
            _("Change owner"),
            fn=_bulk_change_owner,
            permission="assign",
            form_class=_change_owner_form(),
            icon="user-share",
            order=10,
        ),
    )
    tags_form = _tags_form()
    for key, label, icon, order, add in (
        ("tags_add", _("Add tags"), "tag", 20, True),
        ("tags_remove", _("Remove tags"), "tag-off", 21, False),
    ):
        bulk.register_bulk_action(
            "sales.opportunity",
            bulk.BulkAction(
                key,
                label,
                fn=lambda *, ids, params, by, job=None, add=add: _bulk_tags(
                    ids=ids, params=params, by=by, add=add
                ),
                form_class=tags_form,
                icon=icon,
                order=order,
            ),
        )
    from ..forms_opportunities import BulkMoveForm

    bulk.register_bulk_action(
        "sales.opportunity",
        bulk.BulkAction(
            "move_stage",
            _("Move to stage"),
            fn=_bulk_move_stage,
            form_class=BulkMoveForm,
            icon="arrow-right-circle",
            order=30,
            help_text=_(
                "Each deal moves by the pipeline's rules; a deal that cannot move is listed with the "
                "reason and stays where it is."
            ),
        ),
    )
    exports.register_exporter(
        exports.Exporter(
            name="sales.opportunity",
            model=Opportunity,
            title=_("Opportunities"),
            columns=_export_columns,
            queryset=_export_queryset,
        )
    )
