from django.urls import path

from . import views

app_name = "dedup"

urlpatterns = [
    path("policies/", views.PolicyView.as_view(), name="policies"),
    path("rebuild-keys/", views.RebuildKeysView.as_view(), name="rebuild_keys"),
    path("duplicates/", views.QueueView.as_view(), name="queue"),
    path("duplicates/<int:pk>/", views.GroupView.as_view(), name="group"),
    path("duplicates/<int:pk>/dismiss/", views.GroupDismissView.as_view(), name="group_dismiss"),
    path("duplicates/<int:pk>/merge/", views.GroupMergeView.as_view(), name="group_merge"),
    path("rules/", views.RulesView.as_view(), name="rules"),
    path("rules/reset/", views.RulesResetView.as_view(), name="rules_reset"),
    path("rules/scan/", views.ScanStartView.as_view(), name="scan_start"),
    path("quality-panel/", views.QualityPanelView.as_view(), name="quality_panel"),
]
