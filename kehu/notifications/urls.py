from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.NotificationListView.as_view(), name="list"),
    path("badge/", views.badge, name="badge"),
    path("dropdown/", views.dropdown, name="dropdown"),
    path("preferences/", views.preferences, name="preferences"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("<int:pk>/", views.open_notification, name="open"),
    path("<int:pk>/read/", views.mark_read, name="mark_read"),
]
