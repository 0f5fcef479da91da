"""The demo company's sales (stage "sales"), at the tests' scale (conftest: 2 %)."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.customfields.models import PicklistItem
from kehu.dedup.models import MatchKey
from kehu.demo.loader import load_demo
from kehu.sales.models import (
    AssignmentRule,
    Lead,
    Opportunity,
    Pool,
    PoolHistory,
    PoolItem,
    StageHistory,
    Target,
)
from kehu.search.models import SearchEntry
from kehu.users.models import User

pytestmark = pytest.mark.django_db


def picklist(code: str) -> set[str]:
    return set(PicklistItem.objects.filter(picklist__code=code).values_list("value", flat=True))


def counts() -> tuple[int, ...]:
    return (
        Pool.objects.count(),
        AssignmentRule.objects.count(),
        Lead.objects.count(),
        Opportunity.objects.count(),
        StageHistory.objects.count(),
        PoolItem.objects.count(),
        PoolHistory.objects.count(),
        Target.objects.count(),
    )


def test_sales_demo(client: Client) -> None:
    summary = load_demo()
    assert "sales" in summary.loaded
    users = {u.username: u for u in User.objects.select_related("department")}

    # pools with their rules and members
    pools = {p.name: p for p in Pool.objects.all()}
    assert set(pools) == {"华北线索池", "全国线索池", "客户公海"}
    north = pools["华北线索池"]
    assert (north.max_claims_per_day, north.max_owned, north.protection_days) == (20, 200, 7)
    assert (north.recycle_no_follow_up_days, north.recycle_warning_days, north.cooling_off_days) == (
        30,
        3,
        15,
    )
    assert [d.name for d in north.member_departments.all()] == ["华北区"]
    assert pools["客户公海"].kind == "account" and pools["客户公海"].return_reason_required
    assert AssignmentRule.objects.filter(action="round_robin", conditions={"source": ["website"]}).exists()
    assert AssignmentRule.objects.get(action="pool").pool == pools["全国线索池"]

    # leads of every status; reasons and conversions as the services leave them
    assert set(Lead.objects.values_list("status", flat=True)) == {
        "new",
        "contacting",
        "qualified",
        "unqualified",
        "converted",
    }
    reasons = picklist("lead_unqualified_reason")
    for lead in Lead.objects.filter(status="unqualified"):
        assert lead.unqualified_reason in reasons
    for lead in Lead.objects.filter(status="converted").select_related("converted_opportunity"):
        opp = lead.converted_opportunity
        assert opp is not None and opp.lead_id == lead.pk and opp.account_id == lead.converted_account_id
        assert lead.converted_contact is not None and lead.converted_contact.account_id == opp.account_id
        assert lead.converted_at is not None and lead.created_at < lead.converted_at
    pooled = Lead.objects.filter(pool_item__in_pool=True)
    assert pooled.exists()
    assert not pooled.filter(owner__isnull=False).exists()
    assert PoolHistory.objects.filter(action="enter", lead__in=pooled).count() == pooled.count()
    for lead in Lead.objects.filter(owner__isnull=False)[:100]:
        assert lead.department_id == users[lead.owner.username].department_id
    assert PoolItem.objects.filter(pool=pools["客户公海"], in_pool=True, account__owner__isnull=True).exists()

    # deals: stage values and one history row per stage entered, chained
    losses = picklist("opportunity_loss_reason")
    opps = list(Opportunity.objects.select_related("stage", "owner"))
    assert {o.status for o in opps} == {"open", "won", "lost"}
    assert {o.currency for o in opps} <= {"CNY", "USD"}
    history: dict[int, list[StageHistory]] = {}
    for h in StageHistory.objects.order_by("entered_at", "id"):
        history.setdefault(h.opportunity_id, []).append(h)
    now = timezone.now()
    for o in opps:
        assert o.status == o.stage.kind
        assert o.probability == o.stage.probability
        assert o.forecast_category == o.stage.forecast_category
        assert (o.closed_at is not None) == (o.status != "open")
        assert o.department_id == o.owner.department_id
        assert o.expected_close_date is not None
        if o.status == "lost":
            assert o.loss_reason in losses
        rows = history[o.pk]
        assert rows[0].from_stage_id is None
        assert rows[-1].to_stage_id == o.stage_id and rows[-1].left_at is None
        assert rows[-1].entered_at == o.stage_entered_at <= now
        assert rows[0].entered_at == o.created_at
        for before, after in itertools.pairwise(rows):
            assert after.from_stage_id == before.to_stage_id
            assert before.left_at == after.entered_at
        assert {(h.owner_id, h.department_id) for h in rows} == {(o.owner_id, o.department_id)}

    # targets: monthly for every rep, quarterly for the sales departments, this year
    year = timezone.localdate().year
    for rep in ("rep1", "rep2", "rep3", "rep4"):
        assert (
            Target.objects.filter(user=users[rep], period_kind="month", period_start__year=year).count() == 12
        )
    for dept in ("华北区", "华东区", "销售部"):
        assert (
            Target.objects.filter(
                user=None, department__name=dept, period_kind="quarter", period_start__year=year
            ).count()
            == 4
        )

    # derived data: search index and match keys
    lead = Lead.objects.exclude(mobile="").first()
    assert lead is not None
    assert SearchEntry.objects.filter(model="sales.lead", object_id=lead.pk).exists()
    ct = ContentType.objects.get_for_model(Lead)
    assert MatchKey.objects.filter(content_type=ct, object_id=lead.pk).exists()

    # the reports show numbers for 华北区
    client.force_login(users["manager1"])
    dept = users["manager1"].department_id
    for name in ("sales:report_funnel", "sales:forecast"):
        response = client.get(reverse(name), {"department": dept})
        assert response.status_code == 200

    # idempotent
    loaded = counts()
    again = load_demo(refresh=True)
    assert "sales" in again.loaded
    assert not {"pools", "assignment rules", "leads", "opportunities", "targets"} & set(again.created)
    assert counts() == loaded
