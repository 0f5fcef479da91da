"""/api/: v1 routes of every app, the OpenAPI schema and the offline Swagger UI.

(No ReDoc page: drf-spectacular's ReDoc template loads fonts from a CDN, and Kehu works offline.)"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

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
    path("sales/", include("kehu.sales.api.urls")),
    path("dedup/", include("kehu.dedup.api.urls")),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
