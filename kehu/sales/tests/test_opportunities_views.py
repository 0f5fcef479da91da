"""Opportunity pages: create/edit forms, the kanban (first render, lazy columns, moves via HTTP,
query bound), the detail page, the pipeline editor and the account 360 card."""

# ruff: noqa: F811

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kehu.customers.tests.factories import AccountFactory

from ..models import Opportunity, Stage, StageHistory
from .factories import OpportunityFactory, stage_named
from .opportunity_fixtures import opps  # noqa: F401

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_create_form_and_bad_input(opps: Any) -> None:
    account = AccountFactory.create(owner=opps.rep1)
    c = _client(opps.rep1)
    assert c.get("/sales/opportunities/add/").status_code == 200
    r = c.post(
        "/sales/opportunities/add/",
        {"name": "X", "account": account.pk, "amount": "-5", "currency": "XYZ"},
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert "Select a valid choice" in body or "Unknown currency" in body
    assert not Opportunity.objects.exists()
    r = c.post(
        "/sales/opportunities/add/", {"name": "X", "account": account.pk, "amount": "5", "currency": "USD"}
    )
    assert r.status_code == 302
    opp = Opportunity.objects.get()
    assert (opp.currency, opp.amount, opp.stage.name) == ("USD", Decimal("5.00"), "初步沟通")


def test_kanban_first_render_lazy_columns_and_query_bound(
    opps: Any, django_assert_max_num_queries: Any
) -> None:
    from ..selectors import opportunities as selectors

    account = AccountFactory.create(owner=opps.rep1)
    first = stage_named("初步沟通")
    for i in range(selectors.KANBAN_PAGE + 5):
        OpportunityFactory.create(owner=opps.rep1, account=account, name=f"deal-{i}", position=i)
    OpportunityFactory.create(owner=opps.rep1, account=account, stage=stage_named("商务洽谈"))
    OpportunityFactory.create(owner=opps.rep2, name="someone else's")
    c = _client(opps.rep1)
    c.get("/sales/opportunities/kanban/")  # warm caches (permissions, session)
    with django_assert_max_num_queries(20):
        r = c.get("/sales/opportunities/kanban/")
    body = r.content.decode()
    assert r.status_code == 200
    assert body.count('class="card card-sm kehu-kanban-card') == selectors.KANBAN_PAGE + 1
    assert "someone else" not in body
    assert f"stage_col={first.pk}&offset={selectors.KANBAN_PAGE}" in body
    r = c.get(f"/sales/opportunities/kanban/?stage_col={first.pk}&offset={selectors.KANBAN_PAGE}")
    assert r.content.decode().count("kehu-kanban-card") == 5
    assert 'data-role="more"' not in r.content.decode()


def test_kanban_move_allowed_and_refused_over_http(opps: Any) -> None:
    target = stage_named("商务洽谈")
    target.required_fields = ["next_step", "amount"]
    target.save()
    opp = OpportunityFactory.create(owner=opps.rep1, amount=Decimal("0"))
    c = _client(opps.rep1)
    headers = {"Accept": "application/json"}
    r = c.post(
        f"/sales/opportunities/{opp.pk}/move/", {"stage": target.pk, "version": opp.version}, headers=headers
    )
    assert r.status_code == 400
    body = r.json()
    assert body["ok"] is False and body["code"] == "stage_required_fields"
    assert set(body["fields"]) == {"next_step", "amount"}
    assert "next step" in body["message"] and "amount" in body["message"]
    assert body["fill_url"].endswith(f"?stage={target.pk}")
    opp.refresh_from_db()
    assert opp.stage.name == "初步沟通" and StageHistory.objects.filter(opportunity=opp).count() == 1
    # the dialog fills them in and moves
    r = c.get(body["fill_url"], headers={"HX-Request": "true"})
    assert 'name="next_step"' in r.content.decode() and 'name="amount"' in r.content.decode()
    r = c.post(
        f"/sales/opportunities/{opp.pk}/move/",
        {"stage": target.pk, "version": opp.version, "next_step": "报价", "amount": "900"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 204
    opp.refresh_from_db()
    assert (opp.stage, opp.next_step, opp.amount) == (target, "报价", Decimal("900.00"))
    # a drop to the next stage: allowed, the column totals come back
    won = stage_named("赢单")
    r = c.post(
        f"/sales/opportunities/{opp.pk}/move/", {"stage": won.pk, "version": opp.version}, headers=headers
    )
    assert r.status_code == 200 and r.json()["ok"] is True
    assert r.json()["columns"][str(won.pk)]["count"] == 1
    assert r.json()["columns"][str(target.pk)]["count"] == 0
    # stale version
    r = c.post(f"/sales/opportunities/{opp.pk}/move/", {"stage": target.pk, "version": 1}, headers=headers)
    assert r.status_code == 409 and r.json()["code"] == "stale_object"


def test_detail_page_and_account_panel(opps: Any) -> None:
    opp = OpportunityFactory.create(owner=opps.rep1, amount=Decimal("1234"))
    hidden = OpportunityFactory.create(owner=opps.rep2, account=opp.account, name="不可见商机")
    c = _client(opps.rep1)
    r = c.get(opp.get_absolute_url())
    body = r.content.decode()
    assert r.status_code == 200
    assert "kehu-stage-path" in body and "Negotiation" in body and "Stage history" in body
    r = c.get(opp.account.get_absolute_url())
    body = r.content.decode()
    assert 'data-panel="sales.opportunities"' in body
    assert opp.name in body and hidden.name not in body
    assert 'data-fact="sales.open_deals"' in body


def test_pipeline_editor_pages_and_reorder(opps: Any) -> None:
    from kehu.core.choices import Action
    from kehu.users.tests.factories import grant

    grant(opps.role_manager, "sales.pipeline", Action.VIEW, Action.CHANGE)
    pipeline = stage_named("初步沟通").pipeline
    assert _client(opps.rep1).get(f"/sales/pipelines/{pipeline.pk}/").status_code == 403
    c = _client(opps.manager1)
    r = c.get(f"/sales/pipelines/{pipeline.pk}/")
    assert r.status_code == 200 and "kehu-stage-rows" in r.content.decode()
    ids = list(pipeline.stages.order_by("order").values_list("pk", flat=True))
    r = c.post(f"/sales/pipelines/{pipeline.pk}/stages/reorder/", {"stage": [ids[1], ids[0], *ids[2:]]})
    assert r.status_code == 200 and r.json()["ok"]
    assert list(pipeline.stages.order_by("order").values_list("pk", flat=True))[:2] == [ids[1], ids[0]]
    r = c.post(f"/sales/pipelines/{pipeline.pk}/stages/reorder/", {"stage": ids[:2]})
    assert r.status_code == 400
    r = c.post(
        f"/sales/pipelines/{pipeline.pk}/stages/add/",
        {
            "name": "方案评审",
            "kind": "open",
            "probability": "40",
            "forecast_category": "pipeline",
            "required_fields": ["next_step", "contact_roles"],
            "allowed_next": [ids[2]],
        },
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 204
    stage = Stage.objects.get(name="方案评审")
    assert stage.required_fields == ["next_step", "contact_roles"]
    assert list(stage.allowed_next.values_list("pk", flat=True)) == [ids[2]]
