"""Domain errors: a stable code, a translated message and optional field errors.

Services raise them; views turn them into form errors and the API into
`{"code": ..., "message": ..., "fields": {...}}` with status 400 or 409.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str | Promise,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = fields or {}

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": str(self.message),
            "fields": {k: [str(m) for m in v] for k, v in self.fields.items()},
        }


class ConflictError(DomainError):
    """The request is valid but clashes with the current state (stale edit, already done)."""

    status = 409
    code = "conflict"


class StaleObjectError(ConflictError):
    code = "stale_object"


class PermissionDeniedError(DomainError):
    """The user may not do this. Raised by services; views answer 403 (or 404 for objects)."""

    status = 403
    code = "permission_denied"


class OutOfScopeError(DomainError):
    """The change would move the record outside the user's own data scope."""

    status = 400
    code = "out_of_scope"
