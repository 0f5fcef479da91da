"""SLA over the API: policies (CRUD through the services, conditions as JSON), the events log of
warnings and breaches of the tickets the user may see, and the compliance report."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import RestrictedModelViewSet
from kehu.core.choices import Action
from kehu.core.permissions import can

from ..choices import TicketPriority
from ..models import BusinessCalendar, Queue, SLAEvent, SLAPolicy, Ticket
from ..selectors import sla as selectors
from ..services import sla as services


class ConditionsSerializer(serializers.Serializer):
    priorities = serializers.ListField(
        child=serializers.ChoiceField(choices=TicketPriority.choices), required=False
    )
    types = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    account_levels = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    accounts = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    queues = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)


class SLAPolicySerializer(serializers.ModelSerializer):
    """An SLA policy. Targets in business minutes (null: no target). `conditions`: lists of
    priorities, ticket type ids, customer levels, account ids, queue ids; empty or absent: any."""

    conditions = ConditionsSerializer(required=False)
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=BusinessCalendar.objects.all(), required=False, allow_null=True
    )
    escalate_to_queue = serializers.PrimaryKeyRelatedField(
        queryset=Queue.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = SLAPolicy
        fields = [
            "id",
            "name",
            "name_en",
            "description",
            "position",
            "is_active",
            "conditions",
            "calendar",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "warn_percent",
            "notify_manager",
            "notify_users",
            "raise_priority_to",
            "escalate_to_queue",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "position", "created_at", "updated_at"]
        extra_kwargs = {"notify_users": {"required": False}}


@extend_schema_view(
    list=extend_schema(summary="List SLA policies (in matching order)"),
    retrieve=extend_schema(summary="Get an SLA policy"),
    create=extend_schema(
        summary="Create an SLA policy", responses={201: SLAPolicySerializer, 400: ErrorSerializer}
    ),
    update=extend_schema(summary="Replace an SLA policy"),
    partial_update=extend_schema(summary="Change an SLA policy"),
    destroy=extend_schema(summary="Delete an SLA policy"),
)
@extend_schema(tags=["service"])
class SLAPolicyViewSet(RestrictedModelViewSet):
    """SLA policies (服务级别): the first active one by position whose conditions a ticket meets
    gives its targets."""

    model = SLAPolicy
    serializer_class = SLAPolicySerializer

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("notify_users").order_by("position", "id")

    def perform_service_create(self, data: dict[str, Any]) -> SLAPolicy:
        return services.sla_policy_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: SLAPolicy, data: dict[str, Any], version: int | None) -> SLAPolicy:
        return services.sla_policy_update(policy=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: SLAPolicy) -> None:
        services.sla_policy_delete(policy=obj, by=self.request.user)


class SLAEventSerializer(serializers.ModelSerializer):
    ticket_number = serializers.CharField(source="ticket.number", read_only=True)

    class Meta:
        model = SLAEvent
        fields = [
            "id",
            "ticket",
            "ticket_number",
            "metric",
            "kind",
            "due_at",
            "occurred_at",
            "policy",
            "queue",
            "assignee",
            "actions",
        ]


def _require_tickets(request: Request) -> None:
    if not can(request.user, Ticket, Action.VIEW):
        raise PermissionDenied


@extend_schema(tags=["service"])
@extend_schema_view(
    list=extend_schema(
        summary="List SLA warnings and breaches",
        parameters=[
            OpenApiParameter("ticket", int, description="Only this ticket's events."),
            OpenApiParameter("kind", str, enum=["warning", "breach"]),
        ],
    ),
    retrieve=extend_schema(summary="Get an SLA event"),
)
class SLAEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Warnings and breaches of the tickets the user may see, newest first."""

    serializer_class = SLAEventSerializer
    queryset = SLAEvent.objects.none()  # for the schema; requests use get_queryset
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return SLAEvent.objects.none()
        _require_tickets(self.request)
        rows = selectors.sla_event_list(user=self.request.user)
        params = self.request.query_params
        if params.get("ticket", "").isdigit():
            rows = rows.filter(ticket_id=int(params["ticket"]))
        if params.get("kind") in ("warning", "breach"):
            rows = rows.filter(kind=params["kind"])
        return rows.order_by("-occurred_at", "-id")


class ReportQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    group_by = serializers.ChoiceField(choices=selectors.GROUPINGS, required=False, default="queue")

    def _in_range(self, value: Any) -> Any:
        """Within the report years, as the page's filter form (`forms_dashboard.ReportDateField`)."""
        from django.utils.translation import gettext as _

        from ..forms_dashboard import REPORT_YEARS

        first, last = REPORT_YEARS
        if value is not None and not first <= value.year <= last:
            raise serializers.ValidationError(
                _("Enter a date in the years %(first)s to %(last)s.") % {"first": first, "last": last}
            )
        return value

    def validate_date_from(self, value: Any) -> Any:
        return self._in_range(value)

    def validate_date_to(self, value: Any) -> Any:
        return self._in_range(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from django.utils.translation import gettext as _

        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": [_("The end comes before the start.")]})
        return attrs


class ComplianceRowSerializer(serializers.Serializer):
    key = serializers.JSONField(
        allow_null=True,
        help_text="Queue id, user id or priority; null: none. The last row (key null, label Total) totals.",
    )
    label: Any = serializers.CharField()
    tickets = serializers.IntegerField()
    with_targets = serializers.IntegerField()
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    compliance = serializers.FloatField(allow_null=True, help_text="met ÷ (met + breached) in per cent")
    avg_first_response = serializers.IntegerField(allow_null=True, help_text="business seconds")
    avg_resolution = serializers.IntegerField(allow_null=True, help_text="business seconds")


@extend_schema(tags=["service"])
class SLAReportViewSet(viewsets.ViewSet):
    """SLA compliance per queue, agent or priority over the tickets the user may see."""

    @extend_schema(
        summary="SLA compliance report",
        parameters=[ReportQuerySerializer],
        responses={200: ComplianceRowSerializer(many=True), 400: ErrorSerializer},
    )
    def list(self, request: Request) -> Response:
        _require_tickets(request)
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.sla_compliance(user=request.user, **query.validated_data)
        return Response(ComplianceRowSerializer(rows, many=True).data)


def register(router: SimpleRouter) -> None:
    router.register("sla-policies", SLAPolicyViewSet, basename="slapolicy")
    router.register("sla-events", SLAEventViewSet, basename="slaevent")
    router.register("sla-report", SLAReportViewSet, basename="slareport")
