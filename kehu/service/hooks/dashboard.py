"""Registrations of the service app's dashboard area: the "Service dashboard" menu item, first in
the "service" group (it needs ticket view)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from kehu.core import navigation

    group = navigation.register_group("service", _("Service"), icon="headset", order=18)
    if any(item.url_name == "service:dashboard" for item in group.items):
        return
    group.items.insert(
        0,
        navigation.MenuItem(
            _("Service dashboard"), "service:dashboard", icon="chart-pie", requires=("service.ticket", "view")
        ),
    )
