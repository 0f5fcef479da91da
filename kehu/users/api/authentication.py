"""Personal API tokens: `Authorization: Token <key>`. Keys are stored as SHA-256 hashes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from kehu.core import rows
from kehu.core.context import ActorContext, current, set_context

from ..models import ApiToken
from ..services import api_token_mark_used
from ..tokens import hash_key

__all__ = ["ApiTokenAuthentication", "hash_key"]


def _token_with_user(key_hash: str) -> ApiToken | None:
    """The token with its user (`select_related("user")`), by one plain statement built once: it
    runs on every API call, and the ORM took more CPU to build it than the database to run it."""
    conn = connections[router.db_for_read(ApiToken)]
    user_model = get_user_model()

    def build(conn: Any) -> tuple[str, int]:
        qn = conn.ops.quote_name
        token_columns, user_columns = rows.reader(conn, ApiToken)[0], rows.reader(conn, user_model)[0]
        sql = (
            f"SELECT {', '.join('t.' + qn(c) for c in token_columns)}, "  # noqa: S608
            f"{', '.join('u.' + qn(c) for c in user_columns)} FROM {qn(ApiToken._meta.db_table)} t "
            f"INNER JOIN {qn(user_model._meta.db_table)} u "
            f"ON u.{qn(user_model._meta.pk.column)} = t.{qn(rows.column(ApiToken, 'user'))} "
            f"WHERE t.{qn(rows.column(ApiToken, 'key_hash'))} = %s"
        )
        return sql, len(token_columns)

    sql, width = rows.built(conn, ("api-token-with-user",), build)
    with conn.cursor() as cursor:
        cursor.execute(sql, [key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    token: ApiToken = rows.instance(conn, ApiToken, row[:width])
    token._state.fields_cache["user"] = rows.instance(conn, user_model, row[width:])
    return token


class ApiTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = _token_with_user(hash_key(key))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.is_active:
            raise exceptions.AuthenticationFailed(_("This token has been revoked or has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        api_token_mark_used(token=token)
        ctx = current()
        set_context(ActorContext(user_id=token.user_id, request_id=ctx.request_id, ip=ctx.ip, source="api"))
        return token.user, token
