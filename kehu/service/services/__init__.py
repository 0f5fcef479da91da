"""Writes of the service app, one module per aggregate; the calendar services are re-exported here
(``from kehu.service import services; services.calendar_create(...)``)."""

from .calendars import (
    calendar_add_hours,
    calendar_create,
    calendar_day_delete,
    calendar_day_set,
    calendar_days_copy,
    calendar_days_load_holidays,
    calendar_delete,
    calendar_make_default,
    calendar_set_days,
    calendar_set_hours,
    calendar_set_week,
    calendar_update,
    check_intervals,
    working_hours_delete,
)
from .common import ServiceError

__all__ = [
    "ServiceError",
    "calendar_add_hours",
    "calendar_create",
    "calendar_day_delete",
    "calendar_day_set",
    "calendar_days_copy",
    "calendar_days_load_holidays",
    "calendar_delete",
    "calendar_make_default",
    "calendar_set_days",
    "calendar_set_hours",
    "calendar_set_week",
    "calendar_update",
    "check_intervals",
    "working_hours_delete",
]
