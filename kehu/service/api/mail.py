"""Received e-mail over the API (``/api/v1/service/inbound-emails/``): the log with its status,
and the quarantine actions.

* GET the list (``?status=quarantined&mailbox=1&q=…``) and one message (with its headers);
* GET ``/{id}/raw/``: the message as it arrived (message/rfc822);
* POST ``/{id}/release/``: process a quarantined or ignored message again (409 otherwise);
* POST ``/{id}/discard/``: delete a quarantined or ignored message (204; 409 otherwise).
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import ACTION_MAP, ModelActionPermission
from kehu.core.choices import Action

from ..choices import InboundStatus
from ..models import InboundEmail
from ..selectors import mail as selectors
from ..services import mail as services

ACTIONS = {**ACTION_MAP, "raw": Action.VIEW, "release": Action.CHANGE, "discard": Action.DELETE}


class InboundEmailSerializer(serializers.ModelSerializer):
    reason_text = serializers.SerializerMethodField(help_text="The reason in the reader's language.")
    ticket_number = serializers.CharField(source="ticket.number", read_only=True, default=None)

    class Meta:
        model = InboundEmail
        fields = [
            "id",
            "mailbox",
            "message_id",
            "from_email",
            "subject",
            "size",
            "status",
            "reason",
            "reason_text",
            "ticket",
            "ticket_number",
            "received_at",
            "processed_at",
            "released_by",
        ]
        read_only_fields = fields

    def get_reason_text(self, obj: InboundEmail) -> str:
        return services.reason_text(obj.reason)


class HeaderSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField()


class InboundEmailDetailSerializer(InboundEmailSerializer):
    headers = serializers.SerializerMethodField()

    class Meta(InboundEmailSerializer.Meta):
        fields = [*InboundEmailSerializer.Meta.fields, "headers"]
        read_only_fields = fields

    @extend_schema_field(HeaderSerializer(many=True))
    def get_headers(self, obj: InboundEmail) -> list[dict[str, str]]:
        return [{"name": k, "value": v} for k, v in selectors.inbound_headers(obj)]


STATUS_PARAM = OpenApiParameter("status", OpenApiTypes.STR, enum=InboundStatus.values)
MAILBOX_PARAM = OpenApiParameter("mailbox", OpenApiTypes.INT)
Q_PARAM = OpenApiParameter("q", OpenApiTypes.STR, description="Sender, subject or Message-ID.")


@extend_schema_view(
    list=extend_schema(summary="List received e-mail", parameters=[STATUS_PARAM, MAILBOX_PARAM, Q_PARAM]),
    retrieve=extend_schema(summary="Get a received e-mail", responses=InboundEmailDetailSerializer),
)
@extend_schema(tags=["service"])
class InboundEmailViewSet(viewsets.ReadOnlyModelViewSet):
    """Every e-mail the support mailboxes received and what became of it (ticket created, added
    to a ticket, ignored as an auto-reply or bounce, quarantined)."""

    model = InboundEmail
    serializer_class = InboundEmailSerializer
    permission_classes = [ModelActionPermission]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> Any:
        params = self.request.query_params
        if self.action == "list":
            mailbox = params.get("mailbox", "")
            return selectors.inbound_list(
                user=self.request.user,
                status=params.get("status", ""),
                mailbox_id=int(mailbox) if mailbox.isdigit() else None,
                q=params.get("q", ""),
            )
        needed = ACTIONS.get(self.action or "", Action.VIEW)
        return InboundEmail.objects.restrict(self.request.user, needed).select_related("mailbox", "ticket")

    def get_serializer_class(self) -> Any:
        return InboundEmailDetailSerializer if self.action == "retrieve" else InboundEmailSerializer

    @extend_schema(
        summary="Download the raw message", responses={(200, "message/rfc822"): OpenApiTypes.BINARY}
    )
    @action(detail=True, methods=["get"])
    def raw(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        inbound = self.get_object()
        try:
            handle = inbound.raw.open("rb")
        except (OSError, ValueError) as exc:
            raise Http404(_("The raw message is no longer stored.")) from exc
        return FileResponse(
            handle, as_attachment=True, filename=f"inbound-{inbound.pk}.eml", content_type="message/rfc822"
        )

    @extend_schema(
        summary="Release a quarantined e-mail",
        request=None,
        responses={200: InboundEmailSerializer, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def release(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Process the message again as a customer message (even if it looked automatic)."""
        inbound = services.inbound_email_release(inbound=self.get_object(), by=request.user)
        return Response(InboundEmailSerializer(inbound).data)

    @extend_schema(
        summary="Discard a quarantined e-mail", request=None, responses={204: None, 409: ErrorSerializer}
    )
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.inbound_email_discard(inbound=self.get_object(), by=request.user)
        return Response(status=204)


def register(router: SimpleRouter) -> None:
    router.register("inbound-emails", InboundEmailViewSet, basename="inboundemail")
