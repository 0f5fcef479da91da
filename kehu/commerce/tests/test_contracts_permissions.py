"""The permission matrix of contracts: pages and API operations (activate, attachments and the
conversion from a quote included) as anonymous, no permission, own, department, department and
below, and all."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kehu.core.choices import Action
from kehu.core.testing import Endpoint, PermissionMatrix
from kehu.users.tests.factories import grant

from .factories import ContractFactory

pytestmark = pytest.mark.django_db

HTML = "/commerce/contracts/"
API = "/api/v1/commerce/contracts/"


def _endpoints() -> list[Endpoint]:
    today = dt.date.today().isoformat()
    return [
        Endpoint("html list", "get", lambda o: HTML, Action.VIEW, on="list"),
        Endpoint("html detail", "get", lambda o: f"{HTML}{o.pk}/", Action.VIEW),
        Endpoint("html timeline tab", "get", lambda o: f"{HTML}{o.pk}/?tab=timeline", Action.VIEW),
        Endpoint("html add form", "get", lambda o: f"{HTML}add/", Action.ADD, on="create"),
        Endpoint(
            "html create",
            "post",
            lambda o: f"{HTML}add/",
            Action.ADD,
            on="create",
            data=lambda o: {"name": "新合同", "account": o.account_id, "currency": "CNY", "value": "100"},
            writes=True,
            ok=(302,),
        ),
        Endpoint("html edit form", "get", lambda o: f"{HTML}{o.pk}/edit/", Action.CHANGE),
        Endpoint(
            "html edit (htmx)",
            "post",
            lambda o: f"{HTML}{o.pk}/edit/",
            Action.CHANGE,
            data=lambda o: {
                "name": "改名",
                "account": o.account_id,
                "currency": "CNY",
                "value": "200",
                "version": o.version,
            },
            writes=True,
            ok=(204,),
            htmx=True,
        ),
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
        Endpoint("html delete confirm", "get", lambda o: f"{HTML}{o.pk}/delete/", Action.DELETE),
        Endpoint(
            "html delete", "post", lambda o: f"{HTML}{o.pk}/delete/", Action.DELETE, writes=True, ok=(302,)
        ),
        Endpoint("api list", "get", lambda o: API, Action.VIEW, on="list", api=True),
        Endpoint("api retrieve", "get", lambda o: f"{API}{o.pk}/", Action.VIEW, api=True),
        Endpoint("api attachments", "get", lambda o: f"{API}{o.pk}/attachments/", Action.VIEW, api=True),
        Endpoint(
            "api create",
            "post",
            lambda o: API,
            Action.ADD,
            on="create",
            api=True,
            data=lambda o: {"name": "API 合同", "account": o.account_id, "value": "10.00"},
            writes=True,
            ok=(201,),
        ),
        Endpoint(
            "api update",
            "patch",
            lambda o: f"{API}{o.pk}/",
            Action.CHANGE,
            api=True,
            data=lambda o: {"terms": "新条款", "version": o.version},
            writes=True,
        ),
        Endpoint(
            "api activate",
            "post",
            lambda o: f"{API}{o.pk}/activate/",
            Action.CHANGE,
            api=True,
            data=lambda o: {"signed_on": today},
            writes=True,
        ),
        Endpoint(
            "api delete", "delete", lambda o: f"{API}{o.pk}/", Action.DELETE, api=True, writes=True, ok=(204,)
        ),
    ]


def test_contract_permission_matrix(company: Any, client: Any) -> None:
    PermissionMatrix(
        model="commerce.contract",
        make=lambda owner: ContractFactory.create(owner=owner, signed_on=None),
        endpoints=_endpoints(),
        extra_grants={"customers.account": ["view"]},
        grant=grant,
    ).run(company, client)
