"""Root fixtures: a small company with the permission scopes every module's tests need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

pytest_plugins: list[str] = []


@pytest.fixture(autouse=True)
def _fresh_actor_context() -> Any:
    """Each test starts with no acting user / request id: context set by one test (a request made
    through the API token authentication, a task run eagerly) must not leak into the next one's audit
    rows, where a user id from a flushed database would break the foreign key."""
    from kehu.core.context import ActorContext, reset_context, set_context

    token = set_context(ActorContext())
    yield
    reset_context(token)


@pytest.fixture(autouse=True)
def _fresh_user_cache() -> Any:
    """Per-user cached reads (kehu.core.confcache.user_cached) are keyed by user id, and a rolled-
    back test database hands the same ids out again: start each test with none."""
    from kehu.core import confcache

    confcache.user_cache_clear()
    yield


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    """Each test starts in the settings' language: a request through the test client leaves the
    language its middleware activated (a user's zh-hans) active in the thread for the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@dataclass
class Company:
    """总部 → 销售部 → 华北区 / 华东区. Reps own records; managers see their region; the director
    sees 销售部 and below; `nobody` has no permission at all; `admin` is a system administrator."""

    hq: Any
    sales: Any
    north: Any
    east: Any
    role_rep: Any
    role_manager: Any
    role_director: Any
    role_all: Any
    role_none: Any
    rep1: Any
    rep2: Any
    rep3: Any
    manager1: Any
    director: Any
    viewer_all: Any
    nobody: Any
    admin: Any


@pytest.fixture
def company(db: Any) -> Company:
    from kehu.users.models import Role
    from kehu.users.tests.factories import DepartmentFactory, RoleFactory, UserFactory

    hq = DepartmentFactory(name="总部")
    sales = DepartmentFactory(name="销售部", parent=hq)
    north = DepartmentFactory(name="华北区", parent=sales)
    east = DepartmentFactory(name="华东区", parent=sales)
    role_rep = RoleFactory(name="Rep", code="rep")
    role_manager = RoleFactory(name="Manager", code="manager")
    role_director = RoleFactory(name="Director", code="director")
    role_all = RoleFactory(name="Viewer of all", code="viewer-all")
    role_none = RoleFactory(name="Nothing", code="nothing")
    admin_role = Role.objects.create(name="Administrator", code="admin", is_admin=True)
    return Company(
        hq=hq,
        sales=sales,
        north=north,
        east=east,
        role_rep=role_rep,
        role_manager=role_manager,
        role_director=role_director,
        role_all=role_all,
        role_none=role_none,
        rep1=UserFactory(username="rep1", department=north, roles=[role_rep]),
        rep2=UserFactory(username="rep2", department=north, roles=[role_rep]),
        rep3=UserFactory(username="rep3", department=east, roles=[role_rep]),
        manager1=UserFactory(username="manager1", department=north, roles=[role_manager]),
        director=UserFactory(username="director", department=sales, roles=[role_director]),
        viewer_all=UserFactory(username="viewer", department=hq, roles=[role_all]),
        nobody=UserFactory(username="nobody", department=north, roles=[role_none]),
        admin=UserFactory(username="admin", department=hq, roles=[admin_role]),
    )
