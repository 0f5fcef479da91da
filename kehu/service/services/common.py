"""What every service module of the service app shares."""

from __future__ import annotations

from kehu.core.errors import DomainError


class ServiceError(DomainError):
    """A refused write of the service app: a translated message, field errors, a code."""

    DEFAULT_CALENDAR = "default_calendar"
    BAD_HOURS = "bad_hours"
    UNKNOWN_YEAR = "unknown_year"
    NOT_ALLOWED = "not_allowed"
    BAD_TRANSITION = "bad_transition"
    STALE = "stale"
    DUPLICATE = "duplicate"
