from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, viewsets
from rest_framework.request import Request

from kehu.core.api.pagination import KeysetPagination

from .. import selectors
from ..display import ModesCache
from ..filtersets import ObjectChangeFilterSet
from ..models import ObjectChange, TimelineEvent
from .serializers import ObjectChangeSerializer, TimelineEventSerializer, TimelineQuerySerializer


class CanViewOperationLog(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return selectors.can_view_log(request.user)


class ObjectChangePagination(KeysetPagination):
    ordering = ("-time", "-id")  # type: ignore[assignment]


class TimelinePagination(KeysetPagination):
    ordering = ("-occurred_at", "-id")  # type: ignore[assignment]


@extend_schema(tags=["audit"])
class ObjectChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """The operation log (操作日志): every recorded create, update, delete, export and reveal you
    may see. For administrators and roles holding "view" on audit.objectchange; the role's data
    scope applies to who made the change (own: your changes; department: your department's ...)."""

    serializer_class = ObjectChangeSerializer
    filterset_class = ObjectChangeFilterSet
    pagination_class = ObjectChangePagination
    permission_classes = [permissions.IsAuthenticated, CanViewOperationLog]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[ObjectChange]:
        return selectors.object_change_list(user=self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        ctx = super().get_serializer_context()
        ctx["modes"] = ModesCache(self.request.user)
        return ctx


@extend_schema(
    tags=["audit"],
    parameters=[
        OpenApiParameter(
            "model", str, required=True, description='The record\'s model, e.g. "customers.account".'
        ),
        OpenApiParameter("object_id", int, required=True, description="The record's id."),
    ],
)
class TimelineView(generics.ListAPIView):
    """A record's timeline (动态), newest first. 404 when the record is unknown or outside your
    data scope. An account's timeline also lists the events of its contacts, deals and so on."""

    serializer_class = TimelineEventSerializer
    pagination_class = TimelinePagination
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[TimelineEvent]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return TimelineEvent.objects.none()
        query = TimelineQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        model = selectors.resolve_model(query.validated_data["model"])
        pk = query.validated_data["object_id"]
        if model is None or selectors.visible_object(user=self.request.user, model=model, pk=pk) is None:
            raise Http404
        return selectors.timeline_for(user=self.request.user, model=model, object_id=pk)
