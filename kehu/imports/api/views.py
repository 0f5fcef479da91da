"""/api/v1/imports/: the import wizard through the API — upload, read again, map, dry run, run,
undo — calling the same services as the pages. Errors: {code, message, fields}."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.parsers import StrictJSONParser
from kehu.core.api.serializers import JobSerializer

from .. import selectors, services
from ..models import ImportJob
from .serializers import (
    ImportCreateSerializer,
    ImportJobSerializer,
    ImportMappingSerializer,
    ImportPreviewRowSerializer,
    ImportRereadSerializer,
    ImportTargetSerializer,
)

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
ERRORS_409 = {**ERRORS, 409: ErrorSerializer}


@extend_schema(tags=["imports"])
class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Imports you may see: your own, and those a role lets you see."""

    serializer_class = ImportJobSerializer
    lookup_value_regex = r"\d+"
    parser_classes = [StrictJSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        return selectors.import_list(user=self.request.user).select_related("job__owner")

    def get_object(self) -> ImportJob:
        job = selectors.import_get(user=self.request.user, pk=self.kwargs.get("pk"))
        if job is None:
            raise Http404
        return job

    def _answer(self, job: ImportJob, status: int = 200) -> Response:
        job = ImportJob.objects.select_related("job__owner").get(pk=job.pk)
        return Response(ImportJobSerializer(job, context=self.get_serializer_context()).data, status=status)

    @extend_schema(
        summary="Upload a file (multipart)",
        request={"multipart/form-data": ImportCreateSerializer},
        responses={201: ImportJobSerializer, **ERRORS},
    )
    def create(self, request: Request) -> Response:
        """Store and read the file; what was detected and the proposed mapping come back."""
        body = ImportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        job = services.import_create(
            by=request.user, target=body.validated_data["target"], upload=upload, filename=upload.name
        )
        return self._answer(job, 201)

    @extend_schema(summary="Record types you may import", responses={200: ImportTargetSerializer(many=True)})
    @action(detail=False, methods=["get"], pagination_class=None)
    def targets(self, request: Request) -> Response:
        return Response([{"target": t, "name": n} for t, n in selectors.import_targets(user=request.user)])

    @extend_schema(
        summary="Read the file again with overrides",
        request=ImportRereadSerializer,
        responses={200: ImportJobSerializer, **ERRORS_409},
    )
    @action(detail=True, methods=["post"])
    def reread(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        body = ImportRereadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        job = services.import_reread(
            job=job,
            by=request.user,
            encoding=data.get("encoding") or None,
            delimiter=data.get("delimiter") or None,
            header_row=data.get("header_row"),
            sheet=data.get("sheet") or None,
        )
        return self._answer(job)

    @extend_schema(
        summary="The first rows as the mapping converts them",
        responses={200: ImportPreviewRowSerializer(many=True), 404: ErrorSerializer},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def preview(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        rows = selectors.import_preview(job=job)
        return Response(ImportPreviewRowSerializer(rows, many=True).data)

    @extend_schema(
        summary="Set the column mapping and options",
        request=ImportMappingSerializer,
        responses={200: ImportJobSerializer, **ERRORS_409},
    )
    @action(detail=True, methods=["post"])
    def mapping(self, request: Request, pk: str | None = None) -> Response:
        """Field errors name `mapping.<column>`, `mapping` (required fields), `match_key`,
        `assign_to`, `pool_id` and the transform keys."""
        job = self.get_object()
        body = ImportMappingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = services.import_set_mapping(job=job, by=request.user, **body.to_service())
        return self._answer(job)

    @extend_schema(summary="Start the dry run", request=None, responses={202: JobSerializer, **ERRORS_409})
    @action(detail=True, methods=["post"], url_path="dry-run")
    def dry_run(self, request: Request, pk: str | None = None) -> Response:
        """Poll the returned job (/api/v1/core/jobs/{id}/); the import's `dry_run` then holds the counts."""
        core = services.import_dry_run_start(job=self.get_object(), by=request.user)
        return Response(JobSerializer(core, context=self.get_serializer_context()).data, status=202)

    @extend_schema(
        summary="Start (or resume) the import", request=None, responses={202: JobSerializer, **ERRORS_409}
    )
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str | None = None) -> Response:
        core = services.import_run_start(job=self.get_object(), by=request.user)
        return Response(JobSerializer(core, context=self.get_serializer_context()).data, status=202)

    @extend_schema(summary="Undo the import", request=None, responses={202: JobSerializer, **ERRORS_409})
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, pk: str | None = None) -> Response:
        core = services.import_undo_start(job=self.get_object(), by=request.user)
        return Response(JobSerializer(core, context=self.get_serializer_context()).data, status=202)
