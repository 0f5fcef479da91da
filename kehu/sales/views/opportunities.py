"""Opportunity pages (list, kanban per pipeline, detail with the stage bar, edit) and the
pipeline editor (stages, drag to reorder). Every stage move — kanban drop, stage bar, API — calls
`services.opportunities.opportunity_move_stage`."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from kehu.catalog.models import Product
from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.permissions import can
from kehu.core.tables import esc
from kehu.customers.views import CreateOutOfScopeMixin

from ..choices import StageKind
from ..filtersets_opportunities import OpportunityFilterSet
from ..forms_opportunities import (
    ContactRoleForm,
    MoveForm,
    OpportunityForm,
    OpportunityLineForm,
    PipelineForm,
    StageForm,
    TeamMemberForm,
)
from ..models import (
    Opportunity,
    OpportunityContactRole,
    OpportunityLine,
    OpportunityTeamMember,
    Pipeline,
    Stage,
)
from ..selectors import opportunities as selectors
from ..services import opportunities as services
from ..services import opportunity_lines as line_services
from ..services import pipelines as pipeline_services
from ..services.opportunities import field_label
from ..tables_opportunities import OpportunityTable


def toast_error(exc: DomainError) -> HttpResponse:
    """An htmx answer that changes nothing on the page and shows `exc`'s message as an error toast
    (the quote pages use it too)."""
    response = HttpResponse(status=200)
    response["HX-Reswap"] = "none"
    response["HX-Trigger"] = json.dumps({"kehu:toast": {"message": str(exc.message), "level": "error"}})
    return response


# --- list, detail, edit -----------------------------------------------------------------------


class OpportunityListView(generic.ObjectListView):
    model = Opportunity
    table_class = OpportunityTable
    filterset_class = OpportunityFilterSet
    exporter = "sales.opportunity"
    template_name = "sales/opportunity_list.html"

    def get_queryset(self) -> Any:
        return super().get_queryset()

    def get_extra_context(self) -> dict[str, Any]:
        return {"kanban_url": reverse("sales:opportunity_kanban"), "list_mode": "table"}


def _history_tab(request: HttpRequest, obj: Opportunity) -> dict[str, Any]:
    return {"stage_history": selectors.stage_history(opportunity=obj)}


def _overview(request: HttpRequest, obj: Opportunity) -> dict[str, Any]:
    roles = list(obj.contact_roles.select_related("contact"))
    labels = dict(_role_choices()) if roles else {}
    for row in roles:
        row.role_label = labels.get(row.role, row.role)  # type: ignore[attr-defined]
    return {
        "contact_roles": roles,
        "team": list(obj.team.select_related("user")),
        "stage_history": selectors.stage_history(opportunity=obj),
        **lines_context(request, obj),
    }


def lines_context(request: HttpRequest, obj: Opportunity) -> dict[str, Any]:
    """The Products card: the lines in order and their totals (hidden with the amount when the
    user's field permissions hide or mask it)."""
    from kehu.core.permissions import field_modes

    if field_modes(request.user, Opportunity).get("amount") in ("hidden", "masked"):
        return {"show_lines": False}
    rows = list(obj.lines.select_related("product"))
    totals = {
        name: sum((getattr(r, name) for r in rows), Decimal(0))
        for name in ("gross", "discount", "net", "tax", "total")
    }
    return {"show_lines": True, "lines": rows, "line_totals": totals}


def _role_choices() -> list[tuple[str, str]]:
    from kehu.customfields.selectors import picklist_choices

    from ..choices import OPPORTUNITY_CONTACT_ROLE_PICKLIST

    return picklist_choices(OPPORTUNITY_CONTACT_ROLE_PICKLIST)


class OpportunityDetailView(generic.ObjectDetailView):
    model = Opportunity
    template_name = "sales/opportunity_detail.html"
    select_related = ("owner", "department", "account", "pipeline", "stage", "created_by")
    tabs = [
        generic.Tab(
            "overview",
            gettext_lazy("Overview"),
            "sales/_opportunity_overview.html",
            context=_overview,
            icon="layout-dashboard",
            order=0,
        ),
        generic.Tab(
            "stages",
            gettext_lazy("Stage history"),
            "sales/_opportunity_stage_history.html",
            context=_history_tab,
            icon="timeline-event",
            order=20,
        ),
        generic.Tab(
            "timeline", gettext_lazy("Timeline"), "sales/_lead_timeline.html", icon="timeline", order=10
        ),
    ]

    def get_extra_context(self, obj: Opportunity) -> dict[str, Any]:
        stages = list(obj.pipeline.stages.order_by("order", "id"))
        allowed = services.allowed_next_ids(obj.stage)
        now_days = None
        if obj.stage_entered_at and obj.status == StageKind.OPEN:
            from django.utils import timezone

            now_days = (timezone.now() - obj.stage_entered_at).days
        return {
            "stages": stages,
            "allowed_ids": allowed,
            "days_in_stage": now_days,
            "is_stuck": bool(
                obj.stage.stuck_after_days and now_days and now_days > obj.stage.stuck_after_days
            ),
            "kanban_url": reverse("sales:opportunity_kanban") + f"?pipeline={obj.pipeline_id}",
            "amount_text": f"{obj.currency} {obj.amount:,.2f}",
        }


class OpportunityEditView(CreateOutOfScopeMixin, generic.ObjectEditView):
    model = Opportunity
    form_class = OpportunityForm

    @transaction.atomic
    def save(self, form: OpportunityForm, obj: Opportunity | None) -> Opportunity:
        data = form.service_data()
        if obj is None:
            saved = services.opportunity_create(
                by=self.request.user,
                account=data.pop("account", None),
                name=data.pop("name", ""),
                pipeline=data.pop("pipeline", None),
                stage=data.pop("stage", None),
                amount=data.pop("amount", None) or Decimal(0),
                currency=data.pop("currency", None),
                owner=data.pop("owner", None),
                data=data,
                tags=form.new_tags(),  # as the creator's: the owner chosen may be out of reach
            )
        else:
            saved = services.opportunity_update(
                opportunity=obj, by=self.request.user, data=data, version=form.version
            )
            form.save_tags(saved)
        return saved


class OpportunityDeleteView(generic.ObjectDeleteView):
    model = Opportunity

    def delete(self, obj: Opportunity) -> None:
        services.opportunity_delete(opportunity=obj, by=self.request.user)


class OpportunityAutocompleteView(generic.ObjectAutocompleteView):
    model = Opportunity
    search_fields = ("name",)


# --- kanban -----------------------------------------------------------------------------------


def _board_queryset(request: HttpRequest) -> tuple[Any, Any]:
    qs = selectors.opportunity_list(user=request.user)
    keys = [k for k in request.GET if k not in ("pipeline", "stage_col", "offset", "stage", "status")]
    if not generic.names_a_filter(OpportunityFilterSet, keys):
        return qs, None
    data = request.GET.copy()
    for k in ("pipeline", "stage", "status"):
        data.pop(k, None)
    filterset = OpportunityFilterSet(data, queryset=qs, request=request)
    return (filterset.qs if filterset.is_valid() else qs.none()), filterset


def cards_html(cards: list[Opportunity], stage: Stage) -> SafeString:
    """The cards of a kanban column, built in Python (a board renders up to 20 cards × its columns;
    a template include per column was most of the page's time). Every value is escaped."""
    owner_label = esc(_("Owner"))
    stuck = esc(_("stuck"))
    is_open = stage.kind == StageKind.OPEN
    out = []
    for card in cards:
        c: Any = card  # decorated by the selector: url, amount_text, days_label, is_stuck
        name = esc(c.name)
        days = ""
        if is_open:
            tone, note = ("text-warning fw-medium", f" · {stuck}") if c.is_stuck else ("text-secondary", "")
            days = (
                f'\n    <div class="small mt-1 {tone}"><i class="ti ti-hourglass"></i> '
                f'<span data-role="days">{esc(c.days_label)}</span>{note}</div>'
            )
        owner = esc(c.owner) if c.owner is not None else "—"
        out.append(
            f'<div class="card card-sm kehu-kanban-card{" border-warning" if c.is_stuck else ""}" '
            f'data-pk="{c.pk}" data-version="{c.version}" data-position="{c.position!r}">\n'
            '  <div class="card-body p-2">\n'
            f'    <a href="{esc(c.url)}" class="fw-medium d-block text-truncate" title="{name}">{name}</a>\n'
            f'    <div class="small text-secondary text-truncate">{esc(c.account.name)}</div>\n'
            '    <div class="d-flex align-items-center mt-1 small">\n'
            f'      <span class="fw-medium me-auto">{esc(c.amount_text)}</span>\n'
            f'      <span class="text-secondary text-truncate ms-2" title="{owner_label}">'
            f'<i class="ti ti-user"></i> {owner}</span>\n'
            f"    </div>{days}\n  </div>\n</div>\n"
        )
    return SafeString("".join(out))


def _more_query(request: HttpRequest) -> str:
    """The board's filters for a column's next page (everything but the paging keys)."""
    query = request.GET.copy()
    for key in ("pipeline", "stage_col", "offset"):
        query.pop(key, None)
    return query.urlencode()


def _totals_json(columns: dict[int, selectors.KanbanColumn]) -> dict[str, Any]:
    return {
        str(pk): {
            "count": c.count,
            "totals": c.totals_text,
        }
        for pk, c in columns.items()
    }


class KanbanView(LoginRequiredMixin, View):
    """The board of one pipeline: totals for every column; each column renders its first cards
    and loads more on scroll (``?stage_col=<id>&offset=<n>``, an htmx partial)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not can(user, Opportunity, Action.VIEW):
            raise PermissionDenied
        pipelines = selectors.pipelines_active()
        pipeline = selectors.pipeline_for_board(request.GET.get("pipeline"), pipelines=pipelines)
        if pipeline is None:
            raise Http404
        queryset, filterset = _board_queryset(request)
        queryset = queryset.filter(pipeline=pipeline)
        if request.GET.get("stage_col"):
            stage = get_object_or_404(Stage, pk=request.GET["stage_col"], pipeline=pipeline)
            try:
                offset = max(0, int(request.GET.get("offset") or 0))
            except ValueError:
                offset = 0
            cards, has_more = selectors.kanban_cards(queryset=queryset, stage=stage, offset=offset)
            return render(
                request,
                "sales/_opportunity_kanban_cards.html",
                {
                    "cards_html": cards_html(cards, stage),
                    "has_more": has_more,
                    "next_offset": offset + len(cards),
                    "stage": stage,
                    "pipeline": pipeline,
                    "more_query": _more_query(request),
                },
            )
        columns = selectors.kanban_board(queryset=queryset, pipeline=pipeline)
        for column in columns:
            column.cards_html = cards_html(column.cards, column.stage)  # type: ignore[attr-defined]
        query = request.GET.copy()
        query.pop("pipeline", None)
        return render(
            request,
            "sales/opportunity_kanban.html",
            {
                "pipeline": pipeline,
                "pipelines": pipelines,
                "columns": columns,
                "filterset": filterset,
                "filter_query": query.urlencode(),
                "opts": Opportunity._meta,
                "can_move": can(user, Opportunity, Action.CHANGE),
                "add_url": reverse("sales:opportunity_add") if can(user, Opportunity, Action.ADD) else None,
                "list_url": reverse("sales:opportunity_list"),
                "breadcrumbs": [
                    (generic.verbose(Opportunity, plural=True), reverse("sales:opportunity_list"))
                ],
                "title": _("Kanban"),
                "closed_days": selectors.KANBAN_CLOSED_DAYS,
                "more_query": _more_query(request),
                "days_zero": selectors.days_in_stage_label(0),
            },
        )


class MoveView(LoginRequiredMixin, View):
    """Move a deal to another stage.

    * kanban drop (``Accept: application/json``): JSON ``{"ok", "message", "fields", "columns"}``;
      a refused move answers 400 with the reason (the card snaps back and shows it);
    * stage bar (htmx): GET renders the move dialog with the fields the stage needs; POST moves,
      or shows the dialog again with the errors."""

    def _object(self, request: HttpRequest, pk: int) -> Opportunity:
        return generic.get_for_action(Opportunity, request.user, pk, Action.CHANGE)

    def _dialog(
        self, request: HttpRequest, obj: Opportunity, form: MoveForm, stage: Stage | None, error: str = ""
    ) -> HttpResponse:
        needed = list((stage.required_fields if stage else []) or [])
        shown = [n for n in ("next_step", "amount", "expected_close_date") if n in needed or n in form.errors]
        if stage is not None and stage.kind == StageKind.LOST:
            shown += ["loss_reason", "loss_notes"]
        others = [field_label(n) for n in needed if n not in shown]
        return render(
            request,
            "sales/_opportunity_move_modal.html",
            {
                "object": obj,
                "form": form,
                "stage": stage,
                "shown": [form[n] for n in shown],
                "others": others,
                "error": error,
                "action_url": reverse("sales:opportunity_move", args=[obj.pk]),
            },
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self._object(request, pk)
        stage = Stage.objects.filter(pk=request.GET.get("stage") or 0, pipeline=obj.pipeline_id).first()
        if stage is None:
            raise Http404
        form = MoveForm(initial={"stage": stage.pk, "version": obj.version, "next_step": obj.next_step})
        return self._dialog(request, obj, form, stage)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self._object(request, pk)
        wants_json = "application/json" in request.headers.get("Accept", "")
        form = MoveForm(request.POST)
        if not form.is_valid():
            if wants_json:
                return JsonResponse(
                    {
                        "ok": False,
                        "code": "invalid",
                        "message": _("Some fields are not valid."),
                        "fields": {k: [str(m) for m in v] for k, v in form.errors.items()},
                    },
                    status=400,
                )
            return self._dialog(request, obj, form, None)
        stage = form.cleaned_data["stage"]
        before = obj.stage_id
        try:
            moved = services.opportunity_move_stage(
                opportunity=obj,
                stage=stage,
                by=request.user,
                version=form.cleaned_data.get("version"),
                values=form.values(),
            )
        except DomainError as exc:
            if wants_json:
                body = exc.as_dict()
                body["ok"] = False
                body["field_labels"] = [field_label(n) for n in exc.fields]
                body["fill_url"] = reverse("sales:opportunity_move", args=[obj.pk]) + f"?stage={stage.pk}"
                return JsonResponse(body, status=exc.status)
            for name, messages in exc.fields.items():
                for message in messages:
                    if name in form.fields and name != "stage":
                        form.add_error(name, message)
            return self._dialog(request, obj, form, stage, error=str(exc.message))
        message = _("“%(name)s” moved to “%(stage)s”.") % {"name": moved.name, "stage": moved.stage.label}
        if wants_json:
            queryset = selectors.opportunity_list(user=request.user).filter(pipeline=moved.pipeline)
            stages = list(Stage.objects.filter(pk__in={before, moved.stage_id}))
            columns = selectors.kanban_totals(queryset=queryset, stages=stages)
            return JsonResponse(
                {
                    "ok": True,
                    "message": message,
                    "version": moved.version,
                    "probability": moved.probability,
                    "columns": _totals_json(columns),
                }
            )
        return generic.success_response(request, url=moved.get_absolute_url(), message=message)


# --- contact roles and team -------------------------------------------------------------------


class ContactRoleAddView(LoginRequiredMixin, View):
    def _render(self, request: HttpRequest, obj: Opportunity, form: ContactRoleForm) -> HttpResponse:
        return render(
            request,
            "core/_object_form_modal.html",
            {
                "form": form,
                "title": _("Add a contact role"),
                "action_url": reverse("sales:opportunity_contact_add", args=[obj.pk]),
            },
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = generic.get_for_action(Opportunity, request.user, pk, Action.CHANGE)
        return self._render(request, obj, ContactRoleForm(user=request.user, opportunity=obj))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = generic.get_for_action(Opportunity, request.user, pk, Action.CHANGE)
        form = ContactRoleForm(request.POST, user=request.user, opportunity=obj)
        if form.is_valid():
            try:
                services.opportunity_contact_role_add(by=request.user, opportunity=obj, **form.cleaned_data)
            except DomainError as exc:
                for name, messages in exc.fields.items():
                    form.add_error(name if name in form.fields else None, messages[0])
            else:
                return generic.success_response(
                    request, url=obj.get_absolute_url(), message=_("Contact role added.")
                )
        return self._render(request, obj, form)


class ContactRoleRemoveView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int, role_pk: int) -> HttpResponse:
        obj = generic.get_for_action(Opportunity, request.user, pk, Action.CHANGE)
        row = get_object_or_404(OpportunityContactRole, pk=role_pk, opportunity=obj)
        services.opportunity_contact_role_remove(by=request.user, contact_role=row)
        return generic.success_response(
            request, url=obj.get_absolute_url(), message=_("Contact role removed.")
        )


class TeamAddView(LoginRequiredMixin, View):
    def _render(self, request: HttpRequest, obj: Opportunity, form: TeamMemberForm) -> HttpResponse:
        return render(
            request,
            "core/_object_form_modal.html",
            {
                "form": form,
                "title": _("Add a team member"),
                "action_url": reverse("sales:opportunity_team_add", args=[obj.pk]),
            },
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = generic.get_for_action(Opportunity, request.user, pk, Action.CHANGE)
        return self._render(request, obj, TeamMemberForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = generic.get_for_action(Opportunity, request.user, pk, Action.CHANGE)
        form = TeamMemberForm(request.POST)
        if form.is_valid():
            try:
                services.opportunity_team_member_add(by=request.user, opportunity=obj, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                return generic.success_response(
                    request, url=obj.get_absolute_url(), message=_("Team member added.")
                )
        return self._render(request, obj, form)


class TeamRemoveView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
        obj = generic.get_for_action(Opportunity, request.user, pk, Action.CHANGE)
        member = get_object_or_404(OpportunityTeamMember, pk=member_pk, opportunity=obj)
        services.opportunity_team_member_remove(by=request.user, member=member)
        return generic.success_response(
            request, url=obj.get_absolute_url(), message=_("Team member removed.")
        )


# --- product lines ----------------------------------------------------------------------------


class ProductAutocompleteView(generic.ObjectAutocompleteView):
    """The product picker of a line: active products the user may view, by code or name."""

    model = Product
    search_fields = ("code", "name", "name_en")

    def get_queryset(self) -> Any:
        return super().get_queryset().filter(is_active=True)


def _line_opportunity(request: HttpRequest, pk: int) -> Opportunity:
    """404 outside the user's view scope, 403 when they may view but not change it."""
    return generic.get_for_action(Opportunity, request.user, pk, Action.CHANGE)


class LineModalView(LoginRequiredMixin, View):
    """Add (no ``line_pk``) or edit a priced line of a document in a modal (an opportunity's
    products here, a quote's lines in commerce): the line form, errors of the service on their
    fields, and on success the document's page reloads (amounts, totals). Subclasses name the
    URLs, texts and form, load the document (`get_document`, 404 / 403 as the document's change
    scope says) and call their service (`save_line`)."""

    form_class: Any = None
    document_kwarg = ""  # the form's keyword for the document ("opportunity", "quote")
    line_model: Any = None
    add_url_name = edit_url_name = price_url_name = ""
    fields_template = ""
    add_title: Any = ""
    edit_title: Any = ""
    added_message: Any = ""
    saved_message: Any = ""

    def get_document(self, request: HttpRequest, pk: int) -> Any:  # pragma: no cover
        raise NotImplementedError

    def refuse(self, document: Any) -> HttpResponse | None:
        """An answer instead of the form (the document may not take line changes now), or None."""
        return None

    def save_line(
        self, request: HttpRequest, document: Any, line: Any, form: Any
    ) -> None:  # pragma: no cover
        raise NotImplementedError

    def _objects(self, request: HttpRequest, pk: int, line_pk: int | None) -> tuple[Any, Any]:
        obj = self.get_document(request, pk)
        line = (
            get_object_or_404(self.line_model, pk=line_pk, **{self.document_kwarg: obj}) if line_pk else None
        )
        return obj, line

    def _form(self, request: HttpRequest, obj: Any, line: Any, data: Any = None) -> Any:
        return self.form_class(
            data,
            user=request.user,
            line=line,
            price_url=reverse(self.price_url_name, args=[obj.pk]),
            **{self.document_kwarg: obj},
        )

    def _render(self, request: HttpRequest, obj: Any, line: Any, form: Any) -> HttpResponse:
        url = (
            reverse(self.edit_url_name, args=[obj.pk, line.pk])
            if line
            else reverse(self.add_url_name, args=[obj.pk])
        )
        return render(
            request,
            "core/_object_form_modal.html",
            {
                "form": form,
                "title": self.edit_title if line else self.add_title,
                "action_url": url,
                "form_fields_template": self.fields_template,
                "object": obj,
                "line": line,
            },
        )

    def get(self, request: HttpRequest, pk: int, line_pk: int | None = None) -> HttpResponse:
        obj, line = self._objects(request, pk, line_pk)
        refused = self.refuse(obj)
        if refused is not None:
            return refused
        return self._render(request, obj, line, self._form(request, obj, line))

    def post(self, request: HttpRequest, pk: int, line_pk: int | None = None) -> HttpResponse:
        obj, line = self._objects(request, pk, line_pk)
        form = self._form(request, obj, line, request.POST)
        if form.is_valid():
            try:
                self.save_line(request, obj, line, form)
            except DomainError as exc:
                _add_errors(form, exc)
            else:
                message = self.saved_message if line else self.added_message
                return generic.success_response(request, url=obj.get_absolute_url(), message=str(message))
        return self._render(request, obj, line, form)


class LineEditView(LineModalView):
    """Add or edit a product line of an opportunity; the page reloads (amount, card)."""

    form_class = OpportunityLineForm
    document_kwarg = "opportunity"
    line_model = OpportunityLine
    add_url_name, edit_url_name = "sales:opportunity_line_add", "sales:opportunity_line_edit"
    price_url_name = "sales:opportunity_line_price"
    fields_template = "sales/_opportunity_line_form.html"
    add_title, edit_title = gettext_lazy("Add a product"), gettext_lazy("Edit product")
    added_message, saved_message = gettext_lazy("Product added."), gettext_lazy("Product saved.")

    def get_document(self, request: HttpRequest, pk: int) -> Opportunity:
        return _line_opportunity(request, pk)

    def save_line(self, request: HttpRequest, document: Any, line: Any, form: Any) -> None:
        version = form.cleaned_data.get("version")
        if line is None:
            line_services.opportunity_line_add(
                by=request.user, opportunity=document, version=version, **form.service_values()
            )
        else:
            line_services.opportunity_line_update(
                by=request.user, line=line, data=form.service_values(), version=version
            )


class LineDeleteView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
        obj = _line_opportunity(request, pk)
        line = get_object_or_404(OpportunityLine, pk=line_pk, opportunity=obj)
        try:
            line_services.opportunity_line_delete(by=request.user, line=line)
        except DomainError as exc:
            return toast_error(exc)
        return generic.success_response(request, url=obj.get_absolute_url(), message=_("Product removed."))


class LinePriceView(LoginRequiredMixin, View):
    """GET ``?product=&quantity=`` (htmx, as the line form changes): the price list's unit price
    for this deal's customer, currency and quantity — the unit price input, pre-filled (swapped
    out of band), and a note saying where the price comes from."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = _line_opportunity(request, pk)
        product = (
            Product.objects.restrict(request.user, Action.VIEW)
            .filter(pk=request.GET.get("product") or 0)
            .first()
            if (request.GET.get("product") or "").isdigit()
            else None
        )
        quantity, capped = preview_quantity(request.GET.get("quantity"), line_services.MAX_QUANTITY)
        resolved = None
        if product is not None:
            resolved = line_services.resolve_price(opportunity=obj, product=product, quantity=quantity)
        response = render(
            request,
            "sales/_opportunity_line_price.html",
            {
                "product": product,
                "price": f"{resolved[0].normalize():f}" if resolved else None,
                "source": resolved[2] if resolved else "",
                "currency": obj.currency,
            },
        )
        return capped_toast(response, capped)


def preview_quantity(raw: str | None, limit: Decimal) -> tuple[Decimal, str]:
    """The quantity of a live price preview: 1 when missing or not a positive number, at most
    `limit` (the quantity column's) — with the message saying so when it was capped."""
    try:
        quantity = Decimal(str(raw or "1").strip())
    except ArithmeticError:
        return Decimal(1), ""
    if not quantity.is_finite() or quantity <= 0:
        return Decimal(1), ""
    if quantity > limit:
        return limit, _("The quantity may be at most %(limit)s: the price shown is for %(limit)s.") % {
            "limit": f"{limit:,f}"
        }
    return quantity, ""


def capped_toast(response: HttpResponse, message: str) -> HttpResponse:
    """Add a warning toast (`message`, when any) to an htmx response."""
    if message:
        response["HX-Trigger"] = json.dumps({"kehu:toast": {"message": str(message), "level": "warning"}})
    return response


class LinesReorderView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = _line_opportunity(request, pk)
        try:
            line_services.opportunity_lines_reorder(
                by=request.user, opportunity=obj, line_ids=request.POST.getlist("line")
            )
        except DomainError as exc:
            return JsonResponse({"ok": False, "message": str(exc.message)}, status=400)
        return JsonResponse({"ok": True, "message": _("Order saved.")})


# --- pipelines (admin) ------------------------------------------------------------------------


def _pipeline_admin(request: HttpRequest, action: str = Action.CHANGE) -> None:
    if not can(request.user, Pipeline, action):
        raise PermissionDenied


class PipelineListView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        _pipeline_admin(request, Action.VIEW)
        pipelines = Pipeline.objects.order_by("order", "id").prefetch_related("stages")
        return render(
            request,
            "sales/pipeline_list.html",
            {
                "pipelines": pipelines,
                "can_add": can(request.user, Pipeline, Action.ADD),
                "title": _("Pipelines"),
                "breadcrumbs": [(_("Pipelines"), None)],
            },
        )


class PipelineDetailView(LoginRequiredMixin, View):
    """The stage editor: stages in order (drag to reorder), their rules, add/edit/delete."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        _pipeline_admin(request, Action.VIEW)
        pipeline = get_object_or_404(Pipeline, pk=pk)
        stages = list(pipeline.stages.order_by("order", "id").prefetch_related("allowed_next"))
        counts = dict(
            Opportunity.objects.filter(pipeline=pipeline)
            .order_by()
            .values("stage_id")
            .annotate(n=Count("id"))
            .values_list("stage_id", "n")
        )
        for stage in stages:
            stage.deal_count = counts.get(stage.pk, 0)  # type: ignore[attr-defined]
            stage.required_labels = [field_label(n) for n in stage.required_fields or []]  # type: ignore[attr-defined]
        return render(
            request,
            "sales/pipeline_detail.html",
            {
                "pipeline": pipeline,
                "stages": stages,
                "can_change": can(request.user, Pipeline, Action.CHANGE),
                "title": pipeline.label,
                "breadcrumbs": [(_("Pipelines"), reverse("sales:pipeline_list")), (pipeline.label, None)],
            },
        )


class PipelineEditView(LoginRequiredMixin, View):
    def _render(self, request: HttpRequest, form: PipelineForm, obj: Pipeline | None) -> HttpResponse:
        url = reverse("sales:pipeline_edit", args=[obj.pk]) if obj else reverse("sales:pipeline_add")
        return render(
            request,
            "core/_object_form_modal.html",
            {"form": form, "title": _("Edit pipeline") if obj else _("New pipeline"), "action_url": url},
        )

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        _pipeline_admin(request, Action.CHANGE if pk else Action.ADD)
        obj = get_object_or_404(Pipeline, pk=pk) if pk else None
        return self._render(request, PipelineForm(instance=obj), obj)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        _pipeline_admin(request, Action.CHANGE if pk else Action.ADD)
        obj = get_object_or_404(Pipeline, pk=pk) if pk else None
        form = PipelineForm(request.POST, instance=obj)
        if form.is_valid():
            try:
                if obj is None:
                    saved = pipeline_services.pipeline_create(by=request.user, data=form.cleaned_data)
                else:
                    saved = pipeline_services.pipeline_update(
                        by=request.user, pipeline=obj, data=form.cleaned_data
                    )
            except DomainError as exc:
                _add_errors(form, exc)
            else:
                return generic.success_response(
                    request,
                    url=reverse("sales:pipeline_detail", args=[saved.pk]),
                    message=_("Pipeline saved."),
                )
        return self._render(request, form, obj)


class PipelineDeleteView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        _pipeline_admin(request, Action.DELETE)
        pipeline = get_object_or_404(Pipeline, pk=pk)
        try:
            pipeline_services.pipeline_delete(by=request.user, pipeline=pipeline)
        except DomainError as exc:
            return toast_error(exc)
        return generic.success_response(
            request, url=reverse("sales:pipeline_list"), message=_("Pipeline deleted.")
        )


def _add_errors(form: Any, exc: DomainError) -> None:
    shown = False
    for name, messages in exc.fields.items():
        if name in form.fields:
            for message in messages:
                form.add_error(name, message)
                shown = True
    if not shown:
        form.add_error(None, str(exc.message))


class StageEditView(LoginRequiredMixin, View):
    def _render(
        self, request: HttpRequest, form: StageForm, pipeline: Pipeline, obj: Stage | None
    ) -> HttpResponse:
        url = (
            reverse("sales:stage_edit", args=[pipeline.pk, obj.pk])
            if obj
            else reverse("sales:stage_add", args=[pipeline.pk])
        )
        return render(
            request,
            "core/_object_form_modal.html",
            {"form": form, "title": _("Edit stage") if obj else _("New stage"), "action_url": url},
        )

    def _objects(self, request: HttpRequest, pk: int, stage_pk: int | None) -> tuple[Pipeline, Stage | None]:
        _pipeline_admin(request)
        pipeline = get_object_or_404(Pipeline, pk=pk)
        stage = get_object_or_404(Stage, pk=stage_pk, pipeline=pipeline) if stage_pk else None
        return pipeline, stage

    def get(self, request: HttpRequest, pk: int, stage_pk: int | None = None) -> HttpResponse:
        pipeline, stage = self._objects(request, pk, stage_pk)
        return self._render(request, StageForm(instance=stage, pipeline=pipeline), pipeline, stage)

    def post(self, request: HttpRequest, pk: int, stage_pk: int | None = None) -> HttpResponse:
        pipeline, stage = self._objects(request, pk, stage_pk)
        form = StageForm(request.POST, instance=stage, pipeline=pipeline)
        if form.is_valid():
            try:
                if stage is None:
                    pipeline_services.stage_create(
                        by=request.user, pipeline=pipeline, data=form.service_data()
                    )
                else:
                    pipeline_services.stage_update(by=request.user, stage=stage, data=form.service_data())
            except DomainError as exc:
                _add_errors(form, exc)
            else:
                return generic.success_response(
                    request,
                    url=reverse("sales:pipeline_detail", args=[pipeline.pk]),
                    message=_("Stage saved."),
                )
        return self._render(request, form, pipeline, stage)


class StageDeleteView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int, stage_pk: int) -> HttpResponse:
        _pipeline_admin(request)
        stage = get_object_or_404(Stage, pk=stage_pk, pipeline_id=pk)
        try:
            pipeline_services.stage_delete(by=request.user, stage=stage)
        except DomainError as exc:
            return toast_error(exc)
        return generic.success_response(
            request, url=reverse("sales:pipeline_detail", args=[pk]), message=_("Stage deleted.")
        )


class StageReorderView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        _pipeline_admin(request)
        pipeline = get_object_or_404(Pipeline, pk=pk)
        try:
            pipeline_services.stages_reorder(
                by=request.user, pipeline=pipeline, stage_ids=request.POST.getlist("stage")
            )
        except (DomainError, ValueError) as exc:
            message = (
                exc.message if isinstance(exc, DomainError) else _("Send every stage of the pipeline once.")
            )
            return JsonResponse({"ok": False, "message": str(message)}, status=400)
        return JsonResponse({"ok": True, "message": _("Stage order saved.")})


urlpatterns: list[URLPattern] = [
    path("opportunities/", OpportunityListView.as_view(), name="opportunity_list"),
    path("opportunities/kanban/", KanbanView.as_view(), name="opportunity_kanban"),
    path("opportunities/add/", OpportunityEditView.as_view(), name="opportunity_add"),
    path(
        "opportunities/autocomplete/", OpportunityAutocompleteView.as_view(), name="opportunity_autocomplete"
    ),
    path("opportunities/<int:pk>/", OpportunityDetailView.as_view(), name="opportunity_detail"),
    path("opportunities/<int:pk>/edit/", OpportunityEditView.as_view(), name="opportunity_edit"),
    path("opportunities/<int:pk>/delete/", OpportunityDeleteView.as_view(), name="opportunity_delete"),
    path("opportunities/<int:pk>/move/", MoveView.as_view(), name="opportunity_move"),
    path(
        "opportunities/<int:pk>/contacts/add/", ContactRoleAddView.as_view(), name="opportunity_contact_add"
    ),
    path(
        "opportunities/<int:pk>/contacts/<int:role_pk>/remove/",
        ContactRoleRemoveView.as_view(),
        name="opportunity_contact_remove",
    ),
    path("opportunities/<int:pk>/team/add/", TeamAddView.as_view(), name="opportunity_team_add"),
    path(
        "opportunities/products/autocomplete/",
        ProductAutocompleteView.as_view(),
        name="opportunity_line_products",
    ),
    path("opportunities/<int:pk>/lines/add/", LineEditView.as_view(), name="opportunity_line_add"),
    path("opportunities/<int:pk>/lines/price/", LinePriceView.as_view(), name="opportunity_line_price"),
    path(
        "opportunities/<int:pk>/lines/reorder/", LinesReorderView.as_view(), name="opportunity_lines_reorder"
    ),
    path(
        "opportunities/<int:pk>/lines/<int:line_pk>/edit/",
        LineEditView.as_view(),
        name="opportunity_line_edit",
    ),
    path(
        "opportunities/<int:pk>/lines/<int:line_pk>/delete/",
        LineDeleteView.as_view(),
        name="opportunity_line_delete",
    ),
    path(
        "opportunities/<int:pk>/team/<int:member_pk>/remove/",
        TeamRemoveView.as_view(),
        name="opportunity_team_remove",
    ),
    path("pipelines/", PipelineListView.as_view(), name="pipeline_list"),
    path("pipelines/add/", PipelineEditView.as_view(), name="pipeline_add"),
    path("pipelines/<int:pk>/", PipelineDetailView.as_view(), name="pipeline_detail"),
    path("pipelines/<int:pk>/edit/", PipelineEditView.as_view(), name="pipeline_edit"),
    path("pipelines/<int:pk>/delete/", PipelineDeleteView.as_view(), name="pipeline_delete"),
    path("pipelines/<int:pk>/stages/add/", StageEditView.as_view(), name="stage_add"),
    path("pipelines/<int:pk>/stages/reorder/", StageReorderView.as_view(), name="stage_reorder"),
    path("pipelines/<int:pk>/stages/<int:stage_pk>/edit/", StageEditView.as_view(), name="stage_edit"),
    path("pipelines/<int:pk>/stages/<int:stage_pk>/delete/", StageDeleteView.as_view(), name="stage_delete"),
]
