from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.notifications import selectors, services
from kehu.notifications.models import Notification

from .serializers import MarkedSerializer, NotificationSerializer, UnreadCountSerializer


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="Only unread")

    class Meta:
        model = Notification
        fields = ["unread", "kind", "level"]


@extend_schema(tags=["notifications"])
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your notifications (the bell), newest first. Nobody sees another user's notifications."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> Any:
        return Notification.objects.restrict(self.request.user, "view")

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        """Mark one notification read."""
        notification = self.get_object()
        services.notification_mark_read(user=request.user, ids=[notification.pk])
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses={200: MarkedSerializer})
    @action(detail=False, methods=["post"], url_path="read-all", filterset_class=None, pagination_class=None)
    def read_all(self, request: Request) -> Response:
        """Mark all your notifications read."""
        return Response({"marked": services.notification_mark_all_read(user=request.user)})

    @extend_schema(responses={200: UnreadCountSerializer})
    @action(
        detail=False, methods=["get"], url_path="unread-count", filterset_class=None, pagination_class=None
    )
    def unread_count(self, request: Request) -> Response:
        """How many unread notifications you have (one indexed COUNT)."""
        return Response({"unread": selectors.unread_count(user=request.user)})
