from __future__ import annotations

from typing import Any

import pytest

from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

ALL_ACTIONS = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT)


@pytest.fixture
def sales(company: Any) -> Any:
    """The company with the usual grants on accounts, contacts, interactions and tasks: reps own,
    managers their department, the director 销售部 and below, viewer_all everything."""
    for role, scope in (
        (company.role_rep, Scope.OWN),
        (company.role_manager, Scope.DEPARTMENT),
        (company.role_director, Scope.DEPARTMENT_AND_BELOW),
        (company.role_all, Scope.ALL),
    ):
        for model in ("customers.account", "customers.contact", "activities.interaction", "activities.task"):
            grant(role, model, *ALL_ACTIONS, scope=scope)
    return company
