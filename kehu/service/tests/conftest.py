"""Fixtures shared by the service app's tests."""

from .ticket_fixtures import tickets_granted

__all__ = ["tickets_granted"]
