"""The permission matrix of opportunities: every page and API operation (kanban and move included)
as anonymous, no permission, own, department, department and below, and all."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core.choices import Action
from kehu.core.testing import Endpoint, PermissionMatrix
from kehu.users.tests.factories import grant

from .factories import OpportunityFactory, stage_named

pytestmark = pytest.mark.django_db

HTML = "/sales/opportunities/"
API = "/api/v1/sales/opportunities/"


def _stage(name: str) -> int:
    return stage_named(name).pk


def _endpoints() -> list[Endpoint]:
    return [
        Endpoint("html list", "get", lambda o: HTML, Action.VIEW, on="list"),
        Endpoint("kanban", "get", lambda o: f"{HTML}kanban/", Action.VIEW, on="list"),
        Endpoint("html detail", "get", lambda o: f"{HTML}{o.pk}/", Action.VIEW),
        Endpoint(
            "html add form", "get", lambda o: f"{HTML}add/?account={o.account_id}", Action.ADD, on="create"
        ),
        Endpoint(
            "html create",
            "post",
            lambda o: f"{HTML}add/",
            Action.ADD,
            on="create",
            data=lambda o: {"name": "新商机", "account": o.account_id, "amount": "100", "currency": "CNY"},
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
                "amount": "200",
                "currency": "CNY",
                "forecast_category": "pipeline",
                "version": o.version,
            },
            writes=True,
            ok=(204,),
            htmx=True,
        ),
        Endpoint(
            "move dialog", "get", lambda o: f"{HTML}{o.pk}/move/?stage={_stage('确定意向')}", Action.CHANGE
        ),
        Endpoint(
            "kanban move",
            "post",
            lambda o: f"{HTML}{o.pk}/move/",
            Action.CHANGE,
            data=lambda o: {"stage": _stage("确定意向"), "version": o.version},
            writes=True,
            ok=(204,),
            htmx=True,
        ),
        Endpoint("html delete confirm", "get", lambda o: f"{HTML}{o.pk}/delete/", Action.DELETE),
        Endpoint(
            "html delete", "post", lambda o: f"{HTML}{o.pk}/delete/", Action.DELETE, writes=True, ok=(302,)
        ),
        Endpoint("api list", "get", lambda o: API, Action.VIEW, on="list", api=True),
        Endpoint("api retrieve", "get", lambda o: f"{API}{o.pk}/", Action.VIEW, api=True),
        Endpoint(
            "api create",
            "post",
            lambda o: API,
            Action.ADD,
            on="create",
            api=True,
            data=lambda o: {"name": "API 商机", "account": o.account_id, "amount": "10.00"},
            writes=True,
            ok=(201,),
        ),
        Endpoint(
            "api update",
            "patch",
            lambda o: f"{API}{o.pk}/",
            Action.CHANGE,
            api=True,
            data=lambda o: {"next_step": "约见", "version": o.version},
            writes=True,
        ),
        Endpoint(
            "api move",
            "post",
            lambda o: f"{API}{o.pk}/move/",
            Action.CHANGE,
            api=True,
            data=lambda o: {"stage": _stage("确定意向")},
            writes=True,
        ),
        Endpoint(
            "api delete", "delete", lambda o: f"{API}{o.pk}/", Action.DELETE, api=True, writes=True, ok=(204,)
        ),
    ]


def test_opportunity_permission_matrix(company: Any, client: Any) -> None:
    PermissionMatrix(
        model="sales.opportunity",
        make=lambda owner: OpportunityFactory.create(owner=owner),
        endpoints=_endpoints(),
        extra_grants={"customers.account": ["view"]},
        grant=grant,
    ).run(company, client)
