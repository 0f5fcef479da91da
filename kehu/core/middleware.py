from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import ActorContext, new_request_id, request_memo_scope, reset_context, set_context

log = logging.getLogger("kehu.request")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def client_ip(request: HttpRequest) -> str | None:
    # Behind a proxy, configure it to set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR")


class RequestIdMiddleware:
    """Give every request an id (or keep a sane incoming X-Request-ID), echo it in the response and
    log one structured line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        source = "api" if request.path.startswith("/api/") else "web"
        token = set_context(ActorContext(request_id=request_id, ip=client_ip(request), source=source))
        started = time.perf_counter()
        try:
            with request_memo_scope():
                response = self.get_response(request)
        finally:
            reset_context(token)
        response["X-Request-ID"] = request_id
        if not log.isEnabledFor(logging.INFO):
            return response  # no record to build (the benchmark settings log warnings only)
        user = getattr(request, "user", None)
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": getattr(user, "pk", None),
            },
        )
        return response


class AuditContextMiddleware:
    """After authentication: record who is acting, for the audit recorder and the logs.

    API token authentication happens later, inside DRF; its authentication class updates the
    context itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        source = "api" if request.path.startswith("/api/") else "web"
        token = set_context(
            ActorContext(
                user_id=user_id,
                request_id=getattr(request, "request_id", ""),
                ip=client_ip(request),
                source=source,
            )
        )
        try:
            return self.get_response(request)
        finally:
            reset_context(token)
