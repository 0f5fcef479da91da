"""Opportunity API: create with bad input (JSON error shape), move (allowed, refused, stale),
pipelines and stages CRUD; stuck-deal alerts (once per stage entry)."""

# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from kehu.core.choices import Action
from kehu.customers.tests.factories import AccountFactory
from kehu.notifications.models import Notification
from kehu.users.tests.factories import grant

from ..models import Opportunity, Pipeline, StageHistory
from ..services.opportunities import STUCK_KIND, opportunity_move_stage, opportunity_stuck_alerts
from .factories import OpportunityFactory, stage_named
from .opportunity_fixtures import opps  # noqa: F401

pytestmark = pytest.mark.django_db
API = "/api/v1/sales/opportunities/"


def _api(user: Any) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"expected_close_date": "1999-01-01"}, "expected_close_date"),
        ({"probability": 150}, "probability"),
    ],
)
def test_create_bad_input_answers_field_errors(opps: Any, body: dict[str, Any], field: str) -> None:
    account = AccountFactory.create(owner=opps.rep1)
    r = _api(opps.rep1).post(API, {"name": "X", "account": account.pk, **body}, format="json")
    assert r.status_code == 400, r.json()
    assert field in r.json()["fields"]
    assert {"code", "message", "fields"} <= set(r.json())
    assert not Opportunity.objects.exists()


def test_create_and_move_through_the_api(opps: Any) -> None:
    account = AccountFactory.create(owner=opps.rep1)
    c = _api(opps.rep1)
    r = c.post(
        API, {"name": "API 商机", "account": account.pk, "amount": "500", "currency": "usd"}, format="json"
    )
    assert r.status_code == 201, r.json()
    data = r.json()
    assert (data["currency"], data["status"], data["probability"]) == ("USD", "open", 10)
    pk = data["id"]
    target = stage_named("商务洽谈")
    target.required_fields = ["next_step"]
    target.save()
    r = c.post(f"{API}{pk}/move/", {"stage": target.pk}, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "stage_required_fields" and "next_step" in r.json()["fields"]
    r = c.post(f"{API}{pk}/move/", {"stage": target.pk, "next_step": "报价", "version": 1}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["stage"] == target.pk and r.json()["next_step"] == "报价"
    r = c.post(f"{API}{pk}/move/", {"stage": stage_named("赢单").pk, "version": 1}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "stale_object"
    r = c.patch(f"{API}{pk}/", {"stage": stage_named("赢单").pk, "amount": "600"}, format="json")
    assert r.status_code == 200 and r.json()["stage"] == target.pk  # the stage moves only via move/
    assert StageHistory.objects.filter(opportunity_id=pk).count() == 2
    # out of scope: 404
    other = OpportunityFactory.create(owner=opps.rep2)
    assert c.post(f"{API}{other.pk}/move/", {"stage": target.pk}, format="json").status_code == 404


def test_pipelines_and_stages_api(opps: Any) -> None:
    grant(opps.role_manager, "sales.pipeline", Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)
    c = _api(opps.manager1)
    r = c.post("/api/v1/sales/pipelines/", {"name": "渠道"}, format="json")
    assert r.status_code == 201, r.json()
    pipeline = Pipeline.objects.get(name="渠道")
    assert len(r.json()["stages"]) == 3
    r = c.post(
        "/api/v1/sales/stages/",
        {"pipeline": pipeline.pk, "name": "评估", "probability": 20, "required_fields": ["amount"]},
        format="json",
    )
    assert r.status_code == 201, r.json()
    r = c.post(
        "/api/v1/sales/stages/",
        {"pipeline": pipeline.pk, "name": "坏", "required_fields": ["x"]},
        format="json",
    )
    assert r.status_code == 400 and "required_fields" in r.json()["fields"]
    used = stage_named("初步沟通")
    OpportunityFactory.create(owner=opps.rep1)
    r = c.delete(f"/api/v1/sales/stages/{used.pk}/")
    assert r.status_code == 409 and r.json()["code"] == "in_use"
    assert _api(opps.rep1).post("/api/v1/sales/pipelines/", {"name": "x"}, format="json").status_code == 403


def test_stuck_alerts_once_per_stage_entry(opps: Any) -> None:
    stage = stage_named("初步沟通")
    stage.stuck_after_days = 10
    stage.save()
    now = timezone.now()
    stuck = OpportunityFactory.create(owner=opps.rep1, stage_entered_at=now - dt.timedelta(days=11))
    OpportunityFactory.create(owner=opps.rep1, stage_entered_at=now - dt.timedelta(days=3))
    assert opportunity_stuck_alerts(now=now) == 1
    assert opportunity_stuck_alerts(now=now) == 0
    note = Notification.objects.get(kind=STUCK_KIND)
    assert (note.recipient, note.target_id) == (opps.rep1, stuck.pk)
    assert "11" in note.title
    # a new stage entry: alerted again once it is stuck there
    stuck = opportunity_move_stage(opportunity=stuck, stage=stage_named("确定意向"), by=opps.rep1)
    s2 = stage_named("确定意向")
    s2.stuck_after_days = 5
    s2.save()
    assert opportunity_stuck_alerts(now=now + dt.timedelta(days=2)) == 0
    assert opportunity_stuck_alerts(now=now + dt.timedelta(days=6)) == 1
    assert Decimal(stuck.amount) == Decimal("10000.00")


def test_pipelines_and_stages_have_no_reveal_endpoint(opps: Any) -> None:
    pipeline = Pipeline.objects.get(is_default=True)
    stage = stage_named("初步沟通")
    c = _api(opps.viewer_all)
    body = {"field": "name"}
    assert c.post(f"/api/v1/sales/pipelines/{pipeline.pk}/reveal/", body, format="json").status_code == 404
    assert c.post(f"/api/v1/sales/stages/{stage.pk}/reveal/", body, format="json").status_code == 404
    opp = OpportunityFactory.create(owner=opps.rep1)
    assert c.post(f"{API}{opp.pk}/reveal/", body, format="json").status_code != 404  # opportunities keep it
    paths = c.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert not [
        p
        for p in paths
        if p.startswith(("/api/v1/sales/pipelines/", "/api/v1/sales/stages/")) and p.endswith("/reveal/")
    ]
    assert "/api/v1/sales/opportunities/{id}/reveal/" in paths
    # the stage API follows the editor's rule: a new open stage lands before won and lost
    r = c.post(
        "/api/v1/sales/stages/", {"pipeline": pipeline.pk, "name": "评估", "probability": 20}, format="json"
    )
    assert r.status_code == 201, r.json()
    kinds = list(pipeline.stages.order_by("order", "id").values_list("kind", flat=True))
    assert kinds[-2:] == ["won", "lost"] and kinds.count("open") == 4
