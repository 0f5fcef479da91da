"""The service dashboard (/service/dashboard/): open tickets by status, priority and queue, the
backlog's age, SLA compliance, response and resolution times, CSAT and NPS, each an ECharts chart
with its table, for the tickets the user may see. Reads through ``selectors.dashboard``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kehu.core.choices import Action
from kehu.core.permissions import can

from ..forms_dashboard import DashboardFilterForm
from ..models import Ticket
from ..selectors.dashboard import default_range, service_dashboard
from ..selectors.sla import duration_text


def _chart_labels() -> dict[str, str]:
    return {
        "tickets": _("Tickets"),
        "met": _("Met"),
        "breached": _("Breached"),
        "running": _("Running"),
        "answers": _("Answers"),
        "average": _("Average rating"),
        "nps": _("NPS"),
    }


@login_required
@require_GET
def dashboard_view(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Ticket, Action.VIEW):
        raise PermissionDenied
    start, end = default_range()
    form = DashboardFilterForm(request.GET or None, initial={"date_from": start, "date_to": end})
    valid = not request.GET or form.is_valid()
    data: dict[str, Any] = form.cleaned_data if request.GET and valid else {}
    numbers = service_dashboard(
        user=request.user,
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        queue=data.get("queue"),
    )
    times = numbers["times"]
    for key in ("first_response", "resolution"):
        seconds = times[key]["average_seconds"]
        times[key]["text"] = duration_text(seconds) if seconds is not None else "—"
    return render(
        request,
        "service/dashboard/dashboard.html",
        {
            "form": form,
            "d": numbers,
            "chart": {**numbers, "labels": _chart_labels()},
            "breadcrumbs": [(_("Service"), None), (_("Service dashboard"), None)],
        },
        status=200 if valid else 400,
    )


urlpatterns: list[URLPattern] = [
    path("dashboard/", dashboard_view, name="dashboard"),
]
