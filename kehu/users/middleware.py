from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation


class UserLanguageMiddleware:
    """Language: the signed-in user's choice, else the session/cookie, else Accept-Language.

    Runs before authentication, so it reads the user id from the session lazily after the
    response is built by LocaleMiddleware-like logic: we activate in `process_view` instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = translation.get_language_from_request(request, check_path=False)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        patch_vary = response.get("Vary", "")
        if "Accept-Language" not in patch_vary:
            response["Vary"] = f"{patch_vary}, Accept-Language" if patch_vary else "Accept-Language"
        return response


class UserTimezoneMiddleware:
    """After authentication: activate the user's language and time zone. The language switch in
    the top bar (Django's set_language view) also saves the choice on the signed-in user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and request.method == "POST":
            self._remember_language(request, user)
        if user is not None and user.is_authenticated:
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)

    @staticmethod
    def _remember_language(request: HttpRequest, user: Any) -> None:
        try:
            is_switch = request.path == reverse("set_language")
        except NoReverseMatch:
            is_switch = False
        language = request.POST.get("language", "") if is_switch else ""
        if language and language in dict(settings.LANGUAGES) and language != user.language:
            from .services import user_set_language

            user_set_language(user=user, language=language)


MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/healthz", "/media/")


class RequireMfaMiddleware:
    """Users holding a role that requires two-factor authentication are sent to the authenticator
    set-up page until they have enrolled (allauth has no such setting of its own)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and not request.path.startswith("/api/")
        ):
            from .selectors import user_must_enrol_mfa

            if user_must_enrol_mfa(user=user):
                if getattr(request, "htmx", False):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = reverse("mfa_activate_totp")
                    return response
                return redirect("mfa_activate_totp")
        return self.get_response(request)
