"""Sales report pages: funnel and conversion, performance, forecast, targets. Each chart has its
table and a CSV export (``?export=<table>``); every figure is within the viewer's data scope."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views import View

from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.exports import neutralise
from kehu.core.generic import is_htmx, success_response
from kehu.core.permissions import can
from kehu.customfields.selectors import picklist_label

from ..choices import PeriodKind, TargetMetric
from ..forms_reports import ReportFilterForm, TargetForm
from ..models import Opportunity, Target
from ..selectors.reports import forecast, forecast_by_owner, funnel, performance, stage_conversion
from ..selectors.targets import attainment
from ..services import targets as target_services


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable[Any]]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


class ReportView(LoginRequiredMixin, View):
    """Needs "view" on opportunities in some scope."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not can(request.user, Opportunity, Action.VIEW):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def form(self, request: HttpRequest) -> ReportFilterForm:
        form = ReportFilterForm(request.GET or None)
        if form.is_bound:
            form.is_valid()
        return form


class FunnelView(ReportView):
    def get(self, request: HttpRequest) -> HttpResponse:
        form = self.form(request)
        filters = form.filters()
        mode = form.conversion_mode()
        funnel_rows = funnel(user=request.user, filters=filters)
        conversion_rows = stage_conversion(user=request.user, filters=filters, mode=mode)
        export = request.GET.get("export")
        if export == "funnel":
            return csv_response(
                "funnel",
                [_("Stage"), _("Entered"), _("Entered amount"), _("Open now"), _("Open amount")],
                (
                    [r.stage.label, r.entered, r.entered_amount, r.current, r.current_amount]
                    for r in funnel_rows
                ),
            )
        if export == "conversion":
            return csv_response(
                "conversion",
                [_("Stage"), _("Entered"), _("Went on"), _("Conversion rate (%)")],
                ([r.stage.label, r.entered, r.progressed, _pct(r.rate)] for r in conversion_rows),
            )
        charts = {
            "funnel": [{"name": r.stage.label, "value": r.entered} for r in funnel_rows],
            "conversion": {
                "stages": [r.stage.label for r in conversion_rows],
                "rates": [r.rate for r in conversion_rows],
                "label": _("Conversion rate (%)"),
            },
        }
        return render(
            request,
            "sales/report_funnel.html",
            {
                "form": form,
                "filters": filters,
                "mode": mode,
                "funnel_rows": funnel_rows,
                "conversion_rows": conversion_rows,
                "charts": charts,
                "query": request.GET.urlencode(),
                "breadcrumbs": [(_("Sales"), None), (_("Funnel and conversion"), None)],
            },
        )


class PerformanceView(ReportView):
    def get(self, request: HttpRequest) -> HttpResponse:
        form = self.form(request)
        filters = form.filters()
        result = performance(user=request.user, filters=filters)
        reasons = [
            {
                "label": picklist_label("opportunity_loss_reason", r["loss_reason"]) or _("(none)"),
                "n": r["n"],
                "total": r["total"] or Decimal("0"),
            }
            for r in result.loss_reasons
        ]
        if request.GET.get("export") == "loss_reasons":
            return csv_response(
                "loss-reasons",
                [_("Loss reason"), _("Opportunities"), _("Amount")],
                ([r["label"], r["n"], r["total"]] for r in reasons),
            )
        charts = {"reasons": [{"name": r["label"], "value": r["n"]} for r in reasons]}
        return render(
            request,
            "sales/report_performance.html",
            {
                "form": form,
                "filters": filters,
                "p": result,
                "reasons": reasons,
                "charts": charts,
                "query": request.GET.urlencode(),
                "breadcrumbs": [(_("Sales"), None), (_("Sales performance"), None)],
            },
        )


class ForecastView(ReportView):
    def get(self, request: HttpRequest) -> HttpResponse:
        form = self.form(request)
        filters = form.filters()
        total = forecast(user=request.user, filters=filters)
        owners = forecast_by_owner(user=request.user, filters=filters)
        target_total = sum((row["target"] or Decimal("0") for row in owners), Decimal("0"))
        if request.GET.get("export") == "forecast":
            return csv_response(
                "forecast",
                [
                    _("Owner"),
                    _("Target"),
                    _("Closed"),
                    _("Commit"),
                    _("Best case"),
                    _("Pipeline"),
                    _("Weighted"),
                ],
                (
                    [
                        row["owner"],
                        row["target"] if row["target"] is not None else "",
                        row["closed"],
                        row["commit"],
                        row["best_case"],
                        row["pipeline"],
                        row["weighted"],
                    ]
                    for row in owners
                ),
            )
        charts = {
            "labels": [
                _("Target"),
                _("Closed"),
                _("Commit"),
                _("Best case"),
                _("Weighted pipeline"),
                _("History-based"),
                pgettext("forecast category", "Pipeline"),
            ],
            "values": [
                float(target_total),
                float(total.closed),
                float(total.commit),
                float(total.best_case),
                float(total.weighted),
                float(total.historical),
                float(total.pipeline),
            ],
        }
        return render(
            request,
            "sales/report_forecast.html",
            {
                "form": form,
                "filters": filters,
                "f": total,
                "owners": owners,
                "target_total": target_total,
                "charts": charts,
                "query": request.GET.urlencode(),
                "breadcrumbs": [(_("Sales"), None), (_("Forecast"), None)],
            },
        )


# --- targets -------------------------------------------------------------------------------------


def _period(request: HttpRequest) -> tuple[str, Any]:
    kind = request.GET.get("kind") or PeriodKind.MONTH
    if kind not in PeriodKind.values:
        kind = PeriodKind.MONTH
    raw = request.GET.get("start")
    try:
        day = dt.datetime.strptime(raw, "%Y-%m-%d").date() if raw else timezone.localdate()
    except ValueError:
        day = timezone.localdate()
    return kind, target_services.period_start_of(kind, day)


def _target_list_url(target: Target) -> str:
    return f"{reverse('sales:target_list')}?kind={target.period_kind}&start={target.period_start:%Y-%m-%d}"


class TargetListView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        if not can(request.user, Target, Action.VIEW):
            raise PermissionDenied
        kind, start = _period(request)
        end = target_services.period_end_of(kind, start)
        previous = target_services.period_start_of(kind, start - dt.timedelta(days=1))
        following = end + dt.timedelta(days=1)
        rows = attainment(user=request.user, period_kind=kind, period_start=start)
        if request.GET.get("export") == "targets":
            return csv_response(
                "targets",
                [
                    _("User"),
                    pgettext("customers", "Department"),
                    _("Target"),
                    _("Achieved"),
                    _("Attainment (%)"),
                ],
                (
                    [
                        r.target.user or "",
                        r.target.department or "",
                        r.target.amount,
                        "" if r.actual is None else r.actual,
                        _pct(r.percent),
                    ]
                    for r in rows
                ),
            )
        return render(
            request,
            "sales/target_list.html",
            {
                "rows": rows,
                "kind": kind,
                "kinds": PeriodKind.choices,
                "start": start,
                "end": end,
                "previous": previous,
                "following": following,
                "may_add": can(request.user, Target, Action.ADD),
                "may_change": can(request.user, Target, Action.CHANGE),
                "breadcrumbs": [(_("Sales"), None), (_("Targets"), None)],
            },
        )


class TargetEditView(LoginRequiredMixin, View):
    def _render(self, request: HttpRequest, form: TargetForm, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "title": _("Set a target"),
            "action_url": reverse("sales:target_set"),
            "cancel_url": reverse("sales:target_list"),
            "breadcrumbs": [
                (_("Sales"), None),
                (_("Targets"), reverse("sales:target_list")),
                (_("Set a target"), None),
            ],
        }
        template = "core/_object_form_modal.html" if is_htmx(request) else "core/object_edit.html"
        return render(request, template, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not can(request.user, Target, Action.ADD):
            raise PermissionDenied
        kind, start = _period(request)
        initial: dict[str, Any] = {"period_kind": kind, "period_start": start}
        for key in ("user", "department"):
            if str(request.GET.get(key, "")).isdigit():
                initial[key] = int(request.GET[key])
        # Editing (the row's pencil): the form starts from the target's current amount.
        whose: dict[str, Any] = {}
        if "user" in initial:
            whose = {"user_id": initial["user"]}
        elif "department" in initial:
            whose = {"department_id": initial["department"], "user__isnull": True}
        if whose:
            current = (
                Target.objects.restrict(request.user, Action.VIEW)
                .filter(metric=TargetMetric.WON_AMOUNT, period_kind=kind, period_start=start, **whose)
                .first()
            )
            if current is not None:
                initial.update(amount=current.amount, currency=current.currency)
        return self._render(request, TargetForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        if not can(request.user, Target, Action.ADD):
            raise PermissionDenied
        form = TargetForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                target = target_services.target_set(
                    by=request.user,
                    user=data.get("user"),
                    department=data.get("department") if not data.get("user") else None,
                    period_kind=data["period_kind"],
                    period_start=data["period_start"],
                    amount=data["amount"],
                    currency=data["currency"],
                )
            except DomainError as exc:
                for field, messages in exc.fields.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
                if not exc.fields:
                    form.add_error(None, str(exc.message))
            else:
                url = _target_list_url(target)
                return success_response(request, url=url, message=_("Target saved."))
        return self._render(request, form, status=400)


class TargetSplitView(LoginRequiredMixin, View):
    """Split a department's target equally to its users (each share editable afterwards)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        target = get_object_or_404(Target.objects.restrict(request.user, Action.VIEW), pk=pk)
        url = _target_list_url(target)
        try:
            shares = target_services.target_split(by=request.user, target=target)
        except DomainError as exc:
            return success_response(request, url=url, message=str(exc.message), level="error")
        return success_response(request, url=url, message=_("Split to %(n)d users.") % {"n": len(shares)})


class TargetDeleteView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        target = Target.objects.restrict(request.user, Action.DELETE).filter(pk=pk).first()
        if target is None:
            raise Http404
        url = _target_list_url(target)
        target_services.target_delete(by=request.user, target=target)
        return success_response(request, url=url, message=_("Target deleted."))


urlpatterns: list[URLPattern] = [
    path("reports/funnel/", FunnelView.as_view(), name="report_funnel"),
    path("reports/performance/", PerformanceView.as_view(), name="report_performance"),
    path("forecast/", ForecastView.as_view(), name="forecast"),
    path("targets/", TargetListView.as_view(), name="target_list"),
    path("targets/set/", TargetEditView.as_view(), name="target_set"),
    path("targets/<int:pk>/split/", TargetSplitView.as_view(), name="target_split"),
    path("targets/<int:pk>/delete/", TargetDeleteView.as_view(), name="target_delete"),
]
