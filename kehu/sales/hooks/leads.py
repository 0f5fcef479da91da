from __future__ import annotations


def register() -> None:
    """Hooks of the leads area."""
