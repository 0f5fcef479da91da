"""Service settings over the API: ticket statuses, ticket types, ticket categories and support
mailboxes (CRUD; writes through `services/settings.py`). A mailbox's IMAP password is write-only:
accepted on create/update (empty or absent: the stored one stays), never returned; `has_password`
says whether one is stored."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import RestrictedModelViewSet
from kehu.core.choices import Action
from kehu.core.permissions import can

from ..models import Mailbox, Queue, TicketCategory, TicketStatus, TicketType
from ..services import settings as services


class TicketStatusSerializer(serializers.ModelSerializer):
    next_statuses = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=TicketStatus.objects.all(),
        help_text="Ids of the statuses a ticket may move to from this one (empty: any).",
    )

    class Meta:
        model = TicketStatus
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "state",
            "colour",
            "position",
            "is_initial",
            "is_active",
            "next_statuses",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"code": {"validators": []}}


class TicketTypeSerializer(serializers.ModelSerializer):
    statuses = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=TicketStatus.objects.all(),
        help_text="Ids of the statuses this type uses (empty: all; else must include the initial status).",
    )
    default_queue = serializers.PrimaryKeyRelatedField(
        required=False, allow_null=True, queryset=Queue.objects.all()
    )
    fields = serializers.ListField(  # type: ignore[assignment]
        child=serializers.CharField(), required=False, help_text="Names of ticket custom fields shown."
    )
    required_fields = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Names of ticket custom fields required."
    )

    class Meta:
        model = TicketType
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "kind",
            "after_sales_action",
            "requires_order",
            "default_priority",
            "default_queue",
            "statuses",
            "fields",
            "required_fields",
            "position",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"code": {"validators": []}}


class TicketCategorySerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        required=False,
        allow_null=True,
        queryset=TicketCategory.objects.all(),
        help_text="A top-level category (categories have two levels).",
    )

    class Meta:
        model = TicketCategory
        fields = ["id", "name", "name_en", "parent", "position", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class MailboxSerializer(serializers.ModelSerializer):
    imap_password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=255,
        style={"input_type": "password"},
        help_text="Write-only. Empty or absent on update: the stored password stays.",
    )
    has_password = serializers.SerializerMethodField(help_text="Whether a password is stored.")
    queue = serializers.PrimaryKeyRelatedField(required=False, allow_null=True, queryset=Queue.objects.all())

    class Meta:
        model = Mailbox
        fields = [
            "id",
            "name",
            "email",
            "queue",
            "imap_host",
            "imap_port",
            "imap_ssl",
            "imap_starttls",
            "imap_username",
            "imap_password",
            "has_password",
            "imap_folder",
            "processed_folder",
            "is_active",
            "last_polled_at",
            "last_error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "last_polled_at", "last_error", "created_at", "updated_at"]
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"name": {"validators": []}, "email": {"validators": []}}

    def get_has_password(self, obj: Mailbox) -> bool:
        return bool(obj.imap_password)


class TicketStatusReorderSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), help_text="Status ids in their new order.")


def _schema(name: str) -> Any:
    return extend_schema_view(
        list=extend_schema(summary=f"List {name}s"),
        retrieve=extend_schema(summary=f"Get a {name}"),
        create=extend_schema(summary=f"Create a {name}"),
        update=extend_schema(summary=f"Replace a {name}"),
        partial_update=extend_schema(summary=f"Change a {name}"),
        destroy=extend_schema(summary=f"Delete a {name}", responses={204: None, 409: ErrorSerializer}),
    )


@_schema("ticket status")
@extend_schema(tags=["service"])
class TicketStatusViewSet(RestrictedModelViewSet):
    """Ticket statuses and their flow. Exactly one is initial; one in use cannot be deleted (409)."""

    model = TicketStatus
    serializer_class = TicketStatusSerializer

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("next_statuses").order_by("position", "id")

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        return services.ticketstatus_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Any, data: dict[str, Any], version: int | None) -> Any:
        return services.ticketstatus_update(status=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: Any) -> None:
        services.ticketstatus_delete(status=obj, by=self.request.user)

    @extend_schema(
        summary="Reorder ticket statuses",
        request=TicketStatusReorderSerializer,
        responses={200: TicketStatusSerializer(many=True), 403: ErrorSerializer},
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def reorder(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Positions 10, 20, … in the order of `ids` (statuses not named keep their position)."""
        if not can(request.user, TicketStatus, Action.CHANGE):
            raise PermissionDenied()
        body = TicketStatusReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.ticketstatus_reorder(ids=body.validated_data["ids"], by=request.user)
        rows = TicketStatus.objects.prefetch_related("next_statuses").order_by("position", "id")
        return Response(TicketStatusSerializer(rows, many=True).data)


@_schema("ticket type")
@extend_schema(tags=["service"])
class TicketTypeViewSet(RestrictedModelViewSet):
    """Ticket types: kind, after-sales action, statuses used, custom fields shown and required."""

    model = TicketType
    serializer_class = TicketTypeSerializer

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("statuses").order_by("position", "id")

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        return services.tickettype_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Any, data: dict[str, Any], version: int | None) -> Any:
        return services.tickettype_update(ticket_type=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: Any) -> None:
        services.tickettype_delete(ticket_type=obj, by=self.request.user)


@_schema("ticket category")
@extend_schema(tags=["service"])
class TicketCategoryViewSet(RestrictedModelViewSet):
    """Ticket categories, a two-level tree."""

    model = TicketCategory
    serializer_class = TicketCategorySerializer

    def get_queryset(self) -> Any:
        return super().get_queryset().order_by("parent_id", "position", "id")

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        return services.ticketcategory_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Any, data: dict[str, Any], version: int | None) -> Any:
        return services.ticketcategory_update(category=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: Any) -> None:
        services.ticketcategory_delete(category=obj, by=self.request.user)


@_schema("mailbox")
@extend_schema(tags=["service"])
class MailboxViewSet(RestrictedModelViewSet):
    """Support mailboxes polled over IMAP (the password is write-only)."""

    model = Mailbox
    serializer_class = MailboxSerializer
    select_related = ("queue",)

    def perform_service_create(self, data: dict[str, Any]) -> Any:
        return services.mailbox_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Any, data: dict[str, Any], version: int | None) -> Any:
        return services.mailbox_update(mailbox=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: Any) -> None:
        services.mailbox_delete(mailbox=obj, by=self.request.user)


def register(router: SimpleRouter) -> None:
    router.register("ticket-statuses", TicketStatusViewSet, basename="ticketstatus")
    router.register("ticket-types", TicketTypeViewSet, basename="tickettype")
    router.register("ticket-categories", TicketCategoryViewSet, basename="ticketcategory")
    router.register("mailboxes", MailboxViewSet, basename="mailbox")
