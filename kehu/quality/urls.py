from django.urls import path

from . import views

app_name = "quality"

urlpatterns = [
    path("", views.QualityView.as_view(), name="index"),
    path("<str:model>/invalid/", views.InvalidCountsView.as_view(), name="invalid"),
    path("<str:model>/records/", views.RecordsView.as_view(), name="records"),
]
