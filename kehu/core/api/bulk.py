"""``POST .../bulk/`` on a model's API: run one of its bulk actions (`kehu.core.bulk`).

Add `BulkActionMixin` to a `RestrictedModelViewSet` (it uses the view set's `model` and
`filterset_class`)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.core import bulk

from .serializers import JobSerializer


class BulkRequestSerializer(serializers.Serializer):
    action = serializers.CharField(max_length=64, help_text="The key of a bulk action of this list.")
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=bulk.MAX_POSTED_IDS,
        help_text="The records to act on (those outside your scope are skipped). Or give `filter`.",
    )
    filter = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Every record matching these list filters (the list's query parameters).",
    )
    params = serializers.DictField(
        child=serializers.JSONField(), required=False, help_text="The action's parameters."
    )
    confirm = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2**63 - 1,
        help_text="For actions that ask for confirmation (delete): the number of records affected.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError({"ids": ["Give either ids or filter."]})
        return attrs


class BulkResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Records selected within your scope.")
    done = serializers.IntegerField(allow_null=True, help_text="Records changed (null while queued).")
    skipped = serializers.IntegerField(allow_null=True)
    failed = serializers.IntegerField(allow_null=True)
    failed_rows = serializers.ListField(child=serializers.DictField(), allow_null=True)
    extra = serializers.DictField(child=serializers.IntegerField(), allow_null=True)
    job = JobSerializer(allow_null=True, help_text="The background job, when the action was queued (202).")


class BulkActionMixin:
    """Adds ``POST bulk/``: 200 with the counts when it ran at once, 202 with the job when queued."""

    @extend_schema(
        summary="Run a bulk action",
        request=BulkRequestSerializer,
        responses={200: BulkResponseSerializer, 202: BulkResponseSerializer},
        examples=[
            OpenApiExample(
                "Change owner",
                value={"action": "change_owner", "ids": [1, 2], "params": {"owner": 7, "with_related": True}},
                request_only=True,
            )
        ],
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request: Request) -> Response:
        serializer = BulkRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        outcome = bulk.bulk_start(
            user=request.user,
            model=self.model,  # type: ignore[attr-defined]
            action_key=data["action"],
            ids=data.get("ids"),
            query=data.get("filter") if "ids" not in data else None,
            filterset_class=getattr(self, "filterset_class", None),
            params=data.get("params") or {},
            request=request,
            confirm_count=data.get("confirm"),
        )
        if outcome.job is not None:
            body = {
                "count": outcome.count,
                "done": None,
                "skipped": None,
                "failed": None,
                "failed_rows": None,
                "extra": None,
                "job": JobSerializer(outcome.job, context={"request": request}).data,
            }
            return Response(body, status=status.HTTP_202_ACCEPTED)
        result = outcome.result
        assert result is not None
        return Response({"count": outcome.count, **result.as_dict(), "job": None})
