"""Tickets over the API: ``/api/v1/service/tickets/`` (CRUD through `services.tickets`, the
ticket list's filters, keyset pagination), the actions ``assign``, ``move``, ``reply``, ``note``,
``resolve``, ``reopen``, ``merge``, ``split``, ``watch``, ``unwatch``, ``escalate``, and the
``messages`` (internal notes only for users who may change the ticket) and ``attachments``
(upload, download) sub-resources. Outside the user's scope: 404; refusals answer
``{"code", "message", "fields"}``."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.core.api.actions import ERRORS, ServiceActionMixin
from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import RestrictedModelViewSet
from kehu.core.choices import Action
from kehu.tags.api.mixins import TagsWriteMixin

from ..choices import MessageKind
from ..filtersets_tickets import TicketFilterSet
from ..models import Ticket, TicketAttachment, TicketMessage
from ..services import tickets as services
from .serializers_tickets import (
    TicketAssignSerializer,
    TicketAttachmentSerializer,
    TicketAttachmentUploadSerializer,
    TicketEscalateSerializer,
    TicketInternalNoteSerializer,
    TicketMergeSerializer,
    TicketMessageSerializer,
    TicketMoveSerializer,
    TicketNoteBodySerializer,
    TicketReplySerializer,
    TicketSerializer,
    TicketSplitSerializer,
    TicketWatchSerializer,
)

# Actions that need "change" on the ticket (the services re-check; the queryset answers 404 for a
# ticket outside the user's view scope and 403 for one they see but may not change).
CHANGE_ACTIONS = {
    "assign",
    "move",
    "reply",
    "note",
    "resolve",
    "reopen",
    "merge",
    "split",
    "escalate",
    "attachments",
}


def _escalate_service() -> Any:
    from ..services import sla

    return getattr(sla, "ticket_escalate", None)


def _may_change(user: Any, ticket: Ticket) -> bool:
    return Ticket.objects.restrict(user, Action.CHANGE).filter(pk=ticket.pk).exists()


@extend_schema_view(
    list=extend_schema(summary="List tickets you may view"),
    retrieve=extend_schema(summary="Get a ticket"),
    create=extend_schema(summary="Create a ticket", responses={201: TicketSerializer, **ERRORS}),
    update=extend_schema(summary="Replace a ticket", responses={200: TicketSerializer, **ERRORS}),
    partial_update=extend_schema(summary="Change a ticket", responses={200: TicketSerializer, **ERRORS}),
)
@extend_schema(tags=["service"])
class TicketViewSet(TagsWriteMixin, ServiceActionMixin, RestrictedModelViewSet):
    """Tickets (工单). Filters are the ticket list's (``q``, ``open``, ``state``, ``status``,
    ``assignee`` with ``me`` / ``unassigned``, ``queue``, ``sla``, ``watched`` ...)."""

    model = Ticket
    serializer_class = TicketSerializer
    filterset_class = TicketFilterSet
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        name = getattr(self, "action", None)
        if name == "list":
            return Ticket.objects.restrict(self.request.user, Action.VIEW)
        if name in CHANGE_ACTIONS and self.request.method == "POST":
            return Ticket.objects.restrict(self.request.user, Action.CHANGE)
        if name in ("update", "partial_update"):
            return Ticket.objects.restrict(self.request.user, Action.CHANGE)
        return Ticket.objects.restrict(self.request.user, Action.VIEW)

    def get_object(self) -> Any:
        try:
            return super().get_object()
        except Http404:
            if self.request.method == "POST" and getattr(self, "action", None) in CHANGE_ACTIONS:
                visible = Ticket.objects.restrict(self.request.user, Action.VIEW)
                if visible.filter(pk=self.kwargs.get("pk")).exists():
                    raise PermissionDenied(_("You may not change this ticket.")) from None
            raise

    # --- CRUD through the services ------------------------------------------------------------

    def perform_service_create(self, data: dict[str, Any]) -> Ticket:
        data.pop("tags", None)
        assignee = data.pop("assignee", None)
        ticket = services.ticket_create(by=self.request.user, data=data, assignee=assignee)
        tags = self.new_tags()
        if tags is not None:
            from kehu.tags.services import tags_set_new

            tags_set_new(obj=ticket, tags=tags, by=self.request.user)
        return ticket

    def perform_service_update(self, obj: Ticket, data: dict[str, Any], version: int | None) -> Ticket:
        data.pop("tags", None)
        data.pop("assignee", None)  # (documented: on create only; …/assign/ changes it)
        return services.ticket_edit(ticket=obj, by=self.request.user, data=data, version=version)

    # --- actions ---------------------------------------------------------------------------------

    @extend_schema(request=TicketAssignSerializer, responses={200: TicketSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Give the ticket to an agent (null: unassign), optionally moving it to a queue first;
        ``auto``: the queue's assignment chooses."""
        return self.service_action(
            lambda t, v: services.ticket_assign(
                ticket=t,
                by=request.user,
                assignee=v.get("assignee"),
                queue=v.get("queue"),
                auto=v.get("auto", False),
            ),
            TicketAssignSerializer,
        )

    @extend_schema(request=TicketMoveSerializer, responses={200: TicketSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def move(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Move the ticket to a status its flow allows."""
        return self.service_action(
            lambda t, v: services.ticket_move(
                ticket=t, by=request.user, status=v["status"], note=v.get("note", "")
            ),
            TicketMoveSerializer,
        )

    @extend_schema(request=TicketNoteBodySerializer, responses={200: TicketSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.service_action(
            lambda t, v: services.ticket_resolve(ticket=t, by=request.user, note=v.get("note", "")),
            TicketNoteBodySerializer,
        )

    @extend_schema(request=TicketNoteBodySerializer, responses={200: TicketSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.service_action(
            lambda t, v: services.ticket_reopen(ticket=t, by=request.user, note=v.get("note", "")),
            TicketNoteBodySerializer,
        )

    @extend_schema(request=TicketReplySerializer, responses={201: TicketMessageSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Answer the customer (e-mailed when the ticket has an address)."""
        return self.service_action(
            lambda t, v: services.ticket_reply(
                ticket=t, by=request.user, body=v["body"], cc=v.get("cc", ""), status=v.get("status")
            ),
            TicketReplySerializer,
            answer=lambda m: TicketMessageSerializer(m).data,
            status_code=status.HTTP_201_CREATED,
        )

    @extend_schema(request=TicketInternalNoteSerializer, responses={201: TicketMessageSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def note(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """An internal note (agents only, never e-mailed)."""
        return self.service_action(
            lambda t, v: services.ticket_add_note(ticket=t, by=request.user, body=v["body"]),
            TicketInternalNoteSerializer,
            answer=lambda m: TicketMessageSerializer(m).data,
            status_code=status.HTTP_201_CREATED,
        )

    @extend_schema(request=TicketMergeSerializer, responses={200: TicketSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Merge this (duplicate) ticket into ``target``; answers the target."""

        def run(source: Ticket, values: dict[str, Any]) -> Ticket:
            target = Ticket.objects.restrict(request.user, Action.CHANGE).filter(pk=values["target"]).first()
            if target is None:
                raise serializers.ValidationError({"target": [_("Choose a ticket you may change.")]})
            return services.ticket_merge(
                source=source, target=target, by=request.user, note=values.get("note", "")
            )

        return self.service_action(run, TicketMergeSerializer)

    @extend_schema(request=TicketSplitSerializer, responses={201: TicketSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def split(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Move some messages of this ticket to a new ticket; answers the new ticket."""

        def run(ticket: Ticket, values: dict[str, Any]) -> Ticket:
            wanted = set(values["messages"])
            messages = list(TicketMessage.objects.filter(ticket=ticket, pk__in=wanted))
            if len(messages) != len(wanted):
                raise serializers.ValidationError({"messages": [_("Choose messages of this ticket.")]})
            return services.ticket_split(
                ticket=ticket, by=request.user, messages=messages, subject=values.get("subject", "")
            )

        return self.service_action(run, TicketSplitSerializer, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=TicketWatchSerializer, responses={204: None, **ERRORS})
    @action(detail=True, methods=["post"])
    def watch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Follow the ticket (you, or ``user`` — that needs change on the ticket)."""
        ticket = self.get_object()
        body = TicketWatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.ticket_watch(ticket=ticket, by=request.user, user=body.validated_data.get("user"))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=TicketWatchSerializer, responses={204: None, **ERRORS})
    @action(detail=True, methods=["post"])
    def unwatch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        body = TicketWatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.ticket_unwatch(ticket=ticket, by=request.user, user=body.validated_data.get("user"))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=TicketEscalateSerializer, responses={200: TicketSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def escalate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Escalate by hand (a reason is required): the escalation level goes up and the queue's
        manager is told."""
        escalate = _escalate_service()
        if escalate is None:  # pragma: no cover - the SLA area provides it
            raise Http404
        return self.service_action(
            lambda t, v: escalate(ticket=t, by=request.user, reason=v.get("note", "")),
            TicketEscalateSerializer,
        )

    # --- sub-resources ---------------------------------------------------------------------------

    @extend_schema(
        summary="A ticket's conversation",
        responses={200: TicketMessageSerializer(many=True), 404: ErrorSerializer},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def messages(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Customer messages, replies and system lines; internal notes only for users who may
        change the ticket."""
        ticket = self.get_object()
        qs = ticket.messages.prefetch_related("attachments").order_by("created_at", "id")
        if not _may_change(request.user, ticket):
            qs = qs.exclude(kind=MessageKind.NOTE)
        return Response(TicketMessageSerializer(qs, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="A ticket's attachments",
        responses={200: TicketAttachmentSerializer(many=True), 404: ErrorSerializer},
    )
    @extend_schema(
        methods=["POST"],
        summary="Upload an attachment",
        request={"multipart/form-data": TicketAttachmentUploadSerializer},
        responses={201: TicketAttachmentSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=None,
        filterset_class=None,
        parser_classes=[MultiPartParser, FormParser, JSONParser],
    )
    def attachments(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        if request.method == "GET":
            qs = ticket.attachments.order_by("id")
            if not _may_change(request.user, ticket):
                qs = qs.filter(is_public=True)
            return Response(TicketAttachmentSerializer(qs, many=True).data)
        body = TicketAttachmentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        made = services.ticket_attachment_add(
            ticket=ticket,
            by=request.user,
            attachments=[
                services.NewAttachment(
                    name=upload.name or "file", content=upload.read(), content_type=upload.content_type or ""
                )
            ],
            public=body.validated_data.get("is_public", True),
        )
        return Response(TicketAttachmentSerializer(made[0]).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Download an attachment",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            404: ErrorSerializer,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment>\d+)/download",
        pagination_class=None,
        filterset_class=None,
    )
    def attachment_download(
        self, request: Request, attachment: str, *args: Any, **kwargs: Any
    ) -> FileResponse:
        ticket = self.get_object()
        qs = TicketAttachment.objects.filter(ticket=ticket)
        if not _may_change(request.user, ticket):
            qs = qs.filter(is_public=True)
        item = get_object_or_404(qs, pk=int(attachment))
        try:
            handle = item.file.open("rb")
        except (FileNotFoundError, OSError) as exc:
            raise Http404 from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=item.name,
            content_type=item.content_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


def register(router: SimpleRouter) -> None:
    router.register("tickets", TicketViewSet, basename="ticket")
