"""`user_roles` reads the user's roles with the configuration tokens in one plain statement."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.core import confcache

from ..backends import clear_cache, user_roles
from ..models import Role
from .factories import UserFactory

pytestmark = pytest.mark.django_db


def test_roles_flags_order_and_tokens(company: Any) -> None:
    admin = Role.objects.create(name="Auditor", code="auditor", is_admin=True, require_mfa=True)
    user: Any = UserFactory(username="two-roles", department=company.north, roles=[company.role_rep, admin])
    confcache.bump()
    with CaptureQueriesContext(connection) as ctx:
        roles = user_roles(user)
        assert user_roles(user) is roles  # kept for the request
    assert len(ctx.captured_queries) == 1
    # ordered as Role's Meta (by name), flags as booleans
    assert roles == [(admin.pk, True, True), (company.role_rep.pk, False, False)]
    assert all(type(flag) is bool for role in roles for flag in role[1:])
    assert user._kehu_token[0] == confcache.current_token() != 0
    nobody = UserFactory(username="no-roles", department=company.north)
    assert user_roles(nobody) == [] and not hasattr(nobody, "_kehu_token")
    clear_cache(user)
    user.roles.remove(admin)
    assert user_roles(user) == [(company.role_rep.pk, False, False)]
