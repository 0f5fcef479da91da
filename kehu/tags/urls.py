from django.urls import path

from . import views

app_name = "tags"

urlpatterns = [
    path("settings/tags/", views.TagListView.as_view(), name="tag_list"),
    path("settings/tags/add/", views.TagEditView.as_view(), name="tag_add"),
    path("settings/tags/reorder/", views.TagReorderView.as_view(), name="tag_reorder"),
    path("settings/tags/<int:pk>/edit/", views.TagEditView.as_view(), name="tag_edit"),
    path("settings/tags/<int:pk>/delete/", views.TagDeleteView.as_view(), name="tag_delete"),
    path("settings/tags/<int:pk>/merge/", views.TagMergeView.as_view(), name="tag_merge"),
    path("settings/tags/groups/add/", views.TagGroupEditView.as_view(), name="taggroup_add"),
    path("settings/tags/groups/<int:pk>/edit/", views.TagGroupEditView.as_view(), name="taggroup_edit"),
    path("settings/tags/groups/<int:pk>/delete/", views.TagGroupDeleteView.as_view(), name="taggroup_delete"),
    path("tags/autocomplete/", views.TagAutocompleteView.as_view(), name="autocomplete"),
    path("groups/", views.StaticGroupListView.as_view(), name="group_list"),
    path("groups/add/", views.StaticGroupEditView.as_view(), name="group_add"),
    path("groups/add/<str:model>/<int:pk>/", views.AddToGroupView.as_view(), name="add_to_group"),
    path("groups/<int:pk>/", views.StaticGroupDetailView.as_view(), name="group_detail"),
    path("groups/<int:pk>/edit/", views.StaticGroupEditView.as_view(), name="group_edit"),
    path("groups/<int:pk>/delete/", views.StaticGroupDeleteView.as_view(), name="group_delete"),
    path("groups/<int:pk>/remove/", views.RemoveFromGroupView.as_view(), name="group_remove"),
]
