"""Reads of the service app, one module per aggregate; the calendar selectors are re-exported here."""

from .calendars import calendar_list, calendar_week, default_calendar, work_calendar

__all__ = ["calendar_list", "calendar_week", "default_calendar", "work_calendar"]
