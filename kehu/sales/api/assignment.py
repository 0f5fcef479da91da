"""Assignment rules and user availability over the API (writes through the services)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from kehu.core.api.mixins import RestrictedModelViewSet
from kehu.core.choices import Action
from kehu.core.permissions import can

from ..models import AssignmentRule, Lead, UserAvailability
from ..services import assignment as services


class AssignmentRuleSerializer(serializers.ModelSerializer):
    users = serializers.PrimaryKeyRelatedField(
        many=True, queryset=get_user_model().objects.filter(is_active=True), required=False
    )
    conditions = serializers.DictField(
        required=False,
        help_text="The list FilterSet's query of the rule's kind, e.g. "
        '{"source": "web", "province": "110000"}; lists for several values. Empty: every record.',
    )

    class Meta:
        model = AssignmentRule
        fields = ["id", "name", "kind", "order", "is_active", "conditions", "action", "users", "user", "pool"]
        read_only_fields = ["id"]


@extend_schema_view(
    list=extend_schema(summary="List assignment rules"),
    retrieve=extend_schema(summary="Get an assignment rule"),
    create=extend_schema(summary="Create an assignment rule"),
    update=extend_schema(summary="Replace an assignment rule"),
    partial_update=extend_schema(summary="Change an assignment rule"),
    destroy=extend_schema(summary="Delete an assignment rule"),
)
@extend_schema(tags=["sales"])
class AssignmentRuleViewSet(RestrictedModelViewSet):
    """Ordered rules: a new lead or account without a chosen owner goes by the first active rule
    whose conditions it matches (round-robin, least-loaded, a user, or a pool)."""

    model = AssignmentRule
    serializer_class = AssignmentRuleSerializer

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("users").order_by("kind", "order", "id")

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        return services.assignment_rule_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Any, data: dict[str, Any], version: int | None) -> Any:
        return services.assignment_rule_update(rule=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: Any) -> None:
        services.assignment_rule_delete(rule=obj, by=self.request.user)


class AvailabilitySerializer(serializers.ModelSerializer):
    class Meta:
        model = UserAvailability
        fields = ["user", "is_available", "away_from", "away_until", "note"]
        read_only_fields = ["user"]


class AvailabilityView(APIView):
    """A user's availability for assignment rules: everyone reads and sets their own; users who
    may assign leads (managers) set others'."""

    permission_classes = [permissions.IsAuthenticated]

    def _user(self, request: Request, user_id: int) -> Any:
        if user_id != request.user.pk and not can(request.user, Lead, Action.ASSIGN):
            from django.http import Http404

            raise Http404
        return get_object_or_404(get_user_model(), pk=user_id, is_active=True)

    @extend_schema(tags=["sales"], summary="Get a user's availability", responses=AvailabilitySerializer)
    def get(self, request: Request, user_id: int) -> Response:
        user = self._user(request, user_id)
        current = UserAvailability.objects.filter(user=user).first() or UserAvailability(user=user)
        return Response(AvailabilitySerializer(current).data)

    @extend_schema(
        tags=["sales"],
        summary="Set a user's availability",
        request=AvailabilitySerializer,
        responses=AvailabilitySerializer,
    )
    def put(self, request: Request, user_id: int) -> Response:
        user = self._user(request, user_id)
        body = AvailabilitySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        saved = services.user_availability_set(
            user=user,
            by=request.user,
            is_available=data.get("is_available", True),
            away_from=data.get("away_from"),
            away_until=data.get("away_until"),
            note=data.get("note", ""),
        )
        return Response(AvailabilitySerializer(saved).data)


def register(router: SimpleRouter) -> None:
    router.register("assignment-rules", AssignmentRuleViewSet, basename="assignmentrule")


urlpatterns: list[URLPattern] = [
    path("availability/<int:user_id>/", AvailabilityView.as_view(), name="sales-availability"),
]
