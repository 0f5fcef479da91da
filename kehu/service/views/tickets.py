"""Web views of the service app: ticket lists (list, kanban, my tickets, queue views)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path


def _placeholder(request: HttpRequest) -> HttpResponse:
    raise Http404


urlpatterns: list[URLPattern] = [
    path("tickets/", _placeholder, name="ticket_list"),
]
