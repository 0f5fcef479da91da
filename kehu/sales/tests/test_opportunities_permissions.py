"""The permission matrix of opportunities: every page and API operation (kanban and move included)
as anonymous, no permission, own, department, department and below, and all."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core.choices import Action
from kehu.core.testing import Endpoint, PermissionMatrix, crud_endpoints
from kehu.users.tests.factories import grant

from .factories import OpportunityFactory, stage_named

pytestmark = pytest.mark.django_db

HTML = "/sales/opportunities/"
API = "/api/v1/sales/opportunities/"


def _stage(name: str) -> int:
    return stage_named(name).pk


def _endpoints() -> list[Endpoint]:
    return crud_endpoints(
        HTML,
        API,
        lists=[Endpoint("kanban", "get", lambda o: f"{HTML}kanban/", Action.VIEW, on="list")],
        add_form_url=lambda o: f"{HTML}add/?account={o.account_id}",
        create=lambda o: {"name": "新商机", "account": o.account_id, "amount": "100", "currency": "CNY"},
        edit=lambda o: {
            "name": "改名",
            "account": o.account_id,
            "amount": "200",
            "currency": "CNY",
            "forecast_category": "pipeline",
            "version": o.version,
        },
        actions=[
            Endpoint(
                "move dialog",
                "get",
                lambda o: f"{HTML}{o.pk}/move/?stage={_stage('确定意向')}",
                Action.CHANGE,
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
        ],
        api_create=lambda o: {"name": "API 商机", "account": o.account_id, "amount": "10.00"},
        api_update=lambda o: {"next_step": "约见", "version": o.version},
        api_actions=[
            Endpoint(
                "api move",
                "post",
                lambda o: f"{API}{o.pk}/move/",
                Action.CHANGE,
                api=True,
                data=lambda o: {"stage": _stage("确定意向")},
                writes=True,
            ),
        ],
    )


def test_opportunity_permission_matrix(company: Any, client: Any) -> None:
    PermissionMatrix(
        model="sales.opportunity",
        make=lambda owner: OpportunityFactory.create(owner=owner),
        endpoints=_endpoints(),
        extra_grants={"customers.account": ["view"]},
        grant=grant,
    ).run(company, client)
