from __future__ import annotations

from typing import Any

import pytest

from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

ALL_ACTIONS = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT)


@pytest.fixture
def sales(company: Any) -> Any:
    """Reps own their accounts/contacts, managers their department, viewer_all sees everything
    (view only); nobody tags anything."""
    for role, scope, actions in (
        (company.role_rep, Scope.OWN, ALL_ACTIONS),
        (company.role_manager, Scope.DEPARTMENT, ALL_ACTIONS),
        (company.role_director, Scope.DEPARTMENT_AND_BELOW, ALL_ACTIONS),
        (company.role_all, Scope.ALL, (Action.VIEW,)),
    ):
        grant(role, "customers.account", *actions, scope=scope)
        grant(role, "customers.contact", *actions, scope=scope)
    return company
