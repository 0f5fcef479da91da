"""Sales reports over the API (funnel, conversion, performance, forecast) and targets CRUD."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from kehu.core.api.mixins import RestrictedModelViewSet
from kehu.core.choices import Action
from kehu.core.permissions import can

from ..forms_reports import ReportFilterForm
from ..models import Opportunity, Target
from ..selectors.reports import forecast, forecast_by_owner, funnel, performance, stage_conversion
from ..services import targets as services

FILTER_PARAMETERS = [
    OpenApiParameter(
        "period",
        str,
        enum=["this_month", "last_month", "this_quarter", "last_quarter", "this_year", "last_year", "custom"],
        description="A preset period (default this_quarter); custom needs start and end.",
    ),
    OpenApiParameter("start", str, description="Custom period start (YYYY-MM-DD)."),
    OpenApiParameter("end", str, description="Custom period end, included (YYYY-MM-DD)."),
    OpenApiParameter("pipeline", int, description="Pipeline id (default: the default pipeline)."),
    OpenApiParameter("owner", int, description="Only this owner's opportunities."),
    OpenApiParameter("department", int, description="Only this department and the ones below it."),
    OpenApiParameter("source", str, description="Picklist code of the source."),
    OpenApiParameter("currency", str, description="ISO 4217 code (default: the company currency)."),
]


DEFINITION = (
    "conversion_rate = went_on / entered × 100: of the opportunities that entered the stage, the share "
    "that later entered a later open stage or a won stage (lost is not progress; each opportunity "
    "counts once per stage)."
)


class _ReportView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def filters(self, request: Request) -> Any:
        if not can(request.user, Opportunity, Action.VIEW):
            raise PermissionDenied
        form = ReportFilterForm(request.query_params or None)
        if form.is_bound and not form.is_valid():
            raise ValidationError({k: [str(m) for m in v] for k, v in form.errors.items()})
        return form


def _period(filters: Any) -> dict[str, Any]:
    return {
        "start": filters.start,
        "end": filters.end,
        "pipeline": filters.pipeline.pk if filters.pipeline else None,
        "currency": filters.currency,
    }


class FunnelView(_ReportView):
    @extend_schema(
        tags=["sales"],
        summary="Sales funnel and stage conversion",
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter("mode", str, enum=["cohort", "activity"], description="Conversion counting."),
        ],
        responses=inline_serializer(
            "SalesFunnel",
            {
                "period": serializers.DictField(),
                "stages": serializers.ListField(child=serializers.DictField()),
                "definition": serializers.CharField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        form = self.filters(request)
        filters = form.filters()
        conversion = {
            r.stage.pk: r
            for r in stage_conversion(user=request.user, filters=filters, mode=form.conversion_mode())
        }
        stages = []
        for row in funnel(user=request.user, filters=filters):
            conv = conversion.get(row.stage.pk)
            stages.append(
                {
                    "stage": row.stage.pk,
                    "name": row.stage.label,
                    "kind": row.stage.kind,
                    "entered": row.entered,
                    "entered_amount": str(row.entered_amount),
                    "open_now": row.current,
                    "open_amount": str(row.current_amount),
                    "went_on": conv.progressed if conv else None,
                    "conversion_rate": conv.rate if conv else None,
                }
            )
        return Response(
            {
                "period": {**_period(filters), "mode": form.conversion_mode()},
                "stages": stages,
                "definition": DEFINITION,
            }
        )


class PerformanceView(_ReportView):
    @extend_schema(
        tags=["sales"],
        summary="Win rate, deal size, sales cycle, velocity, loss reasons, lead conversion",
        parameters=FILTER_PARAMETERS,
        responses=inline_serializer("SalesPerformance", {"period": serializers.DictField()}),
    )
    def get(self, request: Request) -> Response:
        filters = self.filters(request).filters()
        p = performance(user=request.user, filters=filters)
        return Response(
            {
                "period": _period(filters),
                "won": p.won,
                "lost": p.lost,
                "won_amount": str(p.won_amount),
                "win_rate": p.win_rate,
                "average_deal": None if p.average_deal is None else str(p.average_deal),
                "cycle_days": p.cycle_days,
                "open": p.open_count,
                "velocity": None if p.velocity is None else str(p.velocity),
                "loss_reasons": [
                    {
                        "loss_reason": r["loss_reason"],
                        "count": r["n"],
                        "amount": str(r["total"] or Decimal("0")),
                    }
                    for r in p.loss_reasons
                ],
                "leads": {
                    "created": p.leads_created,
                    "converted": p.leads_converted,
                    "to_opportunity": p.leads_to_opportunity,
                    "to_won": p.leads_to_won,
                    "conversion_rate": p.lead_conversion,
                    "to_won_rate": p.lead_to_won,
                },
            }
        )


class ForecastView(_ReportView):
    @extend_schema(
        tags=["sales"],
        summary="Forecast for a period: closed, commit, best case, weighted and history-based, by owner",
        parameters=FILTER_PARAMETERS,
        responses=inline_serializer("SalesForecast", {"period": serializers.DictField()}),
    )
    def get(self, request: Request) -> Response:
        filters = self.filters(request).filters()
        f = forecast(user=request.user, filters=filters)
        owners = forecast_by_owner(user=request.user, filters=filters)
        return Response(
            {
                "period": _period(filters),
                "closed": str(f.closed),
                "commit": str(f.commit),
                "best_case": str(f.best_case),
                "pipeline": str(f.pipeline),
                "weighted": str(f.weighted),
                "history_based": str(f.historical),
                "owners": [
                    {
                        "owner": r["owner_id"],
                        "target": None if r["target"] is None else str(r["target"]),
                        "closed": str(r["closed"]),
                        "commit": str(r["commit"]),
                        "best_case": str(r["best_case"]),
                        "pipeline": str(r["pipeline"]),
                        "weighted": str(r["weighted"]),
                        "attainment": r["attainment"],
                    }
                    for r in owners
                ],
            }
        )


class TargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Target
        fields = [
            "id",
            "user",
            "department",
            "metric",
            "period_kind",
            "period_start",
            "amount",
            "currency",
            "parent",
        ]
        read_only_fields = ["id", "parent"]


class SplitSerializer(serializers.Serializer):
    shares = serializers.DictField(
        child=serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0")),
        required=False,
        help_text="{user id: amount}; omitted: equal shares for the department's active users.",
    )


@extend_schema_view(
    list=extend_schema(summary="List targets"),
    retrieve=extend_schema(summary="Get a target"),
    create=extend_schema(
        summary="Set a target (creates or replaces the one of that user/department and period)"
    ),
    update=extend_schema(summary="Replace a target"),
    partial_update=extend_schema(summary="Change a target"),
    destroy=extend_schema(summary="Delete a target"),
)
@extend_schema(tags=["sales"])
class TargetViewSet(RestrictedModelViewSet):
    """Sales targets (销售目标) per user or department and month, quarter or year."""

    model = Target
    serializer_class = TargetSerializer
    select_related = ("user", "department")

    def get_queryset(self) -> Any:
        qs = super().get_queryset().order_by("-period_start", "id")
        params = self.request.query_params
        if self.action == "list":
            if params.get("period_kind"):
                qs = qs.filter(period_kind=params["period_kind"])
            if params.get("period_start"):
                try:
                    day = dt.date.fromisoformat(params["period_start"])
                except ValueError:
                    return qs.none()
                qs = qs.filter(period_start=day)
        return qs

    def _set(self, data: dict[str, Any], obj: Target | None = None) -> Target:
        merged: dict[str, Any] = {
            "user": obj.user if obj else None,
            "department": obj.department if obj else None,
            "metric": obj.metric if obj else "won_amount",
            "period_kind": obj.period_kind if obj else None,
            "period_start": obj.period_start if obj else None,
            "amount": obj.amount if obj else None,
            "currency": obj.currency if obj else None,
        }
        merged.update(data)
        if not merged["period_kind"] or not merged["period_start"] or merged["amount"] is None:
            raise ValidationError(
                {
                    k: ["This field is required."]
                    for k in ("period_kind", "period_start", "amount")
                    if not merged[k] and merged[k] != 0
                }
            )
        return services.target_set(
            by=self.request.user,
            user=merged["user"],
            department=merged["department"] if merged["user"] is None else None,
            metric=merged["metric"],
            period_kind=merged["period_kind"],
            period_start=merged["period_start"],
            amount=merged["amount"],
            currency=merged["currency"],
        )

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        return self._set(data)

    def perform_service_update(self, obj: Any, data: dict[str, Any], version: int | None) -> Any:
        return self._set(data, obj)

    def perform_service_delete(self, obj: Any) -> None:
        services.target_delete(by=self.request.user, target=obj)

    @extend_schema(
        request=SplitSerializer,
        responses={200: TargetSerializer(many=True)},
        summary="Split a department target to its users",
    )
    @action(detail=True, methods=["post"])
    def split(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target = self.get_object()
        body = SplitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        shares = body.validated_data.get("shares")
        parsed = None
        if shares is not None:
            try:
                parsed = {int(k): v for k, v in shares.items()}
            except ValueError as exc:
                raise ValidationError({"shares": ["Keys must be user ids."]}) from exc
        created = services.target_split(by=request.user, target=target, shares=parsed)
        return Response(TargetSerializer(created, many=True).data, status=status.HTTP_200_OK)


def register(router: SimpleRouter) -> None:
    router.register("targets", TargetViewSet, basename="target")


urlpatterns: list[URLPattern] = [
    path("funnel/", FunnelView.as_view(), name="sales-funnel"),
    path("performance/", PerformanceView.as_view(), name="sales-performance"),
    path("forecast/", ForecastView.as_view(), name="sales-forecast"),
]
