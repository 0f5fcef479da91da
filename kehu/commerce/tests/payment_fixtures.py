"""Factories and helpers of the payments tests: a contract or an order with a payment plan set
through the service, and users with roles."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from kehu.users.tests.factories import RoleFactory, UserFactory, grant

from ..models import Contract, Instalment, PaymentPlan
from ..services.payments import payment_plan_set
from .factories import ContractFactory, OrderFactory


def user_with(*grants: tuple[str, tuple[str, ...], str], department: Any = None, **kwargs: Any) -> Any:
    """A user whose role holds each (model label, actions, scope) grant."""
    role = RoleFactory.create()
    for label, actions, scope in grants:
        grant(role, label, *actions, scope=scope)
    user = UserFactory.create(department=department, **kwargs)
    user.roles.add(role)
    return user


def planned_contract(
    *,
    owner: Any = None,
    amounts: tuple[str, ...] = ("10000", "10000", "10000"),
    first_due: dt.date | None = None,
    every_days: int = 30,
    currency: str = "CNY",
    **kwargs: Any,
) -> tuple[Contract, PaymentPlan, list[Instalment]]:
    """A contract worth the sum of `amounts` with one instalment per amount."""
    owner = owner or UserFactory.create()
    total = sum((Decimal(a) for a in amounts), Decimal(0))
    contract = ContractFactory.create(owner=owner, value=total, currency=currency, **kwargs)
    first_due = first_due or dt.date.today()
    plan = payment_plan_set(
        contract=contract,
        instalments=[
            (first_due + dt.timedelta(days=every_days * i), Decimal(a), f"第{i + 1}期")
            for i, a in enumerate(amounts)
        ],
        by=owner,
    )
    return contract, plan, list(plan.instalments.order_by("sequence"))


def planned_order(*, owner: Any = None, total: str = "5000", **kwargs: Any) -> tuple[Any, PaymentPlan]:
    owner = owner or UserFactory.create()
    order = OrderFactory.create(owner=owner, total=Decimal(total), **kwargs)
    plan = payment_plan_set(order=order, instalments=[(dt.date.today(), Decimal(total), "")], by=owner)
    return order, plan
