"""The opportunity list, HTML and API: the lean row paths (rows built in Python, the API's planned
list serializer), the same output as DRF's own serializer, and a query count that does not grow
with the page size."""

# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from kehu.customers.tests.factories import AccountFactory
from kehu.tags.services import tags_add
from kehu.tags.tests.factories import TagFactory

from ..api.opportunities import OpportunitySerializer
from ..models import Opportunity
from .factories import OpportunityFactory, stage_named
from .opportunity_fixtures import opps  # noqa: F401

pytestmark = pytest.mark.django_db


def _deals(owner: Any, n: int) -> list[Opportunity]:
    account = AccountFactory.create(owner=owner)
    stages = [stage_named("初步沟通"), stage_named("确定意向")]
    deals = [
        OpportunityFactory.create(owner=owner, account=account, stage=stages[i % 2], name=f"deal-{i}")
        for i in range(n)
    ]
    tag = TagFactory.create()
    tags_add(model=Opportunity, ids=[d.pk for d in deals[::2]], tags=[tag], by=owner)
    return deals


def _count(client: Any, url: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx), response


def test_api_list_queries_do_not_grow_with_the_page_size(opps: Any) -> None:
    _deals(opps.rep1, 30)
    client = APIClient()
    client.force_authenticate(opps.rep1)
    url = "/api/v1/sales/opportunities/"
    client.get(url + "?page_size=2")
    small, _r = _count(client, url + "?page_size=3")
    large, response = _count(client, url + "?page_size=30")
    assert large == small
    rows = response.json()["results"]
    assert len(rows) == 30 and sum(1 for r in rows if r["tags"]) == 15


def test_api_list_rows_equal_the_detail_serializer(opps: Any) -> None:
    _deals(opps.rep1, 4)
    client = APIClient()
    client.force_authenticate(opps.rep1)
    rows = client.get("/api/v1/sales/opportunities/").json()["results"]
    for row in rows:
        detail = client.get(f"/api/v1/sales/opportunities/{row['id']}/").json()
        assert row == detail
    assert set(rows[0]) == set(OpportunitySerializer.Meta.fields)


def test_html_list_queries_do_not_grow_with_the_page_size(opps: Any) -> None:
    _deals(opps.rep1, 55)
    client = Client()
    client.force_login(opps.rep1)
    url = "/sales/opportunities/"
    client.get(url)
    small, _r = _count(client, url + "?per_page=25")
    large, response = _count(client, url + "?per_page=50")
    assert large == small
    body = response.content.decode()
    assert body.count('<tr data-pk="') == 50
    assert "deal-54" in body


def test_stage_and_pipeline_come_from_the_copies_and_follow_their_renaming(opps: Any) -> None:
    from kehu.core.services import user_preference_set

    from ..services.pipelines import pipeline_update, stage_update

    deals = _deals(opps.rep1, 3)
    user_preference_set(
        user=opps.rep1, key="table:sales.opportunity", value={"columns": ["name", "stage", "pipeline"]}
    )
    client = Client()
    client.force_login(opps.rep1)
    url = "/sales/opportunities/"
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(url).content.decode()
    (listing,) = [q["sql"] for q in ctx.captured_queries if 'FROM "sales_opportunity"' in q["sql"]]
    assert "sales_stage" not in listing and "sales_pipeline" not in listing  # no joins
    stage, pipeline = deals[0].stage, deals[0].pipeline
    assert stage.label in body and pipeline.label in body
    stage_update(by=opps.admin, stage=stage, data={"name": "改名的阶段", "name_en": "Renamed stage"})
    renamed = {"name": "改名的流程", "name_en": "Renamed pipeline"}
    pipeline_update(by=opps.admin, pipeline=pipeline, data=renamed)
    body = client.get(url).content.decode()
    assert "Renamed stage" in body or "改名的阶段" in body
    assert "Renamed pipeline" in body or "改名的流程" in body
