"""The project's URLs plus two tiny endpoints that write through a service, so tests can check
that a real request's id, user, IP and source reach the operation log."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from kehu.users.services import department_create


def create_department(request: HttpRequest) -> JsonResponse:
    department = department_create(name=request.POST["name"], by=request.user)  # type: ignore[arg-type]
    return JsonResponse({"id": department.pk})


urlpatterns = [
    path("test-audit/departments/", create_department),
    path("api/test-audit/departments/", create_department),
    *project_urlpatterns,
]
