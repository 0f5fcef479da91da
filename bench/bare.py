"""Reference views for the benchmarks: plain Django over the same table, without Kehu's
machinery (no restrict(), no field permissions, no templates, no custom fields, no pagination
helpers). They run behind the same middleware as the real pages, so the difference between the
two is what Kehu's view layer costs."""

from __future__ import annotations

from html import escape
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.template import engines
from django.views.decorators.csrf import csrf_exempt

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


# Pool claims (issue 5; bench/pool_claims.py): the same claim of one lead as
# `POST /api/v1/sales/pools/{id}/claim/`, written the plain way: the API token looked up with its
# user in one query, then one transaction that locks the lead with its pool item (and reads the
# pool's protection days), counts the claim in the day's counter (one upsert), checks the item is
# in the pool, gives the pool item and the lead to the user and writes one pool history row. No
# permissions, membership, limits, cooling-off, operation log or timeline event.
def _claim_sql(vendor: str) -> dict[str, str]:
    from kehu.sales.models import Lead, Pool, PoolClaimCounter, PoolHistory, PoolItem
    from kehu.users.models import ApiToken

    user = _model("users.User")._meta.db_table
    lock = " FOR NO KEY UPDATE OF l, pi" if vendor == "postgresql" else ""
    return {
        "auth": (
            f"SELECT t.user_id, u.department_id FROM {ApiToken._meta.db_table} t "
            f"JOIN {user} u ON u.id = t.user_id WHERE t.key_hash = %s AND t.revoked_at IS NULL "
            "AND (t.expires_at IS NULL OR t.expires_at > %s) AND u.is_active"
        ),
        "lock": (
            f"SELECT pi.id, pi.in_pool, p.protection_days FROM {Lead._meta.db_table} l "
            f"JOIN {PoolItem._meta.db_table} pi ON pi.lead_id = l.id "
            f"JOIN {Pool._meta.db_table} p ON p.id = pi.pool_id WHERE l.id = %s AND pi.pool_id = %s{lock}"
        ),
        "count": (
            f"INSERT INTO {PoolClaimCounter._meta.db_table} (pool_id, user_id, day, claims) "
            "VALUES (%s, %s, %s, 1) ON CONFLICT (pool_id, user_id, day) "
            f"DO UPDATE SET claims = {PoolClaimCounter._meta.db_table}.claims + 1 RETURNING claims"
        ),
        "item": (
            f"UPDATE {PoolItem._meta.db_table} SET in_pool = %s, claimed_at = %s, "
            "claimed_by_id = %s, protected_until = %s, warned_at = NULL WHERE id = %s"
        ),
        "lead": (
            f"UPDATE {Lead._meta.db_table} SET owner_id = %s, department_id = %s, "
            "owned_since = %s, updated_at = %s, version = version + 1 WHERE id = %s"
        ),
        "history": (
            f"INSERT INTO {PoolHistory._meta.db_table} (pool_id, lead_id, action, to_user_id, by_id, "
            "at, reason, recycle_reason) VALUES (%s, %s, 'claim', %s, %s, %s, '', '')"
        ),
    }


_CLAIM_SQL: dict[str, dict[str, str]] = {}


@csrf_exempt
def pool_claim(request: HttpRequest, pk: int) -> HttpResponse:
    """The reference for the pool claim API: `{"ids": [one lead id]}`, `Authorization: Token …`."""
    import datetime as dt
    import json

    from django.db import connection, transaction
    from django.utils import timezone

    from kehu.users.tokens import hash_key

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    keyword, _, key = request.headers.get("Authorization", "").partition(" ")
    try:
        lead_id = int(json.loads(request.body)["ids"][0])
    except (ValueError, KeyError, IndexError, TypeError):
        return JsonResponse({"code": "invalid", "message": "ids: one lead id"}, status=400)
    sql = _CLAIM_SQL.get(connection.vendor) or _CLAIM_SQL.setdefault(
        connection.vendor, _claim_sql(connection.vendor)
    )
    ops = connection.ops
    now = timezone.now()
    at = ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        row = None
        if keyword == "Token" and key:
            cursor.execute(sql["auth"], [hash_key(key), at])
            row = cursor.fetchone()
        if row is None:
            return JsonResponse({"code": "not_authenticated", "message": "Invalid token."}, status=401)
        user_id, department_id = row
        with transaction.atomic():
            cursor.execute(sql["lock"], [lead_id, pk])
            item = cursor.fetchone()
            cursor.execute(sql["count"], [pk, user_id, ops.adapt_datefield_value(timezone.localdate(now))])
            claims = cursor.fetchone()[0]
            if item is None or not item[1]:
                transaction.set_rollback(True)
                return JsonResponse({"code": "already_claimed", "message": "Not in the pool."}, status=409)
            protected = now + dt.timedelta(days=item[2]) if item[2] else None
            cursor.execute(
                sql["item"], [False, at, user_id, ops.adapt_datetimefield_value(protected), item[0]]
            )
            cursor.execute(sql["lead"], [user_id, department_id, at, at, lead_id])
            cursor.execute(sql["history"], [pk, lead_id, user_id, user_id, at])
    return JsonResponse({"claimed": [lead_id], "claims_today": claims})
