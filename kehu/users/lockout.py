"""django-axes wiring: one clear lockout message on every login path (sign-in form, re-authentication,
Django admin, API token view).

Axes counts failures per username (an e-mail address used to sign in counts for the user it
belongs to). When it locks, the allauth adapter puts `lockout_message()` on the form as its only
error, and `lockout_response` (AXES_LOCKOUT_CALLABLE) keeps that page; paths without such a form get
a page (or, under /api/, a JSON body) with the same message.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

LOCKOUT_SHOWN = "_kehu_lockout_shown"


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Too many failed sign-in attempts. This account is locked for %(minutes)d minutes. "
        "Try again later or ask an administrator to unlock it."
    ) % {"minutes": minutes}


def is_locked_out(request: HttpRequest | None) -> bool:
    """Whether axes refused or locked the attempt made during this request."""
    return bool(request is not None and getattr(request, "axes_locked_out", False))


def _normalise(login: str) -> str:
    login = login.strip().lower()
    if "@" in login:
        from .models import User

        usernames = list(User.objects.filter(email__iexact=login).values_list("username", flat=True)[:2])
        if len(usernames) == 1:
            return usernames[0].lower()
    return login


def get_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    credentials = credentials or {}
    for key in ("login", "username", "email"):
        if credentials.get(key):
            return _normalise(str(credentials[key]))
    if request is not None and request.method == "POST":
        for key in ("login", "username"):
            value = request.POST.get(key)
            if value:
                return _normalise(str(value))
    return None


def lockout_json() -> dict[str, Any]:
    return {"code": "locked_out", "message": lockout_message(), "fields": {}}


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    original = args[0] if args and isinstance(args[0], HttpResponse) else None
    if request.path.startswith("/api/"):
        return JsonResponse(lockout_json(), status=403)
    if original is not None and getattr(request, LOCKOUT_SHOWN, False):
        # The form already shows the lockout message as its only error.
        original.status_code = 403
        return original
    return render(request, "users/locked_out.html", {"message": lockout_message()}, status=403)
