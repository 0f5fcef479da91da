"""Fixtures of the customfields tests.

Integration tests use the real customizable model ``customers.Account``, looked up through the app
registry (a lower app must not import a higher one, tests included)."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps


@pytest.fixture
def Account() -> Any:
    return apps.get_model("customers", "Account")


@pytest.fixture
def make_account(db: Any, Account: Any) -> Any:
    def make(name: str = "测试客户", custom: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return Account.objects.create(name=name, custom=custom or {}, **kwargs)

    return make
