"""Fixtures of the opportunity tests (imported by the test_opportunit*/test_pipelines* modules)."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

OPP_ACTIONS = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT)


@pytest.fixture
def opps(company: Any) -> Any:
    """The company with sales grants: reps own, managers their department, the director 销售部 and
    below, viewer_all everything; accounts and contacts likewise; assign for managers and up."""
    for role, scope in (
        (company.role_rep, Scope.OWN),
        (company.role_manager, Scope.DEPARTMENT),
        (company.role_director, Scope.DEPARTMENT_AND_BELOW),
        (company.role_all, Scope.ALL),
    ):
        grant(role, "sales.opportunity", *OPP_ACTIONS, scope=scope)
        grant(role, "customers.account", *OPP_ACTIONS, scope=scope)
        grant(role, "customers.contact", *OPP_ACTIONS, scope=scope)
        if role != company.role_rep:
            grant(role, "sales.opportunity", Action.ASSIGN, scope=scope)
    grant(company.role_all, "sales.pipeline", Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)
    return company
