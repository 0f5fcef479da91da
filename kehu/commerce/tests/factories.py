"""Quote-to-cash records for tests. They write rows directly (no totals are computed here): tests
of the arithmetic go through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.db import models

from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import UserFactory

from ..choices import ApprovalRuleKind, ApproverKind
from ..models import (
    ApprovalRule,
    Contract,
    Instalment,
    Invoice,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentPlan,
    Quote,
    QuoteLine,
)


def _owned(model_class: type[models.Model], kwargs: dict[str, Any]) -> Any:
    owner = kwargs.get("owner")
    kwargs.setdefault("department_id", getattr(owner, "department_id", None))
    return model_class._default_manager.create(**kwargs)


class OwnedFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    owner = factory.SubFactory(UserFactory)
    account = factory.LazyAttribute(lambda o: AccountFactory.create(owner=o.owner))

    @classmethod
    def _create(cls, model_class: type[models.Model], *args: Any, **kwargs: Any) -> Any:
        return _owned(model_class, kwargs)


class QuoteFactory(OwnedFactory):
    class Meta:
        model = Quote

    number = factory.Sequence(lambda n: f"QT-T-{n:05d}")
    name = factory.Sequence(lambda n: f"报价{n}")
    quote_date = factory.LazyFunction(dt.date.today)


class QuoteLineFactory(factory.django.DjangoModelFactory[QuoteLine]):
    class Meta:
        model = QuoteLine

    quote = factory.SubFactory(QuoteFactory)
    description = factory.Sequence(lambda n: f"产品{n}")
    quantity = Decimal("1")
    unit_price = Decimal("100")
    gross = net = total = Decimal("100")


class ApprovalRuleFactory(factory.django.DjangoModelFactory[ApprovalRule]):
    class Meta:
        model = ApprovalRule

    name = factory.Sequence(lambda n: f"规则{n}")
    kind = ApprovalRuleKind.DISCOUNT_ABOVE
    threshold = Decimal("10")
    approver_kind = ApproverKind.MANAGER


class ContractFactory(OwnedFactory):
    class Meta:
        model = Contract

    number = factory.Sequence(lambda n: f"HT-T-{n:05d}")
    name = factory.Sequence(lambda n: f"合同{n}")
    value = Decimal("30000")
    signed_on = factory.LazyFunction(dt.date.today)


def initial_order_status() -> OrderStatus:
    return OrderStatus.objects.filter(is_initial=True).first() or OrderStatus.objects.create(
        code="pending", name="待确认", name_en="Pending", is_initial=True
    )


class OrderFactory(OwnedFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"SO-T-{n:05d}")
    status = factory.LazyFunction(initial_order_status)
    ordered_on = factory.LazyFunction(dt.date.today)


class OrderLineFactory(factory.django.DjangoModelFactory[OrderLine]):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    description = factory.Sequence(lambda n: f"产品{n}")
    quantity = Decimal("1")
    unit_price = Decimal("100")
    gross = net = total = Decimal("100")


class PaymentPlanFactory(OwnedFactory):
    class Meta:
        model = PaymentPlan

    contract = factory.LazyAttribute(lambda o: ContractFactory.create(owner=o.owner, account=o.account))
    total = factory.LazyAttribute(lambda o: o.contract.value)


class InstalmentFactory(OwnedFactory):
    class Meta:
        model = Instalment

    plan = factory.LazyAttribute(lambda o: PaymentPlanFactory.create(owner=o.owner, account=o.account))
    sequence = factory.Sequence(lambda n: n + 1)
    due_on = factory.LazyFunction(dt.date.today)
    amount = Decimal("10000")


class PaymentFactory(OwnedFactory):
    class Meta:
        model = Payment

    number = factory.Sequence(lambda n: f"HK-T-{n:05d}")
    amount = Decimal("1000")
    applied = Decimal("1000")
    received_on = factory.LazyFunction(dt.date.today)


class InvoiceFactory(OwnedFactory):
    class Meta:
        model = Invoice

    number = factory.Sequence(lambda n: f"{n:08d}")
    amount = Decimal("1000")
    tax = Decimal("130")
    total = Decimal("1130")
