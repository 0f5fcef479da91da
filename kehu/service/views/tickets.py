"""Web views of the service app: tickets (the list, kanban, detail and actions are being built;
these placeholders give the routes their names)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path


def _placeholder(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    raise Http404


urlpatterns: list[URLPattern] = [
    path("tickets/", _placeholder, name="ticket_list"),
    path("tickets/<int:pk>/", _placeholder, name="ticket_detail"),
]
