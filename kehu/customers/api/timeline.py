"""The 360° timeline over the API: ``GET /api/v1/customers/accounts/{id}/timeline/`` and
``GET /api/v1/customers/contacts/{id}/timeline/`` (the same selector as the Timeline tab)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.audit import timeline
from kehu.core.choices import Action

from ..models import Account, Contact

TYPES_HELP = (
    "Comma-separated timeline types to show (default: all): interactions, tasks, events, changes "
    "(and types other modules add)."
)


class TimelineQuerySerializer(serializers.Serializer):
    types = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=TYPES_HELP,
    )
    before = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The `next_cursor` of the previous page.",
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=timeline.MAX_LIMIT, default=50)

    def validate_types(self, value: str) -> set[str] | None:
        wanted = {part.strip() for part in value.split(",") if part.strip()}
        if not wanted:
            return None
        known = {key for key, _label in timeline.type_choices()}
        unknown = sorted(wanted - known)
        if unknown:
            raise serializers.ValidationError(
                _("Unknown type(s): %(unknown)s. Known: %(known)s.")
                % {"unknown": ", ".join(unknown), "known": ", ".join(sorted(known))}
            )
        return wanted

    def validate_before(self, value: str) -> timeline.Cursor | None:
        try:
            return timeline.parse_cursor(value)
        except timeline.CursorError as exc:
            raise serializers.ValidationError(_("Not a cursor from this timeline.")) from exc


class TimelineFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    before = serializers.CharField(help_text="Formatted value before (masked when masked for you).")
    after = serializers.CharField(help_text="Formatted value after (masked when masked for you).")
    masked = serializers.BooleanField()


class TimelineEntrySerializer(serializers.Serializer):
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=[timeline.EVENT, timeline.CHANGE],
        help_text="event: a timeline event; change: a field change.",
    )
    id = serializers.IntegerField(help_text="The id of the timeline event or of the operation log entry.")
    kind = serializers.CharField(help_text="The timeline type: interactions, tasks, events, changes ...")
    code = serializers.CharField(help_text='The event code ("interaction.logged") or the change action.')
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(help_text="Who did it (empty: the system).")
    actor_id = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    subject = serializers.CharField()
    body = serializers.CharField()
    fields = TimelineFieldSerializer(many=True)  # type: ignore[assignment]
    url = serializers.CharField(
        allow_null=True, help_text="The page of the record it concerns, if you may open it."
    )
    icon = serializers.CharField()
    model = serializers.CharField()
    object_id = serializers.IntegerField(allow_null=True)
    data = serializers.DictField(  # type: ignore[assignment]
        help_text="Event data as you may see it (field permissions applied)."
    )


class TimelinePageSerializer(serializers.Serializer):
    results = TimelineEntrySerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass as `before` for the next page.")


class _RecordTimelineView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    model: ClassVar[type[models.Model]]

    def fetch(self, user: Any, pk: int, **kwargs: Any) -> timeline.TimelinePage:  # pragma: no cover
        raise NotImplementedError

    def get(self, request: Request, pk: int) -> Response:
        if not self.model._default_manager.restrict(request.user, Action.VIEW).filter(pk=pk).exists():  # type: ignore[attr-defined]
            raise Http404
        query = TimelineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.fetch(
            request.user,
            pk,
            types=query.validated_data.get("types"),
            before=query.validated_data.get("before"),
            limit=query.validated_data["limit"],
        )
        body = {
            "results": [
                {
                    "source": e.source,
                    "id": e.id,
                    "kind": e.kind,
                    "code": e.code,
                    "occurred_at": e.occurred_at,
                    "actor": e.actor,
                    "actor_id": e.actor_id,
                    "title": str(e.title),
                    "subject": e.subject,
                    "body": e.body,
                    "fields": [vars(f) for f in e.fields],
                    "url": e.url,
                    "icon": e.icon,
                    "model": e.model,
                    "object_id": e.object_id,
                    "data": e.data,
                }
                for e in page.entries
            ],
            "next_cursor": page.next_cursor.encode() if page.next_cursor else None,
        }
        return Response(TimelinePageSerializer(body).data)


_PARAMETERS = [
    OpenApiParameter("types", OpenApiTypes.STR, description=TYPES_HELP),
    OpenApiParameter("before", OpenApiTypes.STR, description="The `next_cursor` of the previous page."),
    OpenApiParameter("limit", OpenApiTypes.INT, description="Entries per page (1–200, default 50)."),
]


@extend_schema(
    tags=["customers"],
    summary="An account's 360° timeline",
    description="Newest first: interactions, tasks and other events of the account, and field changes "
    "of the account and of its contacts you may see (field permissions applied). 404 outside your scope.",
    parameters=_PARAMETERS,
    responses=TimelinePageSerializer,
)
class AccountTimelineView(_RecordTimelineView):
    model = Account

    def fetch(self, user: Any, pk: int, **kwargs: Any) -> timeline.TimelinePage:
        return timeline.account_timeline(user=user, account_id=pk, **kwargs)


@extend_schema(
    tags=["customers"],
    summary="A contact's timeline",
    description="Newest first: events of the contact and its field changes. 404 outside your scope.",
    parameters=_PARAMETERS,
    responses=TimelinePageSerializer,
)
class ContactTimelineView(_RecordTimelineView):
    model = Contact

    def fetch(self, user: Any, pk: int, **kwargs: Any) -> timeline.TimelinePage:
        return timeline.contact_timeline(user=user, contact_id=pk, **kwargs)
