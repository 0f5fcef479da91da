from __future__ import annotations

from typing import Any

import pytest

from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

ACTIONS = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)
LEAD_KEY_FIELDS = {
    "tax_number": ("tax_number",),
    "phone": ("phone", "mobile"),
    "email": ("email",),
    "company": ("company",),
}


@pytest.fixture(autouse=True)
def _lead_keys() -> None:
    """Leads have keys as the sales app registers them (idempotent)."""
    from kehu.dedup.registry import register_keys
    from kehu.sales.models import Lead

    register_keys(
        Lead, fields=LEAD_KEY_FIELDS, active=lambda lead: lead.status != "converted", watch=("status",)
    )


@pytest.fixture
def sales(company: Any) -> Any:
    """Reps own, managers their department, the director 销售部 and below, viewer_all everything,
    on accounts, contacts and leads."""
    for role, scope in (
        (company.role_rep, Scope.OWN),
        (company.role_manager, Scope.DEPARTMENT),
        (company.role_director, Scope.DEPARTMENT_AND_BELOW),
        (company.role_all, Scope.ALL),
    ):
        for label in ("customers.account", "customers.contact", "sales.lead"):
            grant(role, label, *ACTIONS, scope=scope)
    return company


def make_lead(owner: Any, **values: Any) -> Any:
    from kehu.sales.models import Lead

    return Lead.objects.create(
        owner=owner,
        department_id=getattr(owner, "department_id", None),
        name=values.pop("name", "王伟"),
        **values,
    )
