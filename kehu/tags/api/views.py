"""Tags, tag groups and static groups over the API; every write goes through `kehu.tags.services`
(which checks permissions: 403 JSON when refused)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import registry, selectors, services
from ..models import StaticGroup, Tag, TagGroup
from .serializers import (
    CountSerializer,
    MembersSerializer,
    StaticGroupSerializer,
    TagAssignSerializer,
    TagGroupSerializer,
    TagMergeSerializer,
    TagSerializer,
)


class _ServiceViewSet(viewsets.ModelViewSet):
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = r"\d{1,18}"

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = self.service_create(dict(serializer.validated_data))

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = self.service_update(serializer.instance, dict(serializer.validated_data))

    def service_create(self, data: dict[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def service_update(self, obj: Any, data: dict[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@extend_schema_view(
    list=extend_schema(
        summary="List tags",
        parameters=[
            OpenApiParameter(
                "model", str, description='Only tags usable on this model ("customers.account").'
            ),
            OpenApiParameter("q", str, description="Name contains."),
        ],
    ),
    retrieve=extend_schema(summary="Get a tag"),
    create=extend_schema(summary="Create a tag (needs the tag add permission)"),
    update=extend_schema(summary="Replace a tag"),
    partial_update=extend_schema(summary="Change a tag"),
    destroy=extend_schema(summary="Delete a tag (it disappears from every record)"),
)
@extend_schema(tags=["tags"])
class TagViewSet(_ServiceViewSet):
    """Tags (标签): coloured labels, optionally in a group. Every signed-in user may read them;
    managing them needs the tag permissions (administrators hold them)."""

    serializer_class = TagSerializer

    def get_queryset(self) -> QuerySet[Tag]:
        qs = Tag.objects.select_related("group")
        label = str(self.request.query_params.get("model", "")).lower() if self.action == "list" else ""
        if label:
            if not registry.is_taggable(label):
                return qs.none()
            qs = qs.filter(pk__in=[t.pk for t in selectors.applicable_tags(label, active_only=False)])
        q = str(self.request.query_params.get("q", ""))[:50].strip() if self.action == "list" else ""
        if q:
            qs = qs.filter(name__icontains=q)
        return qs

    def service_create(self, data: dict[str, Any]) -> Tag:
        data.pop("version", None)
        return services.tag_create(by=self.request.user, data=data)

    def service_update(self, obj: Tag, data: dict[str, Any]) -> Tag:
        version = data.pop("version", None)
        return services.tag_update(tag=obj, by=self.request.user, data=data, version=version)

    def perform_destroy(self, instance: Tag) -> None:
        services.tag_delete(tag=instance, by=self.request.user)

    @extend_schema(
        summary="Merge this tag into another", request=TagMergeSerializer, responses=CountSerializer
    )
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Replace this tag by `target` on every record, then delete it."""
        source = self.get_object()
        body = TagMergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        count = services.tag_merge(source=source, target=body.validated_data["target"], by=request.user)
        return Response({"count": count})


@extend_schema_view(
    list=extend_schema(summary="List tag groups"),
    retrieve=extend_schema(summary="Get a tag group"),
    create=extend_schema(summary="Create a tag group"),
    update=extend_schema(summary="Replace a tag group"),
    partial_update=extend_schema(summary="Change a tag group"),
    destroy=extend_schema(summary="Delete a tag group (its tags become ungrouped)"),
)
@extend_schema(tags=["tags"])
class TagGroupViewSet(_ServiceViewSet):
    """Tag groups (标签组); an exclusive group allows one of its tags per record."""

    serializer_class = TagGroupSerializer
    queryset = TagGroup.objects.all()

    def service_create(self, data: dict[str, Any]) -> TagGroup:
        data.pop("version", None)
        return services.tag_group_create(by=self.request.user, data=data)

    def service_update(self, obj: TagGroup, data: dict[str, Any]) -> TagGroup:
        version = data.pop("version", None)
        return services.tag_group_update(group=obj, by=self.request.user, data=data, version=version)

    def perform_destroy(self, instance: TagGroup) -> None:
        services.tag_group_delete(group=instance, by=self.request.user)


class _AssignView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    remove = False

    @extend_schema(request=TagAssignSerializer, responses={200: CountSerializer})
    def post(self, request: Request) -> Response:
        body = TagAssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        model = registry.get_model(data["model"])
        assert model is not None
        fn = services.tags_remove if self.remove else services.tags_add
        count = fn(model=model, ids=data["ids"], tags=data["tags"], by=request.user)
        return Response({"count": count}, status=status.HTTP_200_OK)


@extend_schema(tags=["tags"], summary="Put tags on records")
class TagAssignView(_AssignView):
    """Put `tags` on the records `ids` of `model` you may change (others are skipped); a tag of an
    exclusive group replaces the group's other tag. `count`: tags newly put on records."""


@extend_schema(tags=["tags"], summary="Take tags off records")
class TagUnassignView(_AssignView):
    """Take `tags` off the records `ids` of `model` you may change. `count`: tags removed."""

    remove = True


@extend_schema_view(
    list=extend_schema(summary="List static groups you may see (yours and shared ones)"),
    retrieve=extend_schema(summary="Get a static group"),
    create=extend_schema(summary="Create a static group"),
    update=extend_schema(summary="Replace a static group (owner only)"),
    partial_update=extend_schema(summary="Change a static group (owner only)"),
    destroy=extend_schema(summary="Delete a static group (owner only; records are kept)"),
)
@extend_schema(tags=["tags"])
class StaticGroupViewSet(_ServiceViewSet):
    """Static groups (静态分组): hand-picked records of one model. List their members with the
    model's own list filter `?group=<id>`."""

    serializer_class = StaticGroupSerializer

    def get_queryset(self) -> QuerySet[StaticGroup]:
        return selectors.static_groups_visible(self.request.user).order_by("-id")

    def service_create(self, data: dict[str, Any]) -> StaticGroup:
        data.pop("version", None)
        return services.static_group_create(by=self.request.user, data=data)

    def service_update(self, obj: StaticGroup, data: dict[str, Any]) -> StaticGroup:
        version = data.pop("version", None)
        return services.static_group_update(group=obj, by=self.request.user, data=data, version=version)

    def perform_destroy(self, instance: StaticGroup) -> None:
        services.static_group_delete(group=instance, by=self.request.user)

    @extend_schema(summary="Add records to the group", request=MembersSerializer, responses=CountSerializer)
    @action(detail=True, methods=["post"], url_path="members/add")
    def members_add(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Records you may view are added (others skipped). `count`: newly added."""
        group = self.get_object()
        body = MembersSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(
            {"count": services.static_group_add(group=group, ids=body.validated_data["ids"], by=request.user)}
        )

    @extend_schema(
        summary="Remove records from the group", request=MembersSerializer, responses=CountSerializer
    )
    @action(detail=True, methods=["post"], url_path="members/remove")
    def members_remove(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        group = self.get_object()
        body = MembersSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        count = services.static_group_remove(group=group, ids=body.validated_data["ids"], by=request.user)
        return Response({"count": count})
