"""Web views of the SLA area: Settings → SLA policies (list in matching order with drag to
reorder, create/edit with conditions, targets and breach actions, delete), a ticket's timers (the
partial `service/sla/_timers.html` loads them and refreshes every minute) and the SLA compliance
report with its CSV download. Writes go through `services.sla`."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.generic import success_response
from kehu.core.permissions import can
from kehu.core.text import join_list

from ..choices import TicketPriority
from ..forms_sla import ComplianceFilterForm, SLAPolicyForm
from ..models import Queue, SLAPolicy, Ticket, TicketType
from ..selectors import sla as selectors
from ..services import sla as services


def _require(request: HttpRequest, action: str) -> None:
    """Policies are configuration (no data scope): without the permission, 403."""
    if not can(request.user, SLAPolicy, action):
        raise PermissionDenied


def _crumbs(*extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("Administration"), None), (_("SLA policies"), reverse("service:sla_policy_list")), *extra]


def conditions_text(policy: SLAPolicy, names: dict[str, dict[Any, str]]) -> list[tuple[str, str]]:
    """(label, values) of a policy's conditions in the reader's language."""
    c = policy.conditions or {}
    out = []
    labels = {
        "priorities": _("Priorities"),
        "types": _("Ticket types"),
        "account_levels": _("Customer levels"),
        "accounts": pgettext("customers", "Accounts"),
        "queues": _("Queues"),
    }
    for key, label in labels.items():
        values = c.get(key) or []
        if values:
            lookup = names.get(key, {})
            out.append((label, join_list(lookup.get(v, v) for v in values)))
    return out


def _names(policies: list[SLAPolicy], user: Any) -> dict[str, dict[Any, str]]:
    """The names of the values the policies' conditions hold; accounts outside the reader's scope
    show as a placeholder (`SLAPolicyForm.hidden_account_label`), never by name."""
    from kehu.customers.models import Account
    from kehu.customfields.selectors import picklist_label_map

    wanted: dict[str, set[Any]] = {"types": set(), "accounts": set(), "queues": set()}
    for p in policies:
        for key in wanted:
            wanted[key].update((p.conditions or {}).get(key) or [])
    levels = {v: str(i.display_label) for v, i in picklist_label_map("customer_level").items()}
    return {
        "priorities": {k: str(v) for k, v in TicketPriority.choices},
        "types": {t.pk: str(t) for t in TicketType.objects.filter(pk__in=wanted["types"])},
        "accounts": {
            **{pk: SLAPolicyForm.hidden_account_label() for pk in wanted["accounts"]},
            **{
                a.pk: str(a)
                for a in Account.objects.restrict(user, Action.VIEW).filter(pk__in=wanted["accounts"])
            },
        },
        "queues": {q.pk: str(q) for q in Queue.objects.filter(pk__in=wanted["queues"])},
        "account_levels": levels,
    }


def minutes_text(minutes: int | None) -> str:
    if not minutes:
        return "—"
    return selectors.duration_text(minutes * 60)


@login_required
@require_GET
def sla_policy_list_view(request: HttpRequest) -> HttpResponse:
    _require(request, Action.VIEW)
    policies = list(selectors.sla_policy_list(user=request.user).prefetch_related("notify_users"))
    names = _names(policies, request.user)
    rows = [
        {
            "policy": p,
            "conditions": conditions_text(p, names),
            "targets": [
                (_("First response"), minutes_text(p.first_response_minutes)),
                (_("Next response"), minutes_text(p.next_response_minutes)),
                (_("Resolution"), minutes_text(p.resolution_minutes)),
            ],
        }
        for p in policies
    ]
    return render(
        request,
        "service/sla/policy_list.html",
        {
            "rows": rows,
            "may_add": can(request.user, SLAPolicy, Action.ADD),
            "may_change": can(request.user, SLAPolicy, Action.CHANGE),
            "may_delete": can(request.user, SLAPolicy, Action.DELETE),
            "breadcrumbs": [(_("Administration"), None), (_("SLA policies"), None)],
        },
    )


@login_required
@require_GET
def sla_policy_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.VIEW)
    policy = get_object_or_404(selectors.sla_policy_list(user=request.user), pk=pk)
    form = SLAPolicyForm(user=request.user, policy=policy)
    for field in form.fields.values():
        field.disabled = True
    return render(
        request,
        "service/sla/policy_form.html",
        {
            "form": form,
            "policy": policy,
            "readonly": True,
            "may_change": can(request.user, SLAPolicy, Action.CHANGE),
            "title": str(policy),
            "breadcrumbs": _crumbs((str(policy), None)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def sla_policy_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    policy: SLAPolicy | None = None
    if pk is None:
        _require(request, Action.ADD)
    else:
        _require(request, Action.CHANGE)
        policy = get_object_or_404(selectors.sla_policy_list(user=request.user, action=Action.CHANGE), pk=pk)
    form = SLAPolicyForm(request.POST or None, user=request.user, policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            if policy is None:
                policy = services.sla_policy_create(by=request.user, data=form.service_data())
            else:
                policy = services.sla_policy_update(policy=policy, by=request.user, data=form.service_data())
        except DomainError as exc:
            for name, messages in exc.fields.items():
                for message in messages:
                    form.add_error(name if name in form.fields else None, message)
            if not exc.fields:
                form.add_error(None, str(exc.message))
        else:
            return success_response(
                request,
                url=reverse("service:sla_policy_list"),
                message=_("SLA policy “%(name)s” saved.") % {"name": policy},
            )
    title = _("New SLA policy") if policy is None else _("Edit %(name)s") % {"name": policy}
    return render(
        request,
        "service/sla/policy_form.html",
        {"form": form, "policy": policy, "title": title, "breadcrumbs": _crumbs((title, None))},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def sla_policy_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.DELETE)
    policy = get_object_or_404(selectors.sla_policy_list(user=request.user, action=Action.DELETE), pk=pk)
    services.sla_policy_delete(policy=policy, by=request.user)
    return success_response(
        request,
        url=reverse("service:sla_policy_list"),
        message=_("SLA policy “%(name)s” deleted.") % {"name": policy},
    )


@login_required
@require_POST
def sla_policy_reorder_view(request: HttpRequest) -> HttpResponse:
    import json

    _require(request, Action.CHANGE)
    try:
        ids = [int(i) for i in request.POST.getlist("ids")]
    except ValueError:
        ids = [-1]
    try:
        services.sla_policy_reorder(ids=ids, by=request.user)
    except DomainError as exc:
        message, level, status = str(exc.message), "error", 409
    else:
        message, level, status = _("The new order is saved."), "success", 204
    response = HttpResponse(status=status)
    response["HX-Trigger"] = json.dumps({"kehu:toast": {"message": message, "level": level}})
    return response


# --- a ticket's timers ------------------------------------------------------------------------


@login_required
@require_GET
def sla_timers_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The timers of a ticket the user may see (404 otherwise), for the partial's htmx refresh."""
    ticket = get_object_or_404(
        Ticket.objects.restrict(request.user, Action.VIEW).select_related("sla_policy", "queue"), pk=pk
    )
    timers = selectors.sla_timers(ticket, timezone.now())
    return render(request, "service/sla/_timers_body.html", {"ticket": ticket, "timers": timers})


# --- compliance report ------------------------------------------------------------------------


def _require_report(request: HttpRequest) -> None:
    if not can(request.user, Ticket, Action.VIEW):
        raise PermissionDenied


@login_required
@require_GET
def sla_report_view(request: HttpRequest) -> HttpResponse:
    _require_report(request)
    form = ComplianceFilterForm(request.GET or None)
    rows: list[Any] = []
    group_by = "queue"
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        group_by = data.get("group_by") or "queue"
        rows = selectors.sla_compliance(
            user=request.user, date_from=data.get("date_from"), date_to=data.get("date_to"), group_by=group_by
        )
        if request.GET.get("format") == "csv":
            return _csv(rows, group_by)
    query = request.GET.copy()
    query["format"] = "csv"
    return render(
        request,
        "service/sla/report.html",
        {
            "form": form,
            "rows": rows,
            "group_by": group_by,
            "csv_query": query.urlencode(),
            "breadcrumbs": [(_("Service"), None), (_("SLA compliance"), None)],
        },
        status=200 if not request.GET or form.is_valid() else 400,
    )


def _csv(rows: list[Any], group_by: str) -> HttpResponse:
    from kehu.core.exports import write_csv

    header = [
        {"queue": _("Queue"), "assignee": _("Agent"), "priority": _("Priority")}[group_by],
        _("Tickets"),
        _("With targets"),
        _("Met"),
        _("Breached"),
        _("Compliance %"),
        _("Average first response (business minutes)"),
        _("Average resolution (business minutes)"),
    ]
    body = [
        [
            r.label,
            r.tickets,
            r.with_targets,
            r.met,
            r.breached,
            r.compliance if r.compliance is not None else "",
            r.avg_first_response // 60 if r.avg_first_response is not None else "",
            r.avg_resolution // 60 if r.avg_resolution is not None else "",
        ]
        for r in rows
    ]
    fh = io.StringIO()
    write_csv(fh, header, body, lambda n: None)
    response = HttpResponse("\ufeff" + fh.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="sla-compliance-{timezone.localdate():%Y%m%d}.csv"'
    )
    return response


urlpatterns: list[URLPattern] = [
    path("sla/policies/", sla_policy_list_view, name="sla_policy_list"),
    path("sla/policies/add/", sla_policy_edit_view, name="sla_policy_add"),
    path("sla/policies/reorder/", sla_policy_reorder_view, name="sla_policy_reorder"),
    path("sla/policies/<int:pk>/", sla_policy_detail_view, name="sla_policy_detail"),
    path("sla/policies/<int:pk>/edit/", sla_policy_edit_view, name="sla_policy_edit"),
    path("sla/policies/<int:pk>/delete/", sla_policy_delete_view, name="sla_policy_delete"),
    path("sla/tickets/<int:pk>/timers/", sla_timers_view, name="sla_timers"),
    path("sla/report/", sla_report_view, name="sla_report"),
]
