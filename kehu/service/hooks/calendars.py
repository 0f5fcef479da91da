"""Registrations of business calendars: permissions, audit, the settings menu item."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from kehu.audit import registry as audit_registry
    from kehu.core import navigation, permissions
    from kehu.core.choices import Action

    from ..models import BusinessCalendar, CalendarDay, WorkingHours

    # Administrators maintain business calendars; everyone else may be granted "view".
    permissions.register(
        BusinessCalendar,
        actions=(Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE),
        group=_("Service"),
    )
    audit_registry.register(BusinessCalendar)
    audit_registry.register(WorkingHours, parent="calendar")
    audit_registry.register(CalendarDay, parent="calendar")

    navigation.register_item(
        "settings",
        navigation.MenuItem(
            _("Business calendars"),
            "service:calendar_list",
            icon="calendar-time",
            requires=("service.businesscalendar", "view"),
        ),
    )
