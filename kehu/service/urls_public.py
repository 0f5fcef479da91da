"""Customer-facing pages (no login): the FAQ, the web form to submit a ticket, a ticket's status
page through a signed link, and survey answers. Mounted at /help/; each area's view module
offers its `public_urlpatterns`."""

from importlib import import_module

from django.urls import URLPattern, URLResolver

app_name = "help"

AREAS = ("knowledge", "public", "surveys")

urlpatterns: list[URLPattern | URLResolver] = []
for _area in AREAS:
    urlpatterns += getattr(import_module(f"kehu.service.views.{_area}"), "public_urlpatterns", [])
