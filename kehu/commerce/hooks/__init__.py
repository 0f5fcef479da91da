"""Each area of the commerce app registers its timeline events, notification kinds, menu items,
360° panels, search providers, jobs and exporters in its own module's `register()`."""

from __future__ import annotations

from importlib import import_module

AREAS = ("quotes", "approvals", "pdf", "contracts", "orders", "payments", "account360", "exports")


def register_all() -> None:
    for area in AREAS:
        import_module(f"{__name__}.{area}").register()
