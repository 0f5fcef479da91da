"""Queues (服务组) and canned responses (快捷回复) over the API.

* ``/queues/``: CRUD (a queue with tickets cannot be deleted: 409, deactivate it); its members
  under ``/queues/{id}/members/``: GET the list, POST ``{"user": id, "is_available": bool}`` to
  add, PATCH ``/members/{user}/`` ``{"is_available": bool}``, DELETE ``/members/{user}/``.
* ``/canned-responses/``: the responses the user sees (their personal ones, shared with everyone
  or with their queues); POST ``/{id}/render/`` ``{"ticket": id}`` fills the placeholders.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import ACTION_MAP, RestrictedModelViewSet
from kehu.core.choices import Action
from kehu.core.permissions import can

from ..models import BusinessCalendar, CannedResponse, Queue, QueueMember, Ticket
from ..selectors import queues as selectors
from ..services import queues as services

User = get_user_model()


class QueueMemberSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.__str__", read_only=True)

    class Meta:
        model = QueueMember
        fields = ["user", "username", "name", "is_available", "created_at"]
        read_only_fields = ["created_at"]


class AvailabilitySerializer(serializers.Serializer):
    is_available = serializers.BooleanField()


class QueueSerializer(serializers.ModelSerializer):
    manager = serializers.PrimaryKeyRelatedField(
        required=False, allow_null=True, queryset=User.objects.filter(is_active=True)
    )
    calendar = serializers.PrimaryKeyRelatedField(
        required=False, allow_null=True, queryset=BusinessCalendar.objects.all()
    )
    members = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=User.objects.filter(is_active=True),
        help_text="On create: the first members (ids). Later, use the members endpoints.",
    )
    open_count = serializers.SerializerMethodField(
        help_text="Open tickets of the queue that the caller may see."
    )

    class Meta:
        model = Queue
        fields = [
            "id",
            "name",
            "name_en",
            "description",
            "email",
            "assignment",
            "manager",
            "calendar",
            "members",
            "position",
            "is_active",
            "open_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"name": {"validators": []}}

    def get_open_count(self, obj: Queue) -> int:
        return int(getattr(obj, "open_count", 0) or 0)

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        data["members"] = [m.user_id for m in instance.memberships.all()]
        return data


@extend_schema_view(
    list=extend_schema(summary="List queues"),
    retrieve=extend_schema(summary="Get a queue"),
    create=extend_schema(summary="Create a queue"),
    update=extend_schema(summary="Replace a queue"),
    partial_update=extend_schema(summary="Change a queue"),
    destroy=extend_schema(summary="Delete a queue", responses={204: None, 409: ErrorSerializer}),
)
@extend_schema(tags=["service"])
class QueueViewSet(RestrictedModelViewSet):
    """Queues (服务组): teams that handle tickets, with members and an assignment method."""

    model = Queue
    serializer_class = QueueSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Queue.objects.none()
        needed = ACTION_MAP.get(self.action or "", Action.VIEW)
        if self.action in ("members", "member"):
            needed = Action.VIEW if self.request.method == "GET" else Action.CHANGE
        return selectors.queue_list(user=self.request.user, action=needed)

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        return services.queue_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Any, data: dict[str, Any], version: int | None) -> Any:
        data.pop("members", None)  # members change through the members endpoints
        return services.queue_update(queue=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: Any) -> None:
        services.queue_delete(queue=obj, by=self.request.user)

    def _read(self, instance: Any) -> Any:
        fresh = selectors.queue_list(user=self.request.user).filter(pk=instance.pk).first()
        return self.get_serializer(fresh).data if fresh is not None else {"id": instance.pk}

    @extend_schema(
        summary="List or add queue members",
        request=QueueMemberSerializer,
        responses={200: QueueMemberSerializer(many=True), 201: QueueMemberSerializer, 400: ErrorSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def members(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queue = self._queue_for(request)
        if request.method == "GET":
            rows = QueueMember.objects.filter(queue=queue).select_related("user").order_by("user__username")
            return Response(QueueMemberSerializer(rows, many=True).data)
        body = QueueMemberSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        member = services.queue_member_add(
            queue=queue,
            user=body.validated_data["user"],
            is_available=body.validated_data.get("is_available", True),
            by=request.user,
        )
        return Response(QueueMemberSerializer(member).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Set a member's availability, or remove them",
        request=AvailabilitySerializer,
        responses={200: QueueMemberSerializer, 204: None, 404: ErrorSerializer},
    )
    @action(detail=True, methods=["patch", "delete"], url_path=r"members/(?P<user_id>\d+)")
    def member(self, request: Request, user_id: str, *args: Any, **kwargs: Any) -> Response:
        own = int(user_id) == request.user.pk
        queue = self._queue_for(request, allow_own=own and request.method == "PATCH")
        user = User.objects.filter(pk=user_id, queue_memberships__queue=queue).first()
        if user is None:
            raise Http404
        if request.method == "DELETE":
            services.queue_member_remove(queue=queue, user=user, by=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = AvailabilitySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        member = services.queue_member_set_available(
            queue=queue, user=user, is_available=body.validated_data["is_available"], by=request.user
        )
        return Response(QueueMemberSerializer(member).data)

    def _queue_for(self, request: Request, *, allow_own: bool = False) -> Queue:
        """The queue of the URL: viewing members needs "view", changing them "change" (setting your
        own availability only "view")."""
        pk = self.kwargs.get("pk")
        visible = selectors.queue_list(user=request.user, action=Action.VIEW)
        queue = get_object_or_404(visible, pk=pk)
        if request.method != "GET" and not allow_own and not can(request.user, Queue, Action.CHANGE):
            raise PermissionDenied()
        return queue


class CannedResponseSerializer(serializers.ModelSerializer):
    queue = serializers.PrimaryKeyRelatedField(
        required=False,
        allow_null=True,
        queryset=Queue.objects.all(),
        help_text="Shared with this queue only.",
    )
    owner: Any = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = CannedResponse
        fields = [
            "id",
            "name",
            "body",
            "queue",
            "is_shared",
            "owner",
            "usage_count",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "usage_count", "created_at", "updated_at"]


class RenderSerializer(serializers.Serializer):
    ticket = serializers.IntegerField(required=False, allow_null=True, help_text="The ticket being answered.")


@extend_schema_view(
    list=extend_schema(summary="List canned responses"),
    retrieve=extend_schema(summary="Get a canned response"),
    create=extend_schema(summary="Create a canned response"),
    update=extend_schema(summary="Replace a canned response"),
    partial_update=extend_schema(summary="Change a canned response"),
    destroy=extend_schema(summary="Delete a canned response"),
)
@extend_schema(tags=["service"])
class CannedResponseViewSet(RestrictedModelViewSet):
    """Canned responses (快捷回复) the user sees: personal (theirs), shared with their queues or
    with everyone. Changing one needs to be its owner (personal) or to manage shared ones."""

    model = CannedResponse
    serializer_class = CannedResponseSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return CannedResponse.objects.none()
        return selectors.canned_response_list(user=self.request.user)

    def get_object(self) -> Any:
        obj = get_object_or_404(self.get_queryset(), pk=self.kwargs.get("pk"))
        if self.action in ("update", "partial_update", "destroy") and not services.may_edit_canned(
            self.request.user, obj
        ):
            raise PermissionDenied()
        return obj

    def _read(self, instance: Any) -> Any:
        fresh = self.get_queryset().filter(pk=instance.pk).first()
        return self.get_serializer(fresh).data if fresh is not None else {"id": instance.pk}

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        return services.canned_response_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Any, data: dict[str, Any], version: int | None) -> Any:
        return services.canned_response_update(response=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: Any) -> None:
        services.canned_response_delete(response=obj, by=self.request.user)

    @extend_schema(
        summary="Render a canned response for a ticket",
        request=RenderSerializer,
        responses={
            200: inline_serializer(
                "RenderedCannedResponse", {"id": serializers.IntegerField(), "html": serializers.CharField()}
            ),
            404: ErrorSerializer,
        },
    )
    @action(detail=True, methods=["post"])
    def render(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The body with {{ ticket.number }}, {{ ticket.subject }}, {{ contact.name }} and
        {{ agent.name }} filled (HTML-escaped values); counts one use."""
        body = RenderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ticket = None
        if body.validated_data.get("ticket"):
            ticket = get_object_or_404(
                Ticket.objects.restrict(request.user, Action.VIEW).select_related("contact"),
                pk=body.validated_data["ticket"],
            )
        response = get_object_or_404(
            selectors.canned_responses_for(user=request.user, ticket=ticket), pk=self.kwargs.get("pk")
        )
        html = services.canned_response_render(response=response, ticket=ticket, user=request.user)
        services.canned_response_used(response=response)
        return Response({"id": response.pk, "html": html})


def register(router: SimpleRouter) -> None:
    router.register("queues", QueueViewSet, basename="queue")
    router.register("canned-responses", CannedResponseViewSet, basename="cannedresponse")
