"""Hooks of the approvals area: timeline events, notification kinds, menu items, jobs."""

from __future__ import annotations


def register() -> None:
    """Register this area's hooks (called from CommerceConfig.ready)."""
