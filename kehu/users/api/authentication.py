"""Personal API tokens: `Authorization: Token <key>`. Keys are stored as SHA-256 hashes."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from kehu.core.context import ActorContext, current, set_context

from ..models import ApiToken
from ..services import api_token_mark_used
from ..tokens import hash_key

__all__ = ["ApiTokenAuthentication", "hash_key"]


class ApiTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        try:
            token = ApiToken.objects.select_related("user").get(key_hash=hash_key(key))
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.is_active:
            raise exceptions.AuthenticationFailed(_("This token has been revoked or has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        api_token_mark_used(token=token)
        ctx = current()
        set_context(ActorContext(user_id=token.user_id, request_id=ctx.request_id, ip=ctx.ip, source="api"))
        return token.user, token
