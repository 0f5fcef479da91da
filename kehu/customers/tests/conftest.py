from __future__ import annotations

from typing import Any

import pytest

from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

ALL_ACTIONS = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT)


@pytest.fixture
def sales(company: Any) -> Any:
    """The company with the usual sales grants on accounts and contacts: reps own, managers their
    department, the director 销售部 and below, viewer_all everything (no assign for anyone)."""
    for role, scope in (
        (company.role_rep, Scope.OWN),
        (company.role_manager, Scope.DEPARTMENT),
        (company.role_director, Scope.DEPARTMENT_AND_BELOW),
        (company.role_all, Scope.ALL),
    ):
        grant(role, "customers.account", *ALL_ACTIONS, scope=scope)
        grant(role, "customers.contact", *ALL_ACTIONS, scope=scope)
    return company
