from importlib import import_module

from django.urls import path

from .views import calendars

app_name = "service"

AREAS = (
    "tickets",
    "ticket_detail",
    "queues",
    "settings",
    "sla",
    "knowledge",
    "mail",
    "surveys",
    "churn",
    "public",
    "dashboard",
)

urlpatterns = [
    path("calendars/", calendars.calendar_list_view, name="calendar_list"),
    path("calendars/add/", calendars.calendar_edit_view, name="calendar_add"),
    path("calendars/<int:pk>/", calendars.calendar_detail_view, name="calendar_detail"),
    path("calendars/<int:pk>/edit/", calendars.calendar_edit_view, name="calendar_edit"),
    path("calendars/<int:pk>/delete/", calendars.calendar_delete_view, name="calendar_delete"),
    path("calendars/<int:pk>/hours/", calendars.hours_add_view, name="calendar_hours_add"),
    path(
        "calendars/<int:pk>/hours/<int:hours>/delete/",
        calendars.hours_delete_view,
        name="calendar_hours_delete",
    ),
    path("calendars/<int:pk>/days/", calendars.day_add_view, name="calendar_day_add"),
    path("calendars/<int:pk>/days/<int:day>/delete/", calendars.day_delete_view, name="calendar_day_delete"),
    path(
        "calendars/<int:pk>/days/load-holidays/", calendars.load_holidays_view, name="calendar_load_holidays"
    ),
    path("calendars/<int:pk>/days/copy/", calendars.days_copy_view, name="calendar_days_copy"),
    path("calendars/<int:pk>/calculator/", calendars.calculator_view, name="calendar_calculator"),
]
for _area in AREAS:
    urlpatterns += import_module(f"{__package__}.views.{_area}").urlpatterns
