"""Verbs beyond CRUD on a `RestrictedModelViewSet`: ``POST {id}/<verb>/`` that runs one service on
the record and answers the record as the user may see it afterwards.

* `ERRORS`: the error answers of a write (400 invalid, 403 not allowed, 404 outside scope, 409
  state or stale version), each with the body ``{"code", "message", "fields"}``, for
  ``extend_schema(responses={200: ..., **ERRORS})``.
* `ServiceActionMixin.service_action(run, body)`: load the record (`get_object`: 404 outside the
  scope), validate the request body with the `body` serializer (400 with field errors), call
  ``run(record, values)`` (one service call) and answer 200 with the record re-read through
  ``restrict()`` (`_read`). A `DomainError` the service raises is answered by the API's exception
  handler (`kehu.core.api.errors.exception_handler`) with its status and field errors, and the
  transaction is rolled back: nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import serializers, status
from rest_framework.response import Response

from .errors import ErrorSerializer

ERRORS = {
    status.HTTP_400_BAD_REQUEST: ErrorSerializer,
    status.HTTP_403_FORBIDDEN: ErrorSerializer,
    status.HTTP_404_NOT_FOUND: ErrorSerializer,
    status.HTTP_409_CONFLICT: ErrorSerializer,
}

Values = dict[str, Any]


class ServiceActionMixin:
    """For viewsets with `get_object` and `_read` (`kehu.core.api.mixins.RestrictedModelViewSet`)."""

    request: Any
    get_object: Callable[[], Any]
    _read: Callable[[Any], Any]

    def action_values(self, body: type[serializers.Serializer]) -> Values:
        """The request body validated by the `body` serializer (400 with field errors)."""
        serializer = body(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def service_action(
        self,
        run: Callable[[Any, Values], Any],
        body: type[serializers.Serializer] | None = None,
        *,
        target: Callable[[], Any] | None = None,
        answer: Callable[[Any], Any] | None = None,
        status_code: int = status.HTTP_200_OK,
    ) -> Response:
        """Run ``run(record, values)`` on the record of the URL and answer the record it returns.

        `target` loads the record instead of `get_object`; `answer` turns the result into the
        response body instead of `_read`; `status_code` is the success status."""
        record = (target or self.get_object)()
        values = self.action_values(body) if body is not None else {}
        done = run(record, values)
        return Response((answer or self._read)(done), status=status_code)
