from __future__ import annotations

import contextlib
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import TemplateView

from . import exports
from . import selectors as core_selectors
from . import services as core_services
from .choices import Action, JobStatus
from .errors import DomainError
from .models import Job
from .permissions import is_admin


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
            channel: Any = conn.default_channel
            with contextlib.suppress(ChannelError):
                channel.queue_declare(queue=app.conf.task_default_queue, passive=True)
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
    """Global search across registered providers (accounts and contacts for now).

    The top-bar box asks with htmx and gets the dropdown (5 hits per group); the full page (Enter)
    shows 20 per group, ``?type=<provider key>`` up to 100 of one group."""

    template_name = "core/search.html"
    dropdown_template_name = "core/_search_dropdown.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from . import search
        from .generic import htmx_target

        q = search.clean_query(request.GET.get("q"))
        only = request.GET.get("type") or None
        dropdown = htmx_target(request) == "kehu-search-results"
        limit = 5 if dropdown else (100 if only else 20)
        groups = search.search(request.user, q, limit=limit, only=only)
        context = {"q": q, "groups": groups, "only": only, "breadcrumbs": [(_("Search"), None)]}
        return render(request, self.dropdown_template_name if dropdown else self.template_name, context)


# --- background jobs and exports -------------------------------------------------------------


def _toast(response: HttpResponse, message: str, level: str = "success", **events: Any) -> HttpResponse:
    response["HX-Trigger"] = json.dumps({"kehu:toast": {"message": str(message), "level": level}, **events})
    return response


def _safe_back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.headers.get("Referer", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


class JobListView(LoginRequiredMixin, TemplateView):
    """My jobs (后台任务); administrators and roles granted core.job view may show everyone's."""

    template_name = "core/job_list.html"
    paginate_by = 25

    def get_template_names(self) -> list[str]:
        if getattr(self.request, "htmx", False) and not self.request.htmx.boosted:  # type: ignore[attr-defined]
            return ["core/_job_table.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        params = self.request.GET
        sees_others = core_selectors.job_sees_others(user)
        everyone = sees_others and params.get("scope") == "all"
        status = params.get("status", "")
        kind = params.get("kind", "")
        jobs = core_selectors.job_list(user=user, everyone=everyone, status=status, kind=kind)
        page = Paginator(jobs, self.paginate_by).get_page(params.get("page"))
        querystring = params.copy()
        querystring.pop("page", None)
        ctx.update(
            page=page,
            jobs=page.object_list,
            any_running=any(not job.is_finished for job in page.object_list),
            sees_others=sees_others,
            everyone=everyone,
            status=status,
            kind=kind,
            statuses=JobStatus.choices,
            kinds=core_selectors.job_kinds(user=user, everyone=everyone),
            querystring=querystring.urlencode(),
            breadcrumbs=[(_("My jobs"), "")],
        )
        return ctx


def _visible_job(request: HttpRequest, pk: int, action: str = Action.VIEW) -> Job:
    """The job if the user may see it; 404 otherwise (no existence leak)."""
    return get_object_or_404(Job.objects.restrict(request.user, action).select_related("owner"), pk=pk)


class JobDetailView(LoginRequiredMixin, TemplateView):
    template_name = "core/job_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        job = _visible_job(self.request, kwargs["pk"])
        ctx.update(
            job=job,
            can_cancel=core_selectors.job_can_cancel(user=self.request.user, job=job),
            show_error=bool(job.error) and is_admin(self.request.user),
            params_json=json.dumps(job.params, ensure_ascii=False, indent=2),
            breadcrumbs=[(_("My jobs"), reverse("core:job_list")), (str(job), "")],
        )
        return ctx


@require_GET
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress partial; it polls itself every second while the job is unfinished."""
    if not request.user.is_authenticated:
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponse(status=286)  # signed out meanwhile: htmx stops polling
        return redirect_to_login(request.get_full_path())
    job = _visible_job(request, pk)
    # Polled every second: rendered without context processors (no sidebar menu queries).
    response = HttpResponse(
        render_to_string(
            "core/_job_progress.html",
            {"job": job, "can_cancel": core_selectors.job_can_cancel(user=request.user, job=job)},
        )
    )
    if job.is_finished:  # the last poll: let the bell refresh its count
        response["HX-Trigger"] = json.dumps({"kehu:notifications": {}})
    return response


@login_required
@require_GET
def job_download(request: HttpRequest, pk: int, which: str) -> FileResponse:
    """A job's result or error file, only for users who may see the job (media is never public)."""
    job = _visible_job(request, pk)
    field = job.result_file if which == "result" else job.error_file if which == "error" else None
    if not field:
        raise Http404
    try:
        fh = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    filename = (job.result or {}).get("filename") if which == "result" else None
    response = FileResponse(fh, as_attachment=True, filename=filename or field.name.rsplit("/", 1)[-1])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _visible_job(request, pk, Action.CHANGE)
    try:
        job = core_services.job_cancel(job=job, by=request.user)
    except DomainError as exc:
        if request.htmx:  # type: ignore[attr-defined]
            response = render(request, "core/_job_progress.html", {"job": _visible_job(request, pk)})
            return _toast(response, str(exc.message), "error")
        messages.error(request, str(exc.message))
        return redirect(job.get_absolute_url())
    if request.htmx:  # type: ignore[attr-defined]
        response = render(request, "core/_job_progress.html", {"job": job})
        return _toast(response, _("The job was cancelled."))
    messages.success(request, _("The job was cancelled."))
    return redirect(_safe_back(request, job.get_absolute_url()))


@login_required
@require_POST
def export_start(request: HttpRequest) -> HttpResponse:
    """Start an export of a list: the exporter's name, the format and the list's query string."""
    params = QueryDict(request.POST.get("params", ""))
    try:
        job = exports.export_start(
            user=request.user,
            exporter=request.POST.get("exporter", ""),
            params=params,
            fmt=request.POST.get("fmt", ""),
        )
    except DomainError as exc:
        if request.htmx:  # type: ignore[attr-defined]
            response = HttpResponse(status=204)
            response["HX-Reswap"] = "none"
            return _toast(response, str(exc.message), "error")
        messages.error(request, str(exc.message))
        return redirect(_safe_back(request, reverse("core:job_list")))
    if request.htmx:  # type: ignore[attr-defined]
        response = render(request, "core/_export_started.html", {"job": job, "can_cancel": True})
        return _toast(response, _("The export has started."), "info")
    return redirect(job.get_absolute_url())
