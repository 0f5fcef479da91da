"""The project's URLs plus the service app's, for the tests: config/urls.py and config/api.py (not
this app's files) do not include kehu.service's routes yet. Once they do
(``path("service/", include("kehu.service.urls"))`` and ``path("service/",
include("kehu.service.api.urls"))`` in the v1 list), the tests can drop their ``urls`` mark."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("service/", include("kehu.service.urls")),
    path("api/v1/service/", include("kehu.service.api.urls")),
    *project_urlpatterns,
]
