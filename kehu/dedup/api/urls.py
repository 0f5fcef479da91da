from django.urls import path

from . import views

urlpatterns = [
    path("check/", views.CheckView.as_view(), name="dedup-check"),
    path("policies/", views.PolicyListView.as_view(), name="dedup-policy-list"),
    path("policies/<str:model>/", views.PolicyDetailView.as_view(), name="dedup-policy-detail"),
]
