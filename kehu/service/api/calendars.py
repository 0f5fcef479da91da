"""Business calendars over the API: CRUD with nested weekly hours and days, loading a year's
Chinese public holidays (`load-holidays`), and the business-time questions SLA timers ask (`due`,
`elapsed`). Writes go through the services."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import ACTION_MAP, RestrictedModelViewSet
from kehu.core.businesstime import CalendarError, add_business_seconds, business_seconds
from kehu.core.choices import Action
from kehu.core.errors import DomainError

from .. import selectors, services
from ..data import cn_holidays
from ..models import BusinessCalendar
from .serializers_calendars import (
    BusinessCalendarSerializer,
    DueQuerySerializer,
    DueSerializer,
    ElapsedQuerySerializer,
    ElapsedSerializer,
    LoadedSerializer,
    LoadHolidaysSerializer,
)

ACTIONS = {**ACTION_MAP, "load_holidays": Action.CHANGE, "due": Action.VIEW, "elapsed": Action.VIEW}


@extend_schema_view(
    list=extend_schema(summary="List business calendars"),
    retrieve=extend_schema(summary="Get a business calendar"),
    create=extend_schema(summary="Create a business calendar"),
    update=extend_schema(summary="Replace a business calendar"),
    partial_update=extend_schema(summary="Change a business calendar"),
    destroy=extend_schema(summary="Delete a business calendar", responses={204: None, 409: ErrorSerializer}),
)
@extend_schema(tags=["service"])
class BusinessCalendarViewSet(RestrictedModelViewSet):
    """Business calendars (工作日历): working hours per weekday in a time zone, public holidays and
    make-up working days (调休). Exactly one is the default; it cannot be deleted."""

    model = BusinessCalendar
    serializer_class = BusinessCalendarSerializer

    def get_queryset(self) -> Any:
        needed = ACTIONS.get(self.action or "", Action.VIEW)
        return selectors.calendar_list(user=self.request.user, action=needed).prefetch_related(
            "hours", "days"
        )

    def get_object(self) -> Any:
        try:
            return super().get_object()
        except Http404:
            if ACTIONS.get(self.action or "", Action.VIEW) != Action.VIEW:
                visible = selectors.calendar_list(user=self.request.user, action=Action.VIEW)
                if visible.filter(pk=str(self.kwargs.get("pk", ""))).exists():
                    raise PermissionDenied(_("You may not change this business calendar.")) from None
            raise

    @transaction.atomic
    def perform_service_create(self, data: dict[str, Any]) -> BusinessCalendar:
        hours, days = data.pop("hours", None), data.pop("days", None)
        calendar = services.calendar_create(by=self.request.user, data=data)
        return self._nested(calendar, hours, days)

    @transaction.atomic
    def perform_service_update(self, obj: BusinessCalendar, data: dict[str, Any], version: int | None) -> Any:
        hours, days = data.pop("hours", None), data.pop("days", None)
        calendar = services.calendar_update(calendar=obj, by=self.request.user, data=data)
        return self._nested(calendar, hours, days)

    def _nested(self, calendar: BusinessCalendar, hours: Any, days: Any) -> BusinessCalendar:
        if hours is not None:
            services.calendar_set_week(calendar=calendar, hours=hours, by=self.request.user)
        if days is not None:
            services.calendar_set_days(calendar=calendar, days=days, by=self.request.user)
        return calendar

    def perform_service_delete(self, obj: BusinessCalendar) -> None:
        services.calendar_delete(calendar=obj, by=self.request.user)

    @extend_schema(
        summary="Load a year's Chinese public holidays",
        request=LoadHolidaysSerializer,
        responses={200: LoadedSerializer, 400: ErrorSerializer},
    )
    @action(detail=True, methods=["post"], url_path="load-holidays")
    def load_holidays(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Load the built-in table of the year's public holidays and make-up working days
        (国务院办公厅 schedule); idempotent."""
        calendar = self.get_object()
        body = LoadHolidaysSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        year = body.validated_data["year"]
        changed = services.calendar_days_load_holidays(calendar=calendar, year=year, by=request.user)
        return Response(
            {"year": year, "changed": changed, "confirmed": cn_holidays.CONFIRMED.get(year, False)}
        )

    @extend_schema(
        summary="Due time after some business seconds",
        request=DueQuerySerializer,
        responses={200: DueSerializer, 400: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def due(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The moment at which `seconds` of business time have passed after `start`."""
        calendar = self.get_object()
        body = DueQuerySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cal = selectors.work_calendar(calendar, use_cache=True)
        try:
            due = add_business_seconds(cal, body.validated_data["start"], body.validated_data["seconds"])
        except CalendarError:
            raise DomainError(_("This calendar has no working hours."), code="no_working_time") from None
        return Response(DueSerializer({"due": due.astimezone(cal.tz)}).data)

    @extend_schema(
        summary="Business seconds between two moments",
        request=ElapsedQuerySerializer,
        responses={200: ElapsedSerializer, 400: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def elapsed(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Business seconds between `start` and `end`, not counting `pauses`."""
        calendar = self.get_object()
        body = ElapsedQuerySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        cal = selectors.work_calendar(calendar, use_cache=True)
        pauses = [(p["start"], p["end"]) for p in data.get("pauses", [])]
        return Response({"seconds": business_seconds(cal, data["start"], data["end"], pauses=pauses)})
