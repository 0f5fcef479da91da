from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.core.api.mixins import RestrictedModelViewSet
from kehu.core.choices import Action

from .. import services
from ..filtersets import InteractionFilterSet, TaskFilterSet
from ..models import Interaction, Task
from .serializers import InteractionSerializer, TaskActionSerializer, TaskSerializer


@extend_schema_view(
    list=extend_schema(summary="List interactions you may view"),
    retrieve=extend_schema(summary="Get an interaction"),
    create=extend_schema(summary="Log an interaction (a next follow-up time creates a task)"),
    update=extend_schema(summary="Replace an interaction"),
    partial_update=extend_schema(summary="Change an interaction"),
    destroy=extend_schema(summary="Delete an interaction"),
)
@extend_schema(tags=["activities"])
class InteractionViewSet(RestrictedModelViewSet):
    """Interactions (跟进记录): calls, meetings, visits, e-mails, WeChat chats and notes."""

    model = Interaction
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilterSet
    select_related = ("owner", "department", "created_by")

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("participants", "participant_contacts")

    def perform_service_create(self, data: dict[str, Any]) -> Interaction:
        return services.interaction_create(by=self.request.user, data=data)  # type: ignore[arg-type]

    def perform_service_update(
        self, obj: Interaction, data: dict[str, Any], version: int | None
    ) -> Interaction:
        return services.interaction_update(interaction=obj, by=self.request.user, data=data, version=version)  # type: ignore[arg-type]

    def perform_service_delete(self, obj: Interaction) -> None:
        services.interaction_delete(interaction=obj, by=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List tasks you may view"),
    retrieve=extend_schema(summary="Get a task"),
    create=extend_schema(summary="Create a task"),
    update=extend_schema(summary="Replace a task"),
    partial_update=extend_schema(summary="Change a task"),
    destroy=extend_schema(summary="Delete a task"),
)
@extend_schema(tags=["activities"])
class TaskViewSet(RestrictedModelViewSet):
    """Tasks (任务): the owner is the assignee. Completing a repeating task creates the next one."""

    model = Task
    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet
    select_related = ("owner", "department", "created_by")

    def get_queryset(self) -> Any:
        if self.action in ("complete", "reopen", "cancel"):
            return Task.objects.restrict(self.request.user, Action.CHANGE)
        return super().get_queryset()

    def perform_service_create(self, data: dict[str, Any]) -> Task:
        return services.task_create(by=self.request.user, data=data)  # type: ignore[arg-type]

    def perform_service_update(self, obj: Task, data: dict[str, Any], version: int | None) -> Task:
        return services.task_update(task=obj, by=self.request.user, data=data, version=version)  # type: ignore[arg-type]

    def perform_service_delete(self, obj: Task) -> None:
        services.task_delete(task=obj, by=self.request.user)

    def _status(self, request: Request, fn: Any) -> Response:
        obj = self.get_object()
        body = TaskActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = fn(task=obj, by=request.user, version=body.validated_data.get("version"))
        return Response(self._read(task))

    @extend_schema(summary="Mark a task done", request=TaskActionSerializer, responses={200: TaskSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Done (again: no change). A repeating task gets its next occurrence."""
        return self._status(request, services.task_complete)

    @extend_schema(
        summary="Reopen a done or cancelled task",
        request=TaskActionSerializer,
        responses={200: TaskSerializer},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._status(request, services.task_reopen)

    @extend_schema(summary="Cancel a task", request=TaskActionSerializer, responses={200: TaskSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._status(request, services.task_cancel)
