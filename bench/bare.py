"""Reference views for the benchmarks: plain Django over the same table, without Kehu's
machinery (no restrict(), no field permissions, no templates, no custom fields, no pagination
helpers). They run behind the same middleware as the real pages, so the difference between the
two is what Kehu's view layer costs."""

from __future__ import annotations

from html import escape
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template import engines

COLUMNS = ("id", "name", "phone", "email", "industry", "level", "owner_id", "created_at")


def account_list(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own accounts, newest first: `?limit=` rows as an HTML table."""
    from kehu.customers.models import Account

    limit = int(request.GET.get("limit", "50"))
    rows = Account.objects.filter(owner_id=request.user.pk).order_by("-id").values_list(*COLUMNS)[:limit]
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return HttpResponse(f"<table>{body}</table>")


def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from kehu.customers.models import Account

    row = Account.objects.filter(pk=pk).values().first()
    if row is None:
        raise Http404
    body = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in row.items())
    return HttpResponse(f"<dl>{body}</dl>")


def _model(name: str) -> Any:
    from django.apps import apps

    return apps.get_model(name)


def _page(request: HttpRequest, model: str = "customers.Account", owner: str = "owner_id") -> Any:
    """The newest `?limit=` records the user may see by the plain rule a bare view would write:
    everything for `?scope=all` (the admin case), else the user's own (`owner` is the user)."""
    limit = min(int(request.GET.get("limit", "25")), 500)
    qs = _model(model)._default_manager.order_by("-id")
    if request.GET.get("scope") != "all":
        qs = qs.filter(**{owner: request.user.pk})
    return qs, limit


def account_list_json(request: HttpRequest) -> JsonResponse:
    """The reference for the JSON API list: a `JsonResponse` of `.values()` of the same rows."""
    qs, limit = _page(request)
    return JsonResponse({"results": list(qs.values()[:limit])})


_TABLE = engines["django"].from_string(
    "<table><thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>"
    "{% for row in rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}"
    "</tbody></table>"
)


def account_list_html(request: HttpRequest) -> HttpResponse:
    """The reference for the HTML list page: a minimal template table of the same rows."""
    qs, limit = _page(request)
    rows = list(qs.values_list(*COLUMNS)[:limit])
    return HttpResponse(_TABLE.render({"columns": COLUMNS, "rows": rows}, request))


# Leads and opportunities (bench/lists_data.py): the same references over their tables, with the
# columns their list pages show by default.
LEAD_COLUMNS = (
    "id",
    "name",
    "company",
    "status",
    "source",
    "mobile",
    "owner_id",
    "last_activity_at",
    "created_at",
)
OPPORTUNITY_COLUMNS = (
    "id",
    "name",
    "account_id",
    "amount",
    "stage_id",
    "probability",
    "expected_close_date",
    "stage_entered_at",
    "owner_id",
)


def lead_list_json(request: HttpRequest) -> JsonResponse:
    qs, limit = _page(request, "sales.Lead")
    return JsonResponse({"results": list(qs.values()[:limit])})


def lead_list_html(request: HttpRequest) -> HttpResponse:
    qs, limit = _page(request, "sales.Lead")
    rows = list(qs.values_list(*LEAD_COLUMNS)[:limit])
    return HttpResponse(_TABLE.render({"columns": LEAD_COLUMNS, "rows": rows}, request))


def opportunity_list_json(request: HttpRequest) -> JsonResponse:
    qs, limit = _page(request, "sales.Opportunity")
    return JsonResponse({"results": list(qs.values()[:limit])})


def opportunity_list_html(request: HttpRequest) -> HttpResponse:
    qs, limit = _page(request, "sales.Opportunity")
    rows = list(qs.values_list(*OPPORTUNITY_COLUMNS)[:limit])
    return HttpResponse(_TABLE.render({"columns": OPPORTUNITY_COLUMNS, "rows": rows}, request))


# Tickets (issue 8; data: bench/lists_data.py `ensure_tickets`): the columns the ticket list page
# shows by default; the rep's tickets are the ones assigned to them (the Kehu paths go through
# `restrict()`, which for a rep also reaches their queues' and their accounts' tickets).
TICKET_COLUMNS = (
    "id",
    "number",
    "subject",
    "status_id",
    "priority",
    "sla_next_check",
    "account_id",
    "queue_id",
    "assignee_id",
    "created_at",
)


@login_required
def ticket_list_json(request: HttpRequest) -> JsonResponse:
    qs, limit = _page(request, "service.Ticket", owner="assignee_id")
    return JsonResponse({"results": list(qs.values()[:limit])})


@login_required
def ticket_list_html(request: HttpRequest) -> HttpResponse:
    qs, limit = _page(request, "service.Ticket", owner="assignee_id")
    rows = list(qs.values_list(*TICKET_COLUMNS)[:limit])
    return HttpResponse(_TABLE.render({"columns": TICKET_COLUMNS, "rows": rows}, request))
