"""GET /api/v1/search/?q=: the global search, grouped by type, ranked, restricted."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.core import search


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=500, allow_blank=True, trim_whitespace=True)
    type = serializers.CharField(max_length=100, required=False, allow_blank=True)
    limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=5)


class SearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", allow_null=True)
    title = serializers.CharField()
    subtitle = serializers.CharField()
    url = serializers.CharField()
    score = serializers.FloatField()


class SearchGroupSerializer(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    icon = serializers.CharField()
    more = serializers.BooleanField()
    list_url = serializers.CharField(allow_null=True)
    hits = SearchHitSerializer(many=True)


class SearchResultSerializer(serializers.Serializer):
    q = serializers.CharField()
    groups = SearchGroupSerializer(many=True)


def _list_url(group: search.SearchGroup, q: str) -> str | None:
    name = group.provider.list_url_name
    if not name:
        return None
    try:
        return f"{reverse(name)}?{urlencode({'q': q})}"
    except NoReverseMatch:
        return None


class SearchView(APIView):
    """Search accounts, contacts and every other registered type at once: name, short name, pinyin
    (full or initials), phone digits (the last 4 are enough, any format), e-mail, tax number,
    WeChat ID. Only records you may view; masked fields stay masked in subtitles."""

    @extend_schema(
        tags=["search"],
        parameters=[
            OpenApiParameter(
                "q", str, required=True, description="What to look for (up to 100 characters count)."
            ),
            OpenApiParameter("type", str, description="Only this group (e.g. customers.contact)."),
            OpenApiParameter("limit", int, description="Hits per group (1-100, default 5)."),
        ],
        responses={200: SearchResultSerializer},
    )
    def get(self, request: Request) -> Response:
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data: dict[str, Any] = params.validated_data
        q = search.clean_query(data["q"])
        groups = search.search(request.user, q, limit=data["limit"], only=data.get("type") or None)
        body = {
            "q": q,
            "groups": [
                {
                    "type": g.key,
                    "label": g.label,
                    "icon": g.provider.icon,
                    "more": g.more,
                    "list_url": _list_url(g, q),
                    "hits": g.hits,
                }
                for g in groups
            ],
        }
        return Response(SearchResultSerializer(body).data)
