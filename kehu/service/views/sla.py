"""Web views of the service app: sla (filled in by its area)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
