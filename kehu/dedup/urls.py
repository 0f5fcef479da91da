from django.urls import path

from . import views

app_name = "dedup"

urlpatterns = [
    path("policies/", views.PolicyView.as_view(), name="policies"),
    path("rebuild-keys/", views.RebuildKeysView.as_view(), name="rebuild_keys"),
]
