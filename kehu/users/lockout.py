"""django-axes wiring: one clear lockout message on every login path (form, API token view)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Too many failed sign-in attempts. This account is locked for %(minutes)d minutes. "
        "Try again later or ask an administrator to unlock it."
    ) % {"minutes": minutes}


def get_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    credentials = credentials or {}
    for key in ("login", "username"):
        if credentials.get(key):
            return str(credentials[key]).strip().lower()
    if request is not None and request.method == "POST":
        for key in ("login", "username"):
            if request.POST.get(key):
                return str(request.POST[key]).strip().lower()
    return None


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "locked_out", "message": lockout_message(), "fields": {}}, status=403)
    return render(request, "users/locked_out.html", {"message": lockout_message()}, status=403)
