"""The permission matrix of orders: pages and API operations (lines, status moves) as anonymous, no
permission, own, department, department and below, and all."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core.choices import Action
from kehu.core.testing import Endpoint, PermissionMatrix, crud_endpoints
from kehu.users.tests.factories import grant

from ..models import OrderStatus
from .factories import OrderFactory

pytestmark = pytest.mark.django_db

HTML = "/commerce/orders/"
API = "/api/v1/commerce/orders/"


def _confirmed() -> int:
    return OrderStatus.objects.get(code="confirmed").pk


def _endpoints() -> list[Endpoint]:
    line = {"description": "安装服务", "quantity": "2", "unit_price": "50"}
    return crud_endpoints(
        HTML,
        API,
        create=lambda o: {"account": o.account_id, "currency": "CNY"},
        edit=lambda o: {
            "account": o.account_id,
            "currency": "CNY",
            "ordered_on": o.ordered_on.isoformat(),
            "shipping_notes": "周末送货",
            "version": o.version,
        },
        actions=[
            Endpoint(
                "move dialog", "get", lambda o: f"{HTML}{o.pk}/move/?status={_confirmed()}", Action.CHANGE
            ),
            Endpoint(
                "move",
                "post",
                lambda o: f"{HTML}{o.pk}/move/",
                Action.CHANGE,
                data=lambda o: {"status": _confirmed(), "version": o.version},
                writes=True,
                ok=(204,),
                htmx=True,
            ),
            Endpoint(
                "add line",
                "post",
                lambda o: f"{HTML}{o.pk}/lines/add/",
                Action.CHANGE,
                data=lambda o: line,
                writes=True,
                ok=(302,),
            ),
        ],
        api_create=lambda o: {"account": o.account_id},
        api_update=lambda o: {"shipping_notes": "加急", "version": o.version},
        api_actions=[
            Endpoint(
                "api line add",
                "post",
                lambda o: f"{API}{o.pk}/lines/",
                Action.CHANGE,
                api=True,
                data=lambda o: line,
                writes=True,
                ok=(201,),
            ),
            Endpoint(
                "api move",
                "post",
                lambda o: f"{API}{o.pk}/move-status/",
                Action.CHANGE,
                api=True,
                data=lambda o: {"status": _confirmed()},
                writes=True,
            ),
        ],
    )


def test_order_permission_matrix(company: Any, client: Any) -> None:
    PermissionMatrix(
        model="commerce.order",
        make=lambda owner: OrderFactory.create(owner=owner),
        endpoints=_endpoints(),
        extra_grants={"customers.account": ["view"]},
        grant=grant,
    ).run(company, client)
