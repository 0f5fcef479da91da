"""Fixtures of the lead tests (imported by the test_leads* modules)."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

LEAD_ACTIONS = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT)


@pytest.fixture
def leads(company: Any) -> Any:
    """The company with lead, account and contact grants: reps own, managers their department, the
    director 销售部 and below, viewer_all everything; assign on leads for managers and up."""
    for role, scope in (
        (company.role_rep, Scope.OWN),
        (company.role_manager, Scope.DEPARTMENT),
        (company.role_director, Scope.DEPARTMENT_AND_BELOW),
        (company.role_all, Scope.ALL),
    ):
        grant(role, "sales.lead", *LEAD_ACTIONS, scope=scope)
        grant(role, "customers.account", *LEAD_ACTIONS, scope=scope)
        grant(role, "customers.contact", *LEAD_ACTIONS, scope=scope)
        if role != company.role_rep:
            grant(role, "sales.lead", Action.ASSIGN, scope=scope)
    return company
