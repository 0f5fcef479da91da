"""The permission matrix of contracts: pages and API operations (activate, attachments and the
conversion from a quote included) as anonymous, no permission, own, department, department and
below, and all."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kehu.core.choices import Action
from kehu.core.testing import Endpoint, PermissionMatrix, crud_endpoints
from kehu.users.tests.factories import grant

from .factories import ContractFactory

pytestmark = pytest.mark.django_db

HTML = "/commerce/contracts/"
API = "/api/v1/commerce/contracts/"


def _endpoints() -> list[Endpoint]:
    today = dt.date.today().isoformat()
    return crud_endpoints(
        HTML,
        API,
        views=[Endpoint("html timeline tab", "get", lambda o: f"{HTML}{o.pk}/?tab=timeline", Action.VIEW)],
        create=lambda o: {"name": "新合同", "account": o.account_id, "currency": "CNY", "value": "100"},
        edit=lambda o: {
            "name": "改名",
            "account": o.account_id,
            "currency": "CNY",
            "value": "200",
            "version": o.version,
        },
        actions=[
            Endpoint("activate dialog", "get", lambda o: f"{HTML}{o.pk}/activate/", Action.CHANGE),
            Endpoint(
                "activate",
                "post",
                lambda o: f"{HTML}{o.pk}/activate/",
                Action.CHANGE,
                data=lambda o: {"signed_on": today},
                writes=True,
                ok=(302,),
            ),
        ],
        api_views=[
            Endpoint("api attachments", "get", lambda o: f"{API}{o.pk}/attachments/", Action.VIEW, api=True),
        ],
        api_create=lambda o: {"name": "API 合同", "account": o.account_id, "value": "10.00"},
        api_update=lambda o: {"terms": "新条款", "version": o.version},
        api_actions=[
            Endpoint(
                "api activate",
                "post",
                lambda o: f"{API}{o.pk}/activate/",
                Action.CHANGE,
                api=True,
                data=lambda o: {"signed_on": today},
                writes=True,
            ),
        ],
    )


def test_contract_permission_matrix(company: Any, client: Any) -> None:
    PermissionMatrix(
        model="commerce.contract",
        make=lambda owner: ContractFactory.create(owner=owner, signed_on=None),
        endpoints=_endpoints(),
        extra_grants={"customers.account": ["view"]},
        grant=grant,
    ).run(company, client)
