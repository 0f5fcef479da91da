from django.urls import path, re_path

from . import views, views_calendar, views_preferences

app_name = "activities"

urlpatterns = [
    path("my-day/", views.MyDayView.as_view(), name="my_day"),
    path("team/", views.TeamView.as_view(), name="team"),
    path("interactions/", views.InteractionListView.as_view(), name="interaction_list"),
    path("interactions/add/", views.InteractionEditView.as_view(), name="interaction_add"),
    path("interactions/<int:pk>/", views.InteractionDetailView.as_view(), name="interaction_detail"),
    path("interactions/<int:pk>/edit/", views.InteractionEditView.as_view(), name="interaction_edit"),
    path("interactions/<int:pk>/delete/", views.InteractionDeleteView.as_view(), name="interaction_delete"),
    path("tasks/", views.TaskListView.as_view(), name="task_list"),
    path("tasks/add/", views.TaskEditView.as_view(), name="task_add"),
    path("tasks/<int:pk>/", views.TaskDetailView.as_view(), name="task_detail"),
    path("tasks/<int:pk>/edit/", views.TaskEditView.as_view(), name="task_edit"),
    path("tasks/<int:pk>/delete/", views.TaskDeleteView.as_view(), name="task_delete"),
    *[
        path(
            f"tasks/<int:pk>/{action}/",
            views.TaskStatusView.as_view(),
            {"action": action},
            name=f"task_{action}",
        )
        for action in ("complete", "reopen", "cancel")
    ],
    path("contacts/autocomplete/", views.ContactAutocompleteView.as_view(), name="contact_autocomplete"),
    path("reminder-defaults/", views_preferences.reminder_defaults, name="reminder_defaults"),
    # Calendar (kehu/activities/views_calendar.py)
    path("calendar/", views_calendar.CalendarView.as_view(), name="calendar"),
    path("calendar/subscribe/", views_calendar.calendar_feed_page, name="calendar_feed"),
    re_path(
        r"^calendar/feed/(?P<token>[A-Za-z0-9_-]{1,100})\.ics$",
        views_calendar.calendar_feed_ics,
        name="calendar_feed_ics",
    ),
]
