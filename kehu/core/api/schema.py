"""OpenAPI schema generation: every operation documents the error responses it can give.

Set as REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]. The error body is always
`kehu.core.api.errors.ErrorSerializer` (`{"code", "message", "fields"}`), which is what
`kehu.core.api.errors.exception_handler` answers, so schemathesis can check every response
against the schema. Views keep full control: a status an `@extend_schema(responses=...)`
already documents is never replaced.

Which statuses an operation gets:
- 400 when it takes a request body or query parameters (validation errors, bad filters, NUL
  characters, malformed JSON);
- 401 always (a missing, invalid, revoked or expired token is refused before any permission
  check, even on open endpoints);
- 403 when the view needs a permission beyond "anyone" or the method writes (CSRF on sessions);
- 404 when the path names an object (out-of-scope objects answer 404 as well) or the list is
  cursor-paginated (an invalid cursor answers 404, as DRF's CursorPagination does);
- 409 when the method writes (stale edits, state conflicts: `kehu.core.errors.ConflictError`).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny

from .errors import ErrorSerializer

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

DESCRIPTIONS = {
    "400": "The request is not valid: see `fields` for messages per field.",
    "401": "Authentication is missing or not valid (send `Authorization: Token <key>`).",
    "403": "You are not allowed to do this.",
    "404": "Not found, or outside your data scope.",
    "409": "The request conflicts with the current state (for example a stale edit).",
}


class KehuAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the documented error responses of every operation."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses: dict[str, Any] = operation.setdefault("responses", {})
        for code in self.error_statuses(operation):
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
                responses[code]["description"] = DESCRIPTIONS[code]
        return operation

    def error_statuses(self, operation: dict[str, Any]) -> list[str]:
        parameters = operation.get("parameters", [])
        has_query = any(p.get("in") == "query" for p in parameters)
        has_path = any(p.get("in") == "path" for p in parameters)
        writes = self.method in WRITE_METHODS
        codes = []
        if writes or has_query or "requestBody" in operation:
            codes.append("400")
        codes.append("401")
        if writes or not self._allows_anyone():
            codes.append("403")
        if has_path or self._is_cursor_paginated():
            codes.append("404")
        if writes:
            codes.append("409")
        return codes

    def _allows_anyone(self) -> bool:
        permissions = self.view.get_permissions()
        return bool(permissions) and all(isinstance(p, AllowAny) for p in permissions)

    def _is_cursor_paginated(self) -> bool:
        if self.method != "GET" or not self._is_list_view():
            return False
        paginator = self._get_paginator()
        return isinstance(paginator, CursorPagination)
