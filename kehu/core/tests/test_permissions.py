"""restrict() over users (an owned-like model: own = yourself, department scopes by department)."""

from __future__ import annotations

import pytest

from kehu.core import permissions
from kehu.core.choices import Scope
from kehu.users.models import User
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db


def names(qs) -> set[str]:
    return set(qs.values_list("username", flat=True))


def test_scopes_select_the_right_rows(company) -> None:
    c = company
    grant(c.role_rep, "users.user", "view", scope=Scope.OWN)
    grant(c.role_manager, "users.user", "view", scope=Scope.DEPARTMENT)
    grant(c.role_director, "users.user", "view", scope=Scope.DEPARTMENT_AND_BELOW)
    grant(c.role_all, "users.user", "view", scope=Scope.ALL)

    assert names(User.objects.restrict(c.rep1, "view")) == {"rep1"}
    assert names(User.objects.restrict(c.manager1, "view")) == {"rep1", "rep2", "manager1", "nobody"}
    assert names(User.objects.restrict(c.director, "view")) == {
        "rep1",
        "rep2",
        "rep3",
        "manager1",
        "director",
        "nobody",
    }
    assert names(User.objects.restrict(c.viewer_all, "view")) == set(
        User.objects.values_list("username", flat=True)
    )
    assert names(User.objects.restrict(c.nobody, "view")) == set()
    assert names(User.objects.restrict(c.admin, "view")) == set(
        User.objects.values_list("username", flat=True)
    )


def test_anonymous_and_inactive_users_see_nothing(company) -> None:
    from django.contrib.auth.models import AnonymousUser

    grant(company.role_all, "users.user", "view", scope=Scope.ALL)
    assert User.objects.restrict(AnonymousUser(), "view").count() == 0
    company.viewer_all.is_active = False
    assert User.objects.restrict(company.viewer_all, "view").count() == 0


def test_widest_scope_wins_across_roles(company) -> None:
    c = company
    grant(c.role_rep, "users.user", "view", scope=Scope.OWN)
    grant(c.role_manager, "users.user", "view", scope=Scope.DEPARTMENT)
    c.rep3.roles.add(c.role_manager)
    assert names(User.objects.restrict(c.rep3, "view")) == {"rep3"}  # 华东区 has only rep3
    assert permissions.can(c.rep3, User, "view")
    assert not permissions.can(c.rep3, User, "delete")


def test_department_move_rewrites_subtree_paths(company) -> None:
    from kehu.core.errors import DomainError
    from kehu.users import services

    c = company
    moved = services.department_move(department=c.north, parent=c.hq, by=None)
    assert moved.parent_id == c.hq.pk
    assert moved.depth == 1
    assert moved.path.startswith(c.hq.path)
    with pytest.raises(DomainError):
        services.department_move(department=c.sales, parent=c.east, by=None)
