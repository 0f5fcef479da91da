from django.urls import path

from . import views

app_name = "users"

urlpatterns = [
    path("me/", views.ProfileView.as_view(), name="profile"),
    path("me/tokens/", views.token_create, name="token_create"),
    path("me/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("settings/users/", views.user_list, name="user_list"),
    path("settings/users/new/", views.user_create, name="user_create"),
    path("settings/users/<int:pk>/", views.user_detail, name="user_detail"),
    path("settings/users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("settings/users/<int:pk>/password/", views.user_password, name="user_password"),
    path(
        "settings/users/<int:pk>/deactivate/",
        views.user_set_active,
        {"active": False},
        name="user_deactivate",
    ),
    path("settings/users/<int:pk>/activate/", views.user_set_active, {"active": True}, name="user_activate"),
    path("settings/users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
    path("settings/departments/", views.department_list, name="department_list"),
    path("settings/departments/new/", views.department_create, name="department_create"),
    path("settings/departments/<int:pk>/edit/", views.department_edit, name="department_edit"),
    path("settings/departments/<int:pk>/move/", views.department_move, name="department_move"),
    path("settings/departments/<int:pk>/delete/", views.department_delete, name="department_delete"),
    path("settings/roles/", views.role_list, name="role_list"),
    path("settings/roles/new/", views.role_create, name="role_create"),
    path("settings/roles/<int:pk>/", views.role_detail, name="role_detail"),
    path("settings/roles/<int:pk>/edit/", views.role_edit, name="role_edit"),
    path("settings/roles/<int:pk>/delete/", views.role_delete, name="role_delete"),
]
