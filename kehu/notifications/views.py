from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.generic import TemplateView

from . import selectors, services
from .models import Notification

LATEST = 8


def _trigger(response: HttpResponse, **events: Any) -> HttpResponse:
    response["HX-Trigger"] = json.dumps({"kehu:notifications": {}, **events})
    return response


class NotificationListView(LoginRequiredMixin, TemplateView):
    template_name = "notifications/notification_list.html"
    paginate_by = 25

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        only_unread = self.request.GET.get("unread") in ("1", "true")
        items = selectors.notification_list(user=self.request.user, unread=only_unread).select_related(
            "actor"
        )
        ctx.update(
            page=Paginator(items, self.paginate_by).get_page(self.request.GET.get("page")),
            only_unread=only_unread,
            unread=selectors.unread_count(user=self.request.user),
            breadcrumbs=[(_("Notifications"), "")],
        )
        return ctx


@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    """The bell's badge (polled): one COUNT. Signed out (session expired): 286 stops the polling."""
    if not request.user.is_authenticated:
        return HttpResponse(status=286)
    count = selectors.unread_count(user=request.user)
    from .templatetags.kehu_notifications import badge_html

    return HttpResponse(badge_html(count))


@login_required
@require_GET
def dropdown(request: HttpRequest) -> HttpResponse:
    return _render_menu(request)


def _render_menu(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "notifications/_bell_menu.html",
        {
            "items": selectors.notification_latest(user=request.user, limit=LATEST),
            "unread": selectors.unread_count(user=request.user),
        },
    )


@login_required
@require_GET
def open_notification(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """Mark the notification read and go where it points (inside Kehu only)."""
    notification = get_object_or_404(Notification.objects.restrict(request.user, "view"), pk=pk)
    services.notification_mark_read(user=request.user, ids=[notification.pk])
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure()):
        return redirect(url)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.restrict(request.user, "change"), pk=pk)
    services.notification_mark_read(user=request.user, ids=[notification.pk])
    if request.htmx:  # type: ignore[attr-defined]
        notification.refresh_from_db()
        return _trigger(render(request, "notifications/_notification_row.html", {"n": notification}))
    return redirect("notifications:list")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.notification_mark_all_read(user=request.user)
    if request.htmx and request.POST.get("from") == "bell":  # type: ignore[attr-defined]
        return _trigger(_render_menu(request))
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return _trigger(response)
    return redirect("notifications:list")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """Which kinds of notification reach me, in Kehu and by e-mail (a kinds × channels matrix).

    The form posts the whole matrix (an unticked box is absent); htmx saves on every change."""
    saved = False
    error = ""
    if request.method == "POST":
        from kehu.core.errors import DomainError

        from .kinds import CHANNELS, all_kinds

        values = {
            kind.key: {c for c in CHANNELS if request.POST.get(f"{kind.key}:{c}") in ("on", "1", "true")}
            for kind in all_kinds()
        }
        try:
            services.notification_preferences_set(user=request.user, values=values)
            saved = True
        except DomainError as exc:  # pragma: no cover - the form only posts registered kinds
            error = str(exc.message)
        if not request.htmx:  # type: ignore[attr-defined]
            from django.contrib import messages

            if saved:
                messages.success(request, _("Your notification preferences were saved."))
            return redirect("notifications:preferences")
    context = {
        "rows": selectors.notification_preferences(user=request.user),
        "saved": saved,
        "error": error,
        "has_email": bool(getattr(request.user, "email", "")),
        "breadcrumbs": [
            (_("Notifications"), reverse("notifications:list")),
            (_("Notification preferences"), ""),
        ],
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "notifications/_preferences_form.html", context)
    from django.utils.safestring import mark_safe

    from .sections import all_sections

    # The other apps' cards (their own templates render and escape their content).
    context["sections"] = [mark_safe(section.render(request)) for section in all_sections()]  # noqa: S308
    return render(request, "notifications/preferences.html", context)
