from __future__ import annotations

from django.urls import URLPattern
from rest_framework.routers import SimpleRouter


def register(router: SimpleRouter) -> None:
    """Register this area's viewsets on the sales API router."""


urlpatterns: list[URLPattern] = []
