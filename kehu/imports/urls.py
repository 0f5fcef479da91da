from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("new/", views.import_new, name="new"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/file/", views.import_file, name="file"),
    path("<int:pk>/preview/", views.import_preview, name="preview"),
    path("<int:pk>/mapping/", views.import_mapping, name="mapping"),
    path("<int:pk>/options/", views.import_options, name="options"),
    path("<int:pk>/check/", views.import_check, name="check"),
    path("<int:pk>/check/start/", views.import_check_start, name="check_start"),
    path("<int:pk>/run/", views.import_run, name="run"),
    path("<int:pk>/run/start/", views.import_run_start, name="run_start"),
    path("<int:pk>/result/", views.import_result, name="result"),
    path("<int:pk>/undo/", views.import_undo, name="undo"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/errors/", views.import_error_file, name="error_file"),
]
