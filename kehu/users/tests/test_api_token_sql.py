"""The API token and its user are read by one plain statement (kehu.users.api.authentication):
the instances are the ORM's, and the refusals stay."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import exceptions

from ..api.authentication import ApiTokenAuthentication, _token_with_user
from ..models import ApiToken, User
from ..services import api_token_create
from ..tokens import hash_key

pytestmark = pytest.mark.django_db


def _values(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_token_with_user_reads_as_the_orm(company: Any) -> None:
    rep = company.rep1
    User.objects.filter(pk=rep.pk).update(last_login=timezone.now())
    token, key = api_token_create(user=rep, name="t")
    with CaptureQueriesContext(connection) as ctx:
        found = _token_with_user(hash_key(key))
        assert found is not None
        user = found.user  # read with the token
    assert len(ctx.captured_queries) == 1
    orm = ApiToken.objects.select_related("user").get(pk=token.pk)
    assert _values(found) == _values(orm) and _values(user) == _values(orm.user)
    assert user.is_active is True and user.last_login is not None and timezone.is_aware(user.last_login)
    assert _token_with_user(hash_key("nonsense")) is None


def test_refusals(company: Any) -> None:
    auth = ApiTokenAuthentication()
    token, key = api_token_create(user=company.rep2, name="t")
    user, got = auth.authenticate_credentials(key)
    assert user.pk == company.rep2.pk and got.pk == token.pk
    with pytest.raises(exceptions.AuthenticationFailed):
        auth.authenticate_credentials("nonsense")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(exceptions.AuthenticationFailed):
        auth.authenticate_credentials(key)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None, revoked_at=timezone.now())
    with pytest.raises(exceptions.AuthenticationFailed):
        auth.authenticate_credentials(key)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=None)
    User.objects.filter(pk=company.rep2.pk).update(is_active=False)
    with pytest.raises(exceptions.AuthenticationFailed):
        auth.authenticate_credentials(key)
