from django.urls import path

from . import generic, listactions, views

app_name = "core"

urlpatterns = [
    path("search/", views.SearchView.as_view(), name="search"),
    path("tables/config/", generic.TableConfigView.as_view(), name="table_config"),
    path("lists/<str:table>/views/add/", listactions.SavedViewAddView.as_view(), name="savedview_add"),
    path("lists/views/<int:pk>/edit/", listactions.SavedViewEditView.as_view(), name="savedview_edit"),
    path("lists/views/<int:pk>/delete/", listactions.SavedViewDeleteView.as_view(), name="savedview_delete"),
    path(
        "lists/views/<int:pk>/default/", listactions.SavedViewDefaultView.as_view(), name="savedview_default"
    ),
    path("lists/<str:table>/bulk/", listactions.BulkActionView.as_view(), name="bulk"),
    path("reveal/<str:model>/<int:pk>/<str:field>/", generic.FieldRevealView.as_view(), name="reveal"),
    path("jobs/", views.JobListView.as_view(), name="job_list"),
    path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="job_detail"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<int:pk>/download/<str:which>/", views.job_download, name="job_download"),
    path("exports/start/", views.export_start, name="export_start"),
]
