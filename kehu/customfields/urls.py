from django.urls import path

from . import views

app_name = "customfields"

urlpatterns = [
    path("", views.FieldListView.as_view(), name="field_list"),
    path("new/", views.FieldFormView.as_view(), name="field_add"),
    path("reorder/", views.FieldReorderView.as_view(), name="field_reorder"),
    path("<int:pk>/edit/", views.FieldFormView.as_view(), name="field_edit"),
    path("<int:pk>/deactivate/", views.FieldActionView.as_view(action="deactivate"), name="field_deactivate"),
    path("<int:pk>/reactivate/", views.FieldActionView.as_view(action="reactivate"), name="field_reactivate"),
    path("<int:pk>/delete/", views.FieldDeleteView.as_view(), name="field_delete"),
    path("picklists/", views.PicklistListView.as_view(), name="picklist_list"),
    path("picklists/new/", views.PicklistFormView.as_view(), name="picklist_add"),
    path("picklists/<int:pk>/", views.PicklistDetailView.as_view(), name="picklist_detail"),
    path("picklists/<int:pk>/edit/", views.PicklistFormView.as_view(), name="picklist_edit"),
    path("picklists/<int:pk>/delete/", views.PicklistDeleteView.as_view(), name="picklist_delete"),
    path("picklists/<int:picklist_pk>/items/new/", views.ItemFormView.as_view(), name="item_add"),
    path("picklists/<int:picklist_pk>/items/reorder/", views.ItemReorderView.as_view(), name="item_reorder"),
    path("items/<int:pk>/edit/", views.ItemFormView.as_view(), name="item_edit"),
    path(
        "items/<int:pk>/deactivate/",
        views.ItemActionView.as_view(action="deactivate"),
        name="item_deactivate",
    ),
    path(
        "items/<int:pk>/reactivate/",
        views.ItemActionView.as_view(action="reactivate"),
        name="item_reactivate",
    ),
    path("items/<int:pk>/delete/", views.ItemDeleteView.as_view(), name="item_delete"),
    path("standards/", views.StandardsView.as_view(), name="standards"),
    path("standards/<str:model>/", views.StandardsView.as_view(), name="standards_model"),
    path(
        "standards/<str:model>/recompute/", views.StandardsRecomputeView.as_view(), name="standards_recompute"
    ),
    path("standards/<str:model>/fields/<str:key>/", views.StandardsRowView.as_view(), name="standards_field"),
    path(
        "standards/<str:model>/fields/<str:key>/pattern/",
        views.StandardsPatternView.as_view(),
        name="standards_pattern",
    ),
]
