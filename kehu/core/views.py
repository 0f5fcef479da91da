from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "core/home.html"


def _check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


def _check_broker() -> tuple[bool, str]:
    """Connect to the broker and ask it about the default queue. A queue that does not exist yet
    (no worker has started) still proves that the broker answers. Bounded: about 2 s at most."""
    from amqp.exceptions import ChannelError

    from config.celery import app

    try:
        with app.connection_for_write(connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            with contextlib.suppress(ChannelError):
                conn.default_channel.queue_declare(queue=app.conf.task_default_queue, passive=True)
            return True, str(conn.transport_cls)
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: the database and the Celery broker answer."""
    db_ok, db_info = _check_database()
    broker_ok, broker_info = _check_broker()
    ok = db_ok and broker_ok
    body: dict[str, Any] = {
        "status": "ok" if ok else "error",
        "database": {"ok": db_ok, "detail": db_info},
        "broker": {"ok": broker_ok, "detail": broker_info},
    }
    return JsonResponse(body, status=200 if ok else 503)


class SearchView(LoginRequiredMixin, TemplateView):
    """Global search across registered providers (accounts and contacts for now)."""

    template_name = "core/search.html"


class JobListView(LoginRequiredMixin, TemplateView):
    template_name = "core/job_list.html"


class JobDetailView(LoginRequiredMixin, TemplateView):
    template_name = "core/job_detail.html"
