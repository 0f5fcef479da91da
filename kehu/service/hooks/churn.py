"""Registrations of the service app's churn area: timeline events, notification kinds, menu items,
360° panels, search providers, jobs, exporters, audit and permissions."""

from __future__ import annotations


def register() -> None:
    return None
