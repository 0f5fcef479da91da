from django.urls import path

from . import views

app_name = "service"

urlpatterns = [
    path("calendars/", views.calendar_list_view, name="calendar_list"),
    path("calendars/add/", views.calendar_edit_view, name="calendar_add"),
    path("calendars/<int:pk>/", views.calendar_detail_view, name="calendar_detail"),
    path("calendars/<int:pk>/edit/", views.calendar_edit_view, name="calendar_edit"),
    path("calendars/<int:pk>/delete/", views.calendar_delete_view, name="calendar_delete"),
    path("calendars/<int:pk>/hours/", views.hours_add_view, name="calendar_hours_add"),
    path(
        "calendars/<int:pk>/hours/<int:hours>/delete/", views.hours_delete_view, name="calendar_hours_delete"
    ),
    path("calendars/<int:pk>/days/", views.day_add_view, name="calendar_day_add"),
    path("calendars/<int:pk>/days/<int:day>/delete/", views.day_delete_view, name="calendar_day_delete"),
    path("calendars/<int:pk>/days/load-holidays/", views.load_holidays_view, name="calendar_load_holidays"),
    path("calendars/<int:pk>/days/copy/", views.days_copy_view, name="calendar_days_copy"),
    path("calendars/<int:pk>/calculator/", views.calculator_view, name="calendar_calculator"),
]
