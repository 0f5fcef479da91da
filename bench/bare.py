"""Reference views for the benchmarks: plain Django over the same table, without Kehu's
machinery (no restrict(), no field permissions, no templates, no custom fields, no pagination
helpers). They run behind the same middleware as the real pages, so the difference between the
two is what Kehu's view layer costs."""

from __future__ import annotations

from html import escape

from django.http import Http404, HttpRequest, HttpResponse

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
