from django.contrib import admin
from django.urls import include, path

from kehu.core import views as core_views

urlpatterns = [
    path("", core_views.HomeView.as_view(), name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("config.api")),
    path("", include("kehu.core.urls")),
    path("", include("kehu.users.urls")),
    path("audit/", include("kehu.audit.urls")),
    path("notifications/", include("kehu.notifications.urls")),
    path("settings/custom-fields/", include("kehu.customfields.urls")),
    path("customers/", include("kehu.customers.urls")),
    path("", include("kehu.tags.urls")),
    path("quality/", include("kehu.quality.urls")),
    path("activities/", include("kehu.activities.urls")),
    path("catalog/", include("kehu.catalog.urls")),
    path("sales/", include("kehu.sales.urls")),
    path("commerce/", include("kehu.commerce.urls")),
    path("service/", include("kehu.service.urls")),
    path("help/", include("kehu.service.urls_public")),
    path("dedup/", include("kehu.dedup.urls")),
    path("imports/", include("kehu.imports.urls")),
]

# JSON error bodies under /api/ (HTML pages elsewhere), also for URLs that match no route.
handler400 = "kehu.core.api.errors.api_bad_request"
handler403 = "kehu.core.api.errors.api_permission_denied"
handler404 = "kehu.core.api.errors.api_page_not_found"
handler500 = "kehu.core.api.errors.api_server_error"

# MEDIA is never served publicly, not even with DEBUG: job result and error files are downloaded
# through views that check who may see them.
