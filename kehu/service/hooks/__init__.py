"""Each area of the service app registers its timeline events, notification kinds, menu items,
360° panels, search providers, jobs and exporters in its own module's `register()`."""

from __future__ import annotations

from importlib import import_module

AREAS = (
    "calendars",
    "tickets",
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


def register_all() -> None:
    for area in AREAS:
        import_module(f"{__name__}.{area}").register()
