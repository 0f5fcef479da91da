from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("log/", views.OperationLogView.as_view(), name="operation_log"),
    path("history/<str:model_label>/<int:pk>/", views.ObjectHistoryView.as_view(), name="object_history"),
    path("timeline/<str:model_label>/<int:pk>/", views.RecordTimelineView.as_view(), name="record_timeline"),
]
