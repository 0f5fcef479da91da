"""The new-ticket form's after-sales line quantities refuse NaN and infinities with the form's
quantity error (NaN parsed as a decimal and then raised InvalidOperation when compared)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.commerce.tests.factories import OrderFactory, OrderLineFactory
from kehu.core.choices import Action, Scope
from kehu.customers.tests.factories import AccountFactory
from kehu.service.models import Ticket
from kehu.service.tests.factories import ticket_type
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["NaN", "nan", "sNaN", "-NaN", "Infinity", "-inf"])
def test_non_finite_quantities_are_refused(tickets_granted: Any, client: Client, value: str) -> None:
    company = tickets_granted
    grant(company.role_rep, "commerce.order", Action.VIEW, scope=Scope.OWN)
    account: Any = AccountFactory(owner=company.rep1, name="北京客户")
    order: Any = OrderFactory(owner=company.rep1, account=account)
    line: Any = OrderLineFactory(order=order, quantity=Decimal("5"), description="打印机")
    client.force_login(company.rep1)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("service:ticket_add"),
        {
            "type": ticket_type("return").pk,
            "subject": "退货",
            "channel": "phone",
            "priority": 2,
            "account": account.pk,
            "order": order.pk,
            f"line_{line.pk}": value,
        },
    )
    assert response.status_code == 400
    assert "at most the quantity ordered" in response.content.decode()
    assert response.context["form"].order_line_errors is True
    assert not Ticket.objects.exists()
