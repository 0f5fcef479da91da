from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.notifications import selectors, services
from kehu.notifications.kinds import Channel
from kehu.notifications.models import Notification

from .serializers import (
    MarkedSerializer,
    NotificationPreferenceSerializer,
    NotificationSerializer,
    UnreadCountSerializer,
)


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


@extend_schema(tags=["notifications"])
class NotificationPreferencesView(APIView):
    """Your notification preferences: for each kind, whether it reaches you in Kehu and by e-mail."""

    @extend_schema(responses={200: NotificationPreferenceSerializer(many=True)})
    def get(self, request: Request) -> Response:
        """Every kind of notification with your channels (or the kind's defaults)."""
        rows = selectors.notification_preferences(user=request.user)
        return Response(NotificationPreferenceSerializer(rows, many=True).data)

    @extend_schema(
        request=NotificationPreferenceSerializer(many=True),
        responses={200: NotificationPreferenceSerializer(many=True)},
    )
    def patch(self, request: Request) -> Response:
        """Change some kinds: a list of `{"kind", "in_app", "email"}`; a missing channel keeps its
        current value, kinds not listed are unchanged. Unknown kinds answer 400 and nothing changes."""
        serializer = NotificationPreferenceSerializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        current = {row["kind"]: row for row in selectors.notification_preferences(user=request.user)}
        values: dict[str, set[str]] = {}
        for item in serializer.validated_data:
            kind = item["kind"]
            base = current.get(kind, {"in_app": False, "email": False})
            in_app = item.get("in_app", base["in_app"])
            email = item.get("email", base["email"])
            values[kind] = {
                c for c, on in ((Channel.IN_APP.value, in_app), (Channel.EMAIL.value, email)) if on
            }
        services.notification_preferences_set(user=request.user, values=values)
        rows = selectors.notification_preferences(user=request.user)
        return Response(NotificationPreferenceSerializer(rows, many=True).data)
