"""The ticket services refuse non-finite after-sales line quantities (NaN, sNaN, infinities) with a
translated field error on "quantity" (a NaN compared as a decimal raised InvalidOperation: a 500
for any caller that skipped the form)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from kehu.commerce.tests.factories import OrderFactory, OrderLineFactory
from kehu.customers.tests.factories import AccountFactory
from kehu.service.models import Ticket, TicketOrderLine
from kehu.service.services import tickets as services
from kehu.service.services.common import ServiceError
from kehu.service.tests.factories import ticket_type

pytestmark = pytest.mark.django_db

REFUSED = ["The quantity must be more than 0 and at most the quantity ordered."]
NON_FINITE = ["NaN", "nan", "sNaN", "-NaN", "Infinity", "-inf", Decimal("NaN"), float("nan"), float("inf")]


def _order(company: Any) -> tuple[Any, Any, Any]:
    account: Any = AccountFactory(owner=company.rep1, name="北京客户")
    order: Any = OrderFactory(owner=company.rep1, account=account)
    line: Any = OrderLineFactory(order=order, quantity=Decimal("5"), description="打印机")
    return account, order, line


def _data(account: Any, order: Any) -> dict[str, Any]:
    return {
        "type": ticket_type("return"),
        "subject": "退货",
        "priority": 2,
        "account": account,
        "order": order,
    }


@pytest.mark.parametrize("value", NON_FINITE)
def test_create_refuses_non_finite_quantities(tickets_granted: Any, value: Any) -> None:
    account, order, line = _order(tickets_granted)
    with translation.override("en"), pytest.raises(ServiceError) as caught:
        services.ticket_create(
            by=None, data=_data(account, order), order_lines=[{"order_line": line, "quantity": value}]
        )
    assert caught.value.code == "invalid"
    assert caught.value.fields is not None
    assert caught.value.fields["quantity"] == REFUSED
    assert not Ticket.objects.exists()


def test_the_error_is_translated_and_lines_set_refuses_too(tickets_granted: Any) -> None:
    account, order, line = _order(tickets_granted)
    ticket = services.ticket_create(
        by=None, data=_data(account, order), order_lines=[{"order_line": line, "quantity": "2"}]
    )
    with translation.override("zh-hans"), pytest.raises(ServiceError) as caught:
        services.ticket_order_lines_set(
            ticket=ticket, by=None, lines=[{"order_line": line, "quantity": "NaN"}]
        )
    assert caught.value.fields is not None
    assert caught.value.fields["quantity"] == ["数量必须大于 0 且不超过订购数量。"]  # the reader's language
    assert list(TicketOrderLine.objects.filter(ticket=ticket).values_list("quantity", flat=True)) == [
        Decimal("2")
    ]
