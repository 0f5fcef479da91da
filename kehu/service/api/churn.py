"""Churn warning over the API: churn rules CRUD (writes through the services), the at-risk
accounts the user may see (their account scope; filters ``status``, ``signal``, ``account``) and
``resolve``."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import ACTION_MAP, ModelActionPermission, RestrictedModelViewSet
from kehu.core.choices import Action

from ..choices import ChurnSignal, RiskStatus
from ..models import AccountRisk, ChurnRule
from ..selectors import churn as selectors
from ..services import churn as services


class ChurnRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChurnRule
        fields = [
            "id",
            "name",
            "name_en",
            "signal",
            "threshold",
            "window_days",
            "is_active",
            "create_task",
            "task_due_days",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class AccountRiskSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    reasons_text = serializers.SerializerMethodField()

    class Meta:
        model = AccountRisk
        fields = [
            "id",
            "account",
            "account_name",
            "status",
            "reasons",
            "reasons_text",
            "source",
            "score",
            "task_id",
            "flagged_at",
            "resolved_at",
            "resolved_by",
            "resolution_note",
        ]
        read_only_fields = fields

    def get_reasons_text(self, obj: AccountRisk) -> list[str]:
        return [services.reason_text(r) for r in obj.reasons]


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


@extend_schema_view(
    list=extend_schema(summary="List churn rules"),
    retrieve=extend_schema(summary="Get a churn rule"),
    create=extend_schema(summary="Create a churn rule"),
    update=extend_schema(summary="Replace a churn rule"),
    partial_update=extend_schema(summary="Change a churn rule"),
    destroy=extend_schema(summary="Delete a churn rule"),
)
@extend_schema(tags=["service"])
class ChurnRuleViewSet(RestrictedModelViewSet):
    """Churn rules (流失预警规则): no order for N days, an NPS answer ≤ N, more than N complaints,
    a CSAT rating ≤ N within the window."""

    model = ChurnRule
    serializer_class = ChurnRuleSerializer

    def perform_service_create(self, data: dict[str, Any]) -> ChurnRule:
        return services.churn_rule_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: ChurnRule, data: dict[str, Any], version: int | None) -> ChurnRule:
        return services.churn_rule_update(rule=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: ChurnRule) -> None:
        services.churn_rule_delete(rule=obj, by=self.request.user)


STATUS_PARAM = OpenApiParameter(
    "status", OpenApiTypes.STR, enum=[*RiskStatus.values, "all"], description="Default: open."
)
SIGNAL_PARAM = OpenApiParameter("signal", OpenApiTypes.STR, enum=[*ChurnSignal.values, "model"])
ACCOUNT_PARAM = OpenApiParameter("account", OpenApiTypes.INT)


@extend_schema_view(
    list=extend_schema(
        summary="List at-risk accounts", parameters=[STATUS_PARAM, SIGNAL_PARAM, ACCOUNT_PARAM]
    ),
    retrieve=extend_schema(summary="Get an at-risk flag"),
)
@extend_schema(tags=["service"])
class AccountRiskViewSet(viewsets.ReadOnlyModelViewSet):
    """Accounts flagged at risk of churning (流失预警客户), within the user's account scope."""

    model = AccountRisk
    serializer_class = AccountRiskSerializer
    permission_classes = [ModelActionPermission]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> Any:
        params = self.request.query_params
        status: str | None = params.get("status") or RiskStatus.OPEN
        if self.action != "list" or status == "all":
            status = None
        signal = params.get("signal") or None
        qs = selectors.risk_list(
            user=self.request.user,
            status=status,
            signal=signal if self.action == "list" else None,
            action=Action.CHANGE if self.action == "resolve" else Action.VIEW,
        )
        account = params.get("account")
        if self.action == "list" and account:
            qs = qs.filter(account_id=int(account)) if account.isdigit() else qs.none()
        return qs.order_by("-id")

    @extend_schema(
        summary="Resolve an at-risk flag",
        request=ResolveSerializer,
        responses={200: AccountRiskSerializer, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Close the open flag after the intervention, with a note."""
        try:
            risk = self.get_object()
        except Http404:
            if selectors.risk_list(user=request.user, status=None).filter(pk=str(kwargs.get("pk"))).exists():
                raise PermissionDenied(_("You may not resolve this flag.")) from None
            raise
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        risk = services.account_risk_resolve(
            risk=risk, by=request.user, note=body.validated_data.get("note", "")
        )
        return Response(AccountRiskSerializer(risk).data)


ACTIONS = {**ACTION_MAP, "resolve": Action.CHANGE}


def register(router: SimpleRouter) -> None:
    router.register("churn-rules", ChurnRuleViewSet, basename="churnrule")
    router.register("at-risk-accounts", AccountRiskViewSet, basename="accountrisk")
