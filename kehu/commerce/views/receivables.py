"""The receivables page (应收款): outstanding instalments by aging bucket per account and overall,
a bar chart, a drill-down to the instalments of a bucket and/or account, and a CSV of the table."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.exports import neutralise
from kehu.core.permissions import can

from ..choices import AgingBucket
from ..models import Instalment
from ..selectors.receivables import aging, bucket_instalments

DRILL_ROWS = 200


def _params(request: HttpRequest) -> tuple[dt.date, int | None, str | None, str | None]:
    if not request.user.is_authenticated or not can(request.user, Instalment, Action.VIEW):
        raise PermissionDenied
    try:
        as_of = dt.date.fromisoformat(request.GET.get("as_of", ""))
    except ValueError:
        as_of = timezone.localdate()
    try:
        account = int(request.GET["account"]) if request.GET.get("account") else None
    except ValueError:
        account = None
    bucket = request.GET.get("bucket") or None
    if bucket not in (None, *AgingBucket.values):
        bucket = None
    currency = (request.GET.get("currency") or "").upper() or None
    return as_of, account, bucket, currency


@login_required
def receivables_view(request: HttpRequest) -> HttpResponse:
    as_of, account, bucket, currency = _params(request)
    result = aging(request.user, as_of=as_of, account=account)
    context: dict[str, Any] = {
        "aging": result,
        "as_of": as_of,
        "bucket_choices": AgingBucket.choices,
        "account_filter": account,
        "bucket_filter": bucket,
        "currency_filter": currency,
        "charts": {
            "labels": [str(label) for _k, label in AgingBucket.choices],
            "values": [float(v) for _k, _l, v in result.total_cells()],
            "currency": result.company_currency,
        },
        "breadcrumbs": [(_("Receivables"), None)],
    }
    if account is not None or bucket is not None:
        rows = list(
            bucket_instalments(request.user, as_of=as_of, bucket=bucket, account=account, currency=currency)[
                : DRILL_ROWS + 1
            ]
        )
        context["drill"] = rows[:DRILL_ROWS]
        context["drill_more"] = len(rows) > DRILL_ROWS
        context["drill_bucket_label"] = dict(AgingBucket.choices).get(bucket or "", _("All buckets"))
    if generic.htmx_target(request) == "receivables-drill":
        return render(request, "commerce/receivables/_drill.html", context)
    return render(request, "commerce/receivables/receivables.html", context)


@login_required
def receivables_csv_view(request: HttpRequest) -> HttpResponse:
    """The aging table as CSV (one row per account and currency; small, so written directly)."""
    as_of, account, _bucket, _currency = _params(request)
    result = aging(request.user, as_of=as_of, account=account)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="receivables-{as_of.isoformat()}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 (Chinese names) only with a BOM
    writer = csv.writer(response)
    labels = [str(label) for _k, label in AgingBucket.choices]
    writer.writerow(
        [
            pgettext("customers", "Account"),
            _("Currency"),
            *labels,
            _("Total"),
            _("Total (%(c)s)") % {"c": result.company_currency},
        ]
    )
    for row in result.rows:
        writer.writerow(
            [
                neutralise(row.account_name),
                row.currency,
                *[str(v) for _k, v in row.cells()],
                str(row.total),
                "" if row.company_total is None else str(row.company_total),
            ]
        )
    writer.writerow(
        [
            _("Total"),
            result.company_currency,
            *[str(v) for _k, _l, v in result.total_cells()],
            "",
            str(result.total),
        ]
    )
    return response


urlpatterns = [
    path("receivables/", receivables_view, name="receivables"),
    path("receivables/csv/", receivables_csv_view, name="receivables_csv"),
]
