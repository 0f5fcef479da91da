"""``/api/v1/core/saved-views/``: the current user's saved list views (and the shared ones)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.core import savedviews
from kehu.core.errors import PermissionDeniedError
from kehu.core.models import SavedView
from kehu.core.permissions import is_admin


class SavedViewSerializer(serializers.ModelSerializer):
    """A saved list view: `table` is the list ("customers.account"), `query` its filters and sort
    as a query string (the list's FilterSet parameters, ``q`` and ``sort``)."""

    table = serializers.CharField(max_length=100, help_text='The list, e.g. "customers.account".')
    query = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="Filters and sort as a query string."
    )
    columns = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=100
    )
    per_page = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=500)
    is_default = serializers.BooleanField(
        required=False, help_text="Whether the list opens with this view for you."
    )
    mine = serializers.SerializerMethodField(help_text="Whether you own this view (and may change it).")

    class Meta:
        model = SavedView
        fields = [
            "id",
            "table",
            "name",
            "shared",
            "query",
            "columns",
            "per_page",
            "is_default",
            "mine",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]

    def get_mine(self, obj: SavedView) -> bool:
        request = self.context.get("request")
        return request is not None and obj.owner_id == request.user.pk

    def to_representation(self, instance: SavedView) -> Any:
        data = super().to_representation(instance)
        defaults = self.context.get("defaults", {})
        data["is_default"] = defaults.get(instance.table) == instance.pk
        return data


@extend_schema_view(
    list=extend_schema(summary="List your saved views and the shared ones"),
    retrieve=extend_schema(summary="Get a saved view"),
    create=extend_schema(summary="Save a list view"),
    partial_update=extend_schema(summary="Rename, share or change a saved view of yours"),
    update=extend_schema(summary="Replace a saved view of yours"),
    destroy=extend_schema(summary="Delete a saved view of yours"),
)
@extend_schema(tags=["core"])
class SavedViewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Saved list views. Another user's personal view answers 404; only your own views (or, for
    administrators, shared ones) may be changed."""

    serializer_class = SavedViewSerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = r"\d+"
    filterset_fields = ["table"]

    def get_queryset(self) -> Any:
        qs = savedviews.savedviews_visible(user=self.request.user)
        table = self.request.query_params.get("table") if self.action == "list" else None
        if table:
            qs = qs.filter(table=table)
        return qs.order_by("table", "order", "name", "id")

    def filter_queryset(self, queryset: Any) -> Any:
        return queryset

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        user = self.request.user
        if user.is_authenticated:
            from kehu.core.models import UserPreference

            prefix = savedviews.DEFAULT_PREF.format(table="")
            context["defaults"] = {
                key[len(prefix) :]: value.get("view")
                for key, value in UserPreference.objects.filter(
                    user=user, key__startswith=prefix
                ).values_list("key", "value")
                if isinstance(value, dict)
            }
        return context

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        view = savedviews.savedview_create(
            by=request.user,
            table=data["table"],
            name=data["name"],
            query=data.get("query", ""),
            shared=data.get("shared", False),
            columns=data.get("columns"),
            per_page=data.get("per_page"),
            make_default=data.get("is_default", False),
        )
        fresh = self.get_serializer(view, context={**self.get_serializer_context()})
        return Response(fresh.data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        view = self.get_object()
        if view.owner_id != request.user.pk and not (view.shared and is_admin(request.user)):
            raise PermissionDeniedError(_may_only_change_own())
        serializer = self.get_serializer(view, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "table" in data and data["table"] != view.table:
            raise serializers.ValidationError({"table": [_cannot_move()]})
        view = savedviews.savedview_update(
            by=request.user,
            view=view,
            name=data.get("name"),
            query=data.get("query"),
            shared=data.get("shared"),
            columns=data.get("columns"),
            per_page=data.get("per_page", ...),
        )
        if "is_default" in data:
            savedviews.savedview_set_default(
                by=request.user, table=view.table, view=view if data["is_default"] else None
            )
        return Response(self.get_serializer(view, context=self.get_serializer_context()).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view = self.get_object()
        if view.owner_id != request.user.pk and not (view.shared and is_admin(request.user)):
            raise PermissionDeniedError(_may_only_change_own())
        savedviews.savedview_delete(by=request.user, view=view)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_object(self) -> SavedView:
        pk = self.kwargs.get("pk")
        view = savedviews.savedview_get(user=self.request.user, pk=pk)
        if view is None:
            raise NotFound()
        return view


def _may_only_change_own() -> str:
    from django.utils.translation import gettext as _

    return _("You may only change your own views.")


def _cannot_move() -> str:
    from django.utils.translation import gettext as _

    return _("A view cannot move to another list.")
