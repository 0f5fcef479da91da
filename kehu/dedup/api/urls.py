from django.urls import path

from . import merge, views

urlpatterns = [
    path("check/", views.CheckView.as_view(), name="dedup-check"),
    path("merge/", merge.MergeView.as_view(), name="dedup-merge"),
    path("policies/", views.PolicyListView.as_view(), name="dedup-policy-list"),
    path("policies/<str:model>/", views.PolicyDetailView.as_view(), name="dedup-policy-detail"),
]
