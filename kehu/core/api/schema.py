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

A higher app documents the conflicts its write checks add to a lower app's endpoints with
``register_write_conflict(model_label, response=..., confirm=...)`` (the dedup app: the collision
check 撞单检查 on accounts, contacts and leads): their create and edit operations then answer 409
with that body (or the plain error body of a stale edit) and take the `confirm` serializer's
fields (``confirm_collisions``) in the request body.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class WriteConflict:
    response: Any  # serializer of the 409 body
    description: str
    confirm: Any = None  # serializer of the request fields that override it


_write_conflicts: dict[str, WriteConflict] = {}
CONFLICT_ACTIONS = frozenset({"create", "update", "partial_update"})


def register_write_conflict(
    model_label: str, *, response: Any, description: str, confirm: Any = None
) -> None:
    """Document a write check's 409 answer (and its confirm fields) on the model's create and edit
    operations (called from the checking app's ``ready()``)."""
    _write_conflicts[model_label.lower()] = WriteConflict(response, description, confirm)


class KehuAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the documented error responses of every operation."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses: dict[str, Any] = operation.setdefault("responses", {})
        self._add_write_conflict(operation, responses)
        for code in self.error_statuses(operation):
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
                responses[code]["description"] = DESCRIPTIONS[code]
        return operation

    def _add_write_conflict(self, operation: dict[str, Any], responses: dict[str, Any]) -> None:
        model = getattr(self.view, "model", None)
        conflict = _write_conflicts.get(model._meta.label_lower) if model is not None else None
        if conflict is None or getattr(self.view, "action", None) not in CONFLICT_ACTIONS:
            return
        if "409" not in responses:
            collision = self.resolve_serializer(conflict.response, "response").ref
            plain = self.resolve_serializer(ErrorSerializer, "response").ref
            responses["409"] = {
                "content": {"application/json": {"schema": {"anyOf": [collision, plain]}}},
                "description": f"{conflict.description} {DESCRIPTIONS['409']}",
            }
        body = operation.get("requestBody")
        if conflict.confirm is None or not body:
            return
        request_serializer = self.get_request_serializer()
        fields = None if isinstance(request_serializer, type) else getattr(request_serializer, "fields", None)
        have = set(fields or {})
        if set(conflict.confirm().fields) <= have:
            return  # the view's own serializer documents them
        confirm = self.resolve_serializer(conflict.confirm, "request").ref
        for media in body.get("content", {}).values():
            media["schema"] = {"allOf": [media["schema"], confirm]}

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
