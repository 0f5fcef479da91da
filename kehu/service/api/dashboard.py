"""Service API: the dashboard's numbers (``GET /api/v1/service/dashboard/?date_from=&date_to=&queue=``),
the same as the page's, for the tickets the caller may see."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.core.choices import Action
from kehu.core.permissions import can

from ..forms_dashboard import DashboardFilterForm
from ..models import Ticket
from ..selectors.dashboard import service_dashboard


class ServiceDashboardViewSet(viewsets.ViewSet):
    """Open tickets by status / priority / queue, backlog age, SLA compliance, average response and
    resolution times (wall clock), CSAT and NPS with their monthly trends."""

    @extend_schema(
        parameters=[
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="Created / answered from"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Created / answered until"),
            OpenApiParameter("queue", OpenApiTypes.INT, description="One queue"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def list(self, request: Request) -> Response:
        if not can(request.user, Ticket, Action.VIEW):
            raise PermissionDenied
        form = DashboardFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError({k: [str(m) for m in v] for k, v in form.errors.items()})
        data: dict[str, Any] = form.cleaned_data
        return Response(
            service_dashboard(
                user=request.user,
                date_from=data.get("date_from"),
                date_to=data.get("date_to"),
                queue=data.get("queue"),
            )
        )


def register(router: SimpleRouter) -> None:
    router.register("dashboard", ServiceDashboardViewSet, basename="service-dashboard")
