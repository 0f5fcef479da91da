"""Views that exist only for the platform tests (error shape, schema generation): no models."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import include, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.core.errors import ConflictError, DomainError
from kehu.core.models import Job


class GadgetSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=20)
    count = serializers.IntegerField(min_value=0)


class GadgetViewSet(viewsets.ViewSet):
    """A list/detail/create/update/delete resource without a database."""

    serializer_class = GadgetSerializer

    def list(self, request: Request) -> Response:
        return Response([{"id": 1, "name": "one", "count": 1}])

    def create(self, request: Request) -> Response:
        serializer = GadgetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["name"] == "taken":
            raise ConflictError("This name is taken.", code="name_taken", fields={"name": ["Taken."]})
        if serializer.validated_data["name"] == "domain":
            raise DomainError("Not allowed here.", code="not_here")
        return Response({"id": 2, **serializer.validated_data}, status=201)

    def retrieve(self, request: Request, pk: str) -> Response:
        if pk != "1":
            raise Http404
        return Response({"id": 1, "name": "one", "count": 1})

    def destroy(self, request: Request, pk: str) -> Response:
        return Response(status=204)


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = ["id", "kind", "status"]


class JobList(generics.ListAPIView):
    """Paginated by the default keyset (cursor) pagination."""

    serializer_class = JobSerializer

    def get_queryset(self) -> Any:
        return Job.objects.restrict(self.request.user, "view")


@extend_schema(responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def job_exists(request: Request, number: str) -> Response:
    """Looks a number up in the database as given (like a filter would)."""
    return Response(
        {"exists": Job.objects.restrict(request.user, "view").filter(pk__in=[int(number)]).exists()}
    )


@extend_schema(responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
@permission_classes([AllowAny])
def ping(request: Request) -> Response:
    return Response({"pong": True})


router = SimpleRouter()
router.register("gadgets", GadgetViewSet, basename="gadget")

urlpatterns: list[Any] = [
    path("api/v1/", include(router.urls)),
    path("api/v1/ping/", ping, name="ping"),
    path("api/v1/jobs/", JobList.as_view(), name="jobs"),
    path("api/v1/jobs/exists/<str:number>/", job_exists, name="job-exists"),
]
