"""POST /api/v1/dedup/merge/: merge duplicate accounts, contacts or leads (the same service as the
review queue's merge page, ``kehu.dedup.merging.records_merge``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.core.api.errors import ErrorSerializer

from .. import selectors
from ..merging import MERGEABLE, DedupError, records_merge
from ..models import DuplicateGroup


class MergeSerializer(serializers.Serializer):
    model = serializers.ChoiceField(
        choices=[(label, label) for label in MERGEABLE],
        help_text='The record type: "customers.account", "customers.contact" or "sales.lead".',
    )
    master = serializers.IntegerField(help_text="The record that is kept (its id stays).")
    ids = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=1,
        max_length=50,
        help_text="The records merged into it (the master may be listed too).",
    )
    values = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        default=dict,
        help_text='Per field, the record whose value is kept, e.g. {"name": 12, "custom.budget": 15}. '
        "Fields not given keep the master's value, else the newest non-empty one.",
    )
    group = serializers.IntegerField(
        required=False, allow_null=True, help_text="The duplicate group this merge resolves (review queue)."
    )


class MergeResultSerializer(serializers.Serializer):
    model = serializers.CharField()
    id = serializers.IntegerField(help_text="The kept record.")
    url = serializers.CharField(help_text="The kept record's page.")
    merged = serializers.ListField(child=serializers.IntegerField(), help_text="The merged (deleted) ids.")


class MergeView(APIView):
    """Merge duplicates: related records (contacts, opportunities, interactions, tasks, tags, ...)
    move to the kept record, the others are deleted and their ids lead to it. Every record must be
    one the caller may change; otherwise 404 and nothing changes."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["dedup"],
        summary="Merge duplicate records",
        request=MergeSerializer,
        responses={
            200: MergeResultSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
        examples=[
            OpenApiExample(
                "Merge two accounts",
                value={"model": "customers.account", "master": 12, "ids": [15], "values": {"website": 15}},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        body = MergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data: dict[str, Any] = body.validated_data
        group = None
        if data.get("group") is not None:
            try:
                # a group whose every record the user may change (kehu.dedup.selectors)
                group = selectors.duplicate_group_get(user=request.user, pk=data["group"], action="change")
            except DuplicateGroup.DoesNotExist:
                group = None
            if group is None or group.model_label != data["model"]:
                raise DedupError(
                    _("This duplicate group does not exist."),
                    code="not_found",
                    status=404,
                    fields={"group": [_("Not found.")]},
                )
        ids = [i for i in data["ids"] if i != data["master"]]
        kept = records_merge(
            by=request.user,
            model_label=data["model"],
            master_id=data["master"],
            ids=[data["master"], *ids],
            values=data["values"],
            group=group,
        )
        return Response(
            {
                "model": data["model"],
                "id": kept.pk,
                "url": kept.get_absolute_url(),
                "merged": sorted(set(ids)),
            }
        )
