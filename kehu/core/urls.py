from django.urls import path

from . import generic, views

app_name = "core"

urlpatterns = [
    path("search/", views.SearchView.as_view(), name="search"),
    path("tables/config/", generic.TableConfigView.as_view(), name="table_config"),
    path("reveal/<str:model>/<int:pk>/<str:field>/", generic.FieldRevealView.as_view(), name="reveal"),
    path("jobs/", views.JobListView.as_view(), name="job_list"),
    path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="job_detail"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<int:pk>/download/<str:which>/", views.job_download, name="job_download"),
    path("exports/start/", views.export_start, name="export_start"),
]
