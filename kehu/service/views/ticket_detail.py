"""Web views of the service app: one ticket (its page, the new-ticket form and the actions)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path


def _placeholder(request: HttpRequest, pk: int) -> HttpResponse:
    raise Http404


urlpatterns: list[URLPattern] = [
    path("tickets/<int:pk>/", _placeholder, name="ticket_detail"),
]
