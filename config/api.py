"""/api/: v1 routes of every app, the OpenAPI schema and the offline Swagger UI.

(No ReDoc page: drf-spectacular's ReDoc template loads fonts from a CDN, and Kehu works offline.)"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from django.apps import apps
from django.db import DatabaseError
from django.urls import include, path
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

# The models whose rows the schema shows (the custom fields extension lists each active custom field).
SCHEMA_DATA_MODELS = ("customfields.CustomField", "customfields.Picklist", "customfields.PicklistItem")


def _schema_data_fingerprint() -> str:
    """A digest of every row of SCHEMA_DATA_MODELS (small tables, one query each): the cached schema
    is generated again when an administrator changes a custom field, in every process."""
    digest = hashlib.blake2b(digest_size=16)
    try:
        for label in SCHEMA_DATA_MODELS:
            model = apps.get_model(label)
            columns = [f.attname for f in model._meta.concrete_fields]
            digest.update(repr(list(model._base_manager.order_by("pk").values_list(*columns))).encode())
    except DatabaseError:  # no database: the generator falls back alike (see CustomFieldsFieldExtension)
        return "no-database"
    return digest.hexdigest()


class _MemoRenderer:
    """Renders the schema once per key and media type; otherwise the renderer it wraps."""

    def __init__(self, renderer: BaseRenderer, key: tuple[Any, ...], fingerprint: str) -> None:
        self._renderer = renderer
        self._key = key
        self._fingerprint = fingerprint

    def __getattr__(self, name: str) -> Any:
        return getattr(self._renderer, name)

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> Any:
        key = (*self._key, type(self._renderer), accepted_media_type)
        cached = CachedSchemaView.rendered.get(key)
        if cached is not None and cached[0] == self._fingerprint:
            return cached[1]
        content = self._renderer.render(data, accepted_media_type, renderer_context)
        CachedSchemaView.rendered[key] = (self._fingerprint, content)
        return content


class CachedSchemaView(SpectacularAPIView):
    """/api/schema/, generated (and rendered, per format) once per language and API version for the
    life of the process: the code it describes changes only with a restart. The schema is public
    (SERVE_PUBLIC), the same for every user; only custom field definitions, read from the database,
    change it at run time, so a digest of them is part of the check (see _schema_data_fingerprint)."""

    schemas: ClassVar[dict[tuple[Any, ...], tuple[str, dict[str, Any]]]] = {}
    rendered: ClassVar[dict[tuple[Any, ...], tuple[str, Any]]] = {}

    def _get_schema_response(self, request: Request) -> Response:
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (translation.get_language(), version)
        fingerprint = _schema_data_fingerprint()
        cached = self.schemas.get(key)
        if cached is None or cached[0] != fingerprint:
            generator = self.generator_class(
                urlconf=self.urlconf, api_version=version, patterns=self.patterns
            )
            cached = (fingerprint, generator.get_schema(request=request, public=self.serve_public))
            self.schemas[key] = cached
        self._schema_key = (key, fingerprint)
        return Response(
            data=cached[1],
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        schema_key = getattr(self, "_schema_key", None)
        if schema_key is not None and response.status_code == 200:
            response.accepted_renderer = _MemoRenderer(response.accepted_renderer, *schema_key)
        return response

    @classmethod
    def clear(cls) -> None:
        cls.schemas.clear()
        cls.rendered.clear()


v1 = [
    path("", include("kehu.users.api.urls")),
    path("core/", include("kehu.core.api.urls")),
    path("audit/", include("kehu.audit.api.urls")),
    path("notifications/", include("kehu.notifications.api.urls")),
    path("custom-fields/", include("kehu.customfields.api.urls")),
    path("customers/", include("kehu.customers.api.urls")),
    path("tags/", include("kehu.tags.api.urls")),
    path("search/", include("kehu.search.api.urls")),
    path("activities/", include("kehu.activities.api.urls")),
    path("catalog/", include("kehu.catalog.api.urls")),
    path("sales/", include("kehu.sales.api.urls")),
    path("commerce/", include("kehu.commerce.api.urls")),
    path("service/", include("kehu.service.api.urls")),
    path("dedup/", include("kehu.dedup.api.urls")),
    path("imports/", include("kehu.imports.api.urls")),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", CachedSchemaView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
