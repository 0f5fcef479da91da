"""Sidebar entries that need any one of several permissions (`MenuItem.requires_any`): the
Imports entry shows to whoever may import some record type (or see others' imports), and the
sidebar cached per set of roles follows grants."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kehu.core.navigation import MenuItem, _visible, menu_for, menu_html
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db


def _fresh(user: Any) -> Any:
    """The user as a new request loads them (roles and grants are kept on the instance)."""
    return type(user).objects.get(pk=user.pk)


def _names(user: Any) -> set[str]:
    return {i["url_name"] for g in menu_for(_fresh(user)) for i in g["items"]}


def _sidebar(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/").content.decode()


def test_requires_any_needs_one_of_the_permissions(company: Any) -> None:
    item = MenuItem(
        "x",
        "home",
        requires_any=(("customers.contact", "import"), ("sales.lead", "import"), ("no.model", "view")),
    )
    assert not _visible(_fresh(company.rep1), item)
    grant(company.role_rep, "sales.lead", "import", scope="own")
    assert _visible(_fresh(company.rep1), item)
    assert _visible(_fresh(company.admin), item)
    # with `requires` as well, both must hold
    both = MenuItem("x", "home", requires=("customers.account", "view"), requires_any=item.requires_any)
    assert not _visible(_fresh(company.rep1), both)
    grant(company.role_rep, "customers.account", "view", scope="own")
    assert _visible(_fresh(company.rep1), both)


@pytest.mark.parametrize(
    ("model", "action"),
    [
        ("customers.account", "import"),
        ("customers.contact", "import"),
        ("sales.lead", "import"),
        ("sales.opportunity", "import"),
        ("imports.importjob", "view"),
    ],
)
def test_imports_entry_shows_to_importers_only(company: Any, model: str, action: str) -> None:
    grant(company.role_rep, "customers.account", "view", "add", scope="own")  # not enough
    assert "imports:list" not in _names(company.rep1)
    assert "imports:list" not in _names(company.nobody)
    assert "imports:list" in _names(company.admin)
    grant(company.role_rep, model, action, scope="own")
    assert "imports:list" in _names(company.rep1)
    assert "imports:list" not in _names(company.manager1)


def test_cached_sidebar_follows_roles_and_grants(company: Any) -> None:
    assert 'href="/imports/"' not in _sidebar(company.rep1)
    assert 'href="/imports/"' in _sidebar(company.admin)
    grant(company.role_manager, "customers.contact", "import", scope="department")
    # manager1 has other roles than rep1: a sidebar cached for rep1's roles is not theirs
    assert 'href="/imports/"' in _sidebar(company.manager1)
    assert 'href="/imports/"' not in _sidebar(company.rep1)
    assert 'href="/imports/"' not in _sidebar(company.rep2)
    # a grant to rep1's role replaces the configuration token: the cached sidebar is rebuilt
    grant(company.role_rep, "sales.opportunity", "import", scope="own")
    assert 'href="/imports/"' in _sidebar(company.rep1)
    assert 'href="/imports/"' in str(menu_html(_fresh(company.rep2), "/"))
