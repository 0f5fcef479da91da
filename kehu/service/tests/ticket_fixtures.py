"""Ticket permissions for tests: reps (agents) own scope, managers department, director
department and below, viewer all (view only); everyone sees accounts and contacts they own."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

TICKET = "service.ticket"
ALL_ACTIONS = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.ASSIGN, Action.EXPORT)


def grant_tickets(company: Any) -> None:
    grant(company.role_rep, TICKET, Action.VIEW, Action.ADD, Action.CHANGE, scope=Scope.OWN)
    grant(company.role_manager, TICKET, *ALL_ACTIONS, scope=Scope.DEPARTMENT)
    grant(company.role_director, TICKET, *ALL_ACTIONS, scope=Scope.DEPARTMENT_AND_BELOW)
    grant(company.role_all, TICKET, Action.VIEW, scope=Scope.ALL)
    for role in (company.role_rep, company.role_manager, company.role_director, company.role_all):
        grant(role, "customers.account", Action.VIEW, Action.CHANGE, scope=Scope.OWN)
        grant(role, "customers.contact", Action.VIEW, scope=Scope.OWN)


@pytest.fixture
def tickets_granted(company: Any) -> Any:
    grant_tickets(company)
    return company
