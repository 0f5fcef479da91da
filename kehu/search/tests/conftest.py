from __future__ import annotations

from typing import Any

import pytest

from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant


@pytest.fixture
def sales(company: Any) -> Any:
    """Reps see their own accounts and contacts, managers their department, viewer_all all."""
    for role, scope in (
        (company.role_rep, Scope.OWN),
        (company.role_manager, Scope.DEPARTMENT),
        (company.role_director, Scope.DEPARTMENT_AND_BELOW),
        (company.role_all, Scope.ALL),
    ):
        for model in ("customers.account", "customers.contact"):
            grant(role, model, Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, scope=scope)
    return company
