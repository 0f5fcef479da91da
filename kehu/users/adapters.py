from __future__ import annotations

import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import translation

from .lockout import LOCKOUT_SHOWN, is_locked_out, lockout_message


class AccountAdapter(DefaultAccountAdapter):
    """No public sign-up (administrators create users) and one lockout message."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        if is_locked_out(request):
            setattr(request, LOCKOUT_SHOWN, True)
            raise ValidationError(lockout_message(), code="locked_out")
        super().authentication_failed(request, **credentials)

    def validation_error(self, code: str, *args: Any) -> ValidationError:
        # allauth's own login rate limit is off (ACCOUNT_RATE_LIMITS); should it ever trigger, the
        # user still sees the one lockout message.
        if code == "too_many_login_attempts":
            return ValidationError(lockout_message(), code="locked_out")
        return super().validation_error(code, *args)

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Setting up two-factor authentication right after signing in (as a role may require)
        does not ask for the password a second time."""
        required = super().is_reauthentication_required(app=app, **kwargs)
        if required and app == "allauth.mfa":
            request = self.request or context.request
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                records = get_authentication_records(request, user)
                recent = [r for r in records if r.get("method") == "password"]
                if recent and time.time() - recent[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT:
                    return False
        return required

    def add_message(
        self,
        request: HttpRequest,
        level: int,
        message_template: str | None = None,
        message_context: dict[str, Any] | None = None,
        extra_tags: str = "",
        message: str | None = None,
    ) -> None:
        """Messages in the signed-in user's language: "Successfully signed in" is written while
        the sign-in page's language (the browser's) is still active, and shown on the next page,
        which speaks the user's language."""
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if not language:
            super().add_message(request, level, message_template, message_context, extra_tags, message)
            return
        with translation.override(language):
            super().add_message(request, level, message_template, message_context, extra_tags, message)
