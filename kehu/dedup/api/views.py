from __future__ import annotations

from typing import Any

from django.apps import apps
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.core.api.errors import ErrorSerializer
from kehu.core.choices import Action
from kehu.core.permissions import can, is_admin

from .. import selectors, services
from ..registry import has_keys
from .serializers import CheckRequestSerializer, CheckResponseSerializer, PolicySerializer


class IsAdmin(permissions.IsAuthenticated):
    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and is_admin(request.user)


@extend_schema(tags=["dedup"])
class CheckView(APIView):
    """The collision check (撞单检查) without saving: what would a record with these values match?"""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Check values for collisions",
        request=CheckRequestSerializer,
        responses={200: CheckResponseSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        body = CheckRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        label = str(body.validated_data["model"]).lower()
        if not has_keys(label):
            raise serializers.ValidationError({"model": [_("This record type has no collision check.")]})
        model = apps.get_model(label)
        if not (can(request.user, model, Action.ADD) or can(request.user, model, Action.CHANGE)):
            return Response(
                {
                    "code": "permission_denied",
                    "message": _("You may not create or change these records."),
                    "fields": {},
                },
                status=403,
            )
        matches = services.collision_check(
            model_label=label,
            values=body.validated_data["values"],
            exclude_pk=body.validated_data.get("exclude_id"),
            user=request.user,
        )
        return Response(
            {"policy": services.collision_policy(label), "matches": [m.as_dict() for m in matches]}
        )


@extend_schema(tags=["dedup"])
class PolicyListView(APIView):
    """Collision policies per record type (administrators)."""

    permission_classes = [IsAdmin]

    @extend_schema(summary="List collision policies", responses={200: PolicySerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(PolicySerializer(selectors.collision_policies(), many=True).data)


@extend_schema(tags=["dedup"])
class PolicyDetailView(APIView):
    """One record type's collision policy: "warn" (save anyway after confirming) or "block"."""

    permission_classes = [IsAdmin]

    def _row(self, model: str) -> dict[str, Any]:
        row = next((r for r in selectors.collision_policies() if r["model"] == model.lower()), None)
        if row is None:
            raise Http404
        return row

    @extend_schema(summary="Get a collision policy", responses={200: PolicySerializer, 404: ErrorSerializer})
    def get(self, request: Request, model: str) -> Response:
        return Response(PolicySerializer(self._row(model)).data)

    @extend_schema(
        summary="Set a collision policy",
        request=PolicySerializer,
        responses={200: PolicySerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def put(self, request: Request, model: str) -> Response:
        row = self._row(model)
        body = PolicySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.collision_policy_set(
            model_label=row["model"], mode=body.validated_data["mode"], by=request.user
        )
        return Response(PolicySerializer(self._row(model)).data)

    @extend_schema(
        summary="Set a collision policy",
        request=PolicySerializer,
        responses={200: PolicySerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def patch(self, request: Request, model: str) -> Response:
        return self.put(request, model)
