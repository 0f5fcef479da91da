"""Bulk actions of the opportunity list: add / remove tags, move to stage (each deal through the
stage-move service; a refused deal is reported with its reason and nothing of it changes)."""

# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import pytest

from kehu.core.bulk import bulk_actions, bulk_start
from kehu.tags.selectors import tags_of
from kehu.tags.tests.factories import TagFactory

from ..models import Opportunity, StageHistory
from .factories import OpportunityFactory, stage_named
from .opportunity_fixtures import opps  # noqa: F401

pytestmark = pytest.mark.django_db


def _fresh(opp: Opportunity) -> Opportunity:
    return Opportunity.objects.get(pk=opp.pk)


def test_bulk_actions_registered(opps: Any) -> None:
    keys = {a.key for a in bulk_actions("sales.opportunity", opps.rep1)}
    assert {"tags_add", "tags_remove", "move_stage"} <= keys
    assert "change_owner" not in keys  # reps may not assign


def test_bulk_add_and_remove_tags_within_scope(opps: Any) -> None:
    mine = [OpportunityFactory.create(owner=opps.rep1) for _ in range(2)]
    theirs = OpportunityFactory.create(owner=opps.rep2)
    hot, cold = TagFactory.create(name="hot"), TagFactory.create(name="cold")
    ids = [*(o.pk for o in mine), theirs.pk]
    outcome = bulk_start(
        user=opps.rep1, model=Opportunity, action_key="tags_add", ids=ids, params={"tags": [hot.pk, cold.pk]}
    )
    assert outcome.result is not None
    assert (outcome.result.done, outcome.result.skipped) == (2, 1)
    assert outcome.result.extra["added"] == 4
    assert all({t.name for t in tags_of(_fresh(o))} == {"hot", "cold"} for o in mine)
    assert tags_of(_fresh(theirs)) == []
    outcome = bulk_start(
        user=opps.rep1, model=Opportunity, action_key="tags_remove", ids=ids, params={"tags": [cold.pk]}
    )
    assert outcome.result is not None and outcome.result.extra["removed"] == 2
    assert all([t.name for t in tags_of(_fresh(o))] == ["hot"] for o in mine)


def test_bulk_move_to_stage_reports_refused_deals_and_changes_nothing_of_them(opps: Any) -> None:
    target = stage_named("商务洽谈")
    target.required_fields = ["next_step"]
    target.save()
    ready = OpportunityFactory.create(owner=opps.rep1, next_step="报价", name="ready")
    missing = OpportunityFactory.create(owner=opps.rep1, next_step="", name="missing")
    theirs = OpportunityFactory.create(owner=opps.rep2, next_step="报价", name="theirs")
    before = _fresh(missing)
    outcome = bulk_start(
        user=opps.rep1,
        model=Opportunity,
        action_key="move_stage",
        ids=[ready.pk, missing.pk, theirs.pk],
        params={"stage": str(target.pk)},
    )
    result = outcome.result
    assert result is not None
    assert (result.done, result.skipped, result.failed_count) == (1, 1, 1)
    assert result.failed[0]["id"] == missing.pk and result.failed[0]["name"] == "missing"
    assert "next step" in result.failed[0]["reason"].lower()
    assert _fresh(ready).stage == target
    assert StageHistory.objects.filter(opportunity=ready, to_stage=target).exists()
    after = _fresh(missing)
    assert (after.stage_id, after.version, after.status) == (before.stage_id, before.version, before.status)
    assert StageHistory.objects.filter(opportunity=missing).count() == 1
    assert _fresh(theirs).stage_id == theirs.stage_id


def test_bulk_move_to_a_lost_stage_needs_the_loss_reason(opps: Any) -> None:
    from kehu.customfields.selectors import picklist_choices

    lost = stage_named("输单")
    opp = OpportunityFactory.create(owner=opps.rep1)
    outcome = bulk_start(
        user=opps.rep1, model=Opportunity, action_key="move_stage", ids=[opp.pk], params={"stage": lost.pk}
    )
    assert outcome.result is not None and outcome.result.failed_count == 1
    assert _fresh(opp).status == "open"
    reasons = picklist_choices("opportunity_loss_reason")
    assert reasons, "migration 0003 seeds the loss reasons"
    outcome = bulk_start(
        user=opps.rep1,
        model=Opportunity,
        action_key="move_stage",
        ids=[opp.pk],
        params={"stage": lost.pk, "loss_reason": reasons[0][0]},
    )
    assert outcome.result is not None and outcome.result.done == 1
    moved = _fresh(opp)
    assert (moved.status, moved.loss_reason) == ("lost", reasons[0][0])
