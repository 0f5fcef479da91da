"""Quote-to-cash pages and API lists read a constant number of queries however many rows they show
(no N+1): the count with a few rows equals the count with many."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.core.choices import Action, Scope
from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import grant

from .factories import (
    ContractFactory,
    InstalmentFactory,
    InvoiceFactory,
    OrderFactory,
    OrderLineFactory,
    PaymentFactory,
    PaymentPlanFactory,
    QuoteFactory,
    QuoteLineFactory,
)

pytestmark = pytest.mark.django_db

ALL = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT)
MODELS = ("quote", "contract", "order", "paymentplan", "payment", "invoice")


@pytest.fixture
def viewer(company: Any) -> Any:
    for label in ("customers.account", "customers.contact", *(f"commerce.{m}" for m in MODELS)):
        grant(company.role_all, label, *ALL, scope=Scope.ALL)
    grant(company.role_all, "commerce.instalment", Action.VIEW, Action.EXPORT, scope=Scope.ALL)
    grant(company.role_all, "catalog.product", Action.VIEW, scope=Scope.ALL)
    return company.viewer_all


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx)


def _documents(company: Any, n: int) -> None:
    """`n` of every document, owned by different reps, each on its own account."""
    reps = (company.rep1, company.rep2, company.rep3)
    for i in range(n):
        owner = reps[i % 3]
        account = AccountFactory.create(owner=owner)
        QuoteFactory.create(owner=owner, account=account)
        contract = ContractFactory.create(owner=owner, account=account, value=Decimal("300"))
        OrderFactory.create(owner=owner, account=account)
        plan = PaymentPlanFactory.create(
            owner=owner, account=account, contract=contract, total=Decimal("300")
        )
        instalment = InstalmentFactory.create(
            owner=owner,
            account=account,
            plan=plan,
            amount=Decimal("300"),
            due_on=dt.date(2026, 1, 1) + dt.timedelta(days=i),
        )
        PaymentFactory.create(
            owner=owner, account=account, plan=plan, instalment=instalment, amount=Decimal("100")
        )
        InvoiceFactory.create(owner=owner, account=account, contract=contract)


LISTS = [
    "/commerce/quotes/",
    "/commerce/contracts/",
    "/commerce/orders/",
    "/commerce/payments/",
    "/commerce/invoices/",
    "/commerce/receivables/",
    "/api/v1/commerce/quotes/",
    "/api/v1/commerce/contracts/",
    "/api/v1/commerce/orders/",
    "/api/v1/commerce/payments/",
    "/api/v1/commerce/instalments/",
    "/api/v1/commerce/invoices/",
]


def test_lists_do_not_grow_with_rows(viewer: Any, company: Any, client: Any) -> None:
    client.force_login(viewer)
    _documents(company, 2)
    for url in LISTS:
        client.get(url)  # warm: configuration read once per process
    few = {url: _queries(client, url) for url in LISTS}
    _documents(company, 8)
    many = {url: _queries(client, url) for url in LISTS}
    assert many == few


def _quote_with(lines: int, owner: Any) -> Any:
    quote = QuoteFactory.create(owner=owner)
    for i in range(lines):
        QuoteLineFactory.create(quote=quote, position=i)
    return quote


def _order_with(lines: int, owner: Any) -> Any:
    order = OrderFactory.create(owner=owner)
    for i in range(lines):
        OrderLineFactory.create(order=order, position=i)
    return order


@pytest.mark.parametrize("make", [_quote_with, _order_with], ids=["quote", "order"])
def test_document_pages_do_not_grow_with_lines(
    viewer: Any, company: Any, client: Any, make: Callable[[int, Any], Any]
) -> None:
    client.force_login(viewer)
    small, big = make(2, company.rep1), make(20, company.rep1)
    client.get(small.get_absolute_url())
    assert _queries(client, big.get_absolute_url()) == _queries(client, small.get_absolute_url())
