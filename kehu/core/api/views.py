from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.core import services
from kehu.core.choices import Action
from kehu.core.filtersets import JobFilterSet
from kehu.core.models import Job

from .serializers import JobSerializer


@extend_schema(tags=["jobs"])
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background jobs: your own (the list's default), or every job you may see with `scope=all`."""

    serializer_class = JobSerializer
    filterset_class = JobFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> Any:
        return Job.objects.restrict(self.request.user, Action.VIEW).select_related("owner")

    def filter_queryset(self, queryset: Any) -> Any:
        # The filters (and the "mine" default) shape the list; a detail URL finds any visible job.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    @extend_schema(request=None, responses={200: JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a pending or running job (409 when it has already ended)."""
        job = get_object_or_404(Job.objects.restrict(request.user, Action.CHANGE), pk=pk)
        job = services.job_cancel(job=job, by=request.user)
        return Response(self.get_serializer(job).data)
