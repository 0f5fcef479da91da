"""The receivables page (应收款): outstanding instalments by aging bucket per account and overall,
a bar chart, a drill-down to the instalments of a bucket and/or account, and the export of the
instalments behind the page's filters (exporter ``commerce.instalment``, `kehu.commerce.exporting`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.permissions import can

from ..choices import AgingBucket
from ..exporting import receivables_filters
from ..models import Instalment
from ..selectors.receivables import aging, bucket_instalments

DRILL_ROWS = 200


def _params(request: HttpRequest) -> tuple[dt.date, int | None, str | None, str | None]:
    if not request.user.is_authenticated or not can(request.user, Instalment, Action.VIEW):
        raise PermissionDenied
    return receivables_filters(request.GET)


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


urlpatterns = [
    path("receivables/", receivables_view, name="receivables"),
]
