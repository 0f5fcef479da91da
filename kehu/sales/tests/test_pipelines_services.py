"""Pipeline and stage admin services: one default, stages in use, reorder, required fields."""

# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import pytest

from kehu.core.errors import PermissionDeniedError
from kehu.customfields.models import CustomField

from ..choices import StageKind
from ..models import Opportunity, Pipeline
from ..services.pipelines import (
    InUseError,
    PipelineError,
    pipeline_create,
    pipeline_delete,
    pipeline_update,
    stage_create,
    stage_delete,
    stage_update,
    stages_reorder,
)
from .factories import OpportunityFactory, default_pipeline, stage_named
from .opportunity_fixtures import opps  # noqa: F401

pytestmark = pytest.mark.django_db


def test_create_pipeline_with_default_stages_and_one_default(opps: Any) -> None:
    admin = opps.viewer_all
    p = pipeline_create(by=admin, data={"name": "渠道销售", "is_default": True})
    assert [s.kind for s in p.stages.order_by("order")] == [StageKind.OPEN, StageKind.WON, StageKind.LOST]
    assert list(Pipeline.objects.filter(is_default=True)) == [p]
    with pytest.raises(PipelineError):
        pipeline_update(by=admin, pipeline=p, data={"is_default": False})
    with pytest.raises(PipelineError):
        pipeline_create(by=admin, data={"name": "渠道销售"})
    with pytest.raises(PermissionDeniedError):
        pipeline_create(by=opps.rep1, data={"name": "x"})


def test_stage_in_use_cannot_be_deleted_and_type_locked(opps: Any) -> None:
    admin = opps.viewer_all
    OpportunityFactory.create(owner=opps.rep1)
    first = stage_named("初步沟通")
    with pytest.raises(InUseError):
        stage_delete(by=admin, stage=first)
    with pytest.raises(InUseError):
        stage_update(by=admin, stage=first, data={"kind": StageKind.WON})
    with pytest.raises(InUseError):  # the default
        pipeline_delete(by=admin, pipeline=default_pipeline())
    other = pipeline_create(by=admin, data={"name": "项目销售"})
    OpportunityFactory.create(owner=opps.rep1, stage=other.stages.get(kind=StageKind.OPEN))
    with pytest.raises(InUseError):  # in use
        pipeline_delete(by=admin, pipeline=other)
    pipeline_delete(by=admin, pipeline=pipeline_create(by=admin, data={"name": "空流程"}))
    unused = stage_create(by=admin, pipeline=default_pipeline(), data={"name": "方案", "probability": 40})
    stage_delete(by=admin, stage=unused)


def test_stage_rules_validated_and_open_deals_follow_probability(opps: Any) -> None:
    admin = opps.viewer_all
    CustomField.objects.create(model="sales.opportunity", name="budget", label="预算", type="text")
    pipeline = default_pipeline()
    other = pipeline_create(by=admin, data={"name": "其他"})
    with pytest.raises(PipelineError) as exc:
        stage_create(by=admin, pipeline=pipeline, data={"name": "A", "required_fields": ["nope"]})
    assert "required_fields" in exc.value.fields
    with pytest.raises(PipelineError):
        stage_create(by=admin, pipeline=pipeline, data={"name": "B", "probability": 101})
    with pytest.raises(PipelineError):
        stage_create(by=admin, pipeline=pipeline, data={"name": "C", "allowed_next": [other.stages.first()]})
    stage = stage_create(
        by=admin,
        pipeline=pipeline,
        data={
            "name": "D",
            "required_fields": ["custom.budget", "next_step"],
            "allowed_next": [stage_named("赢单")],
        },
    )
    assert stage.required_fields == ["custom.budget", "next_step"]
    opp = OpportunityFactory.create(owner=opps.rep1)
    stage_update(by=admin, stage=stage_named("初步沟通"), data={"probability": 15})
    opp.refresh_from_db()
    assert opp.probability == 15
    with pytest.raises(PipelineError):  # the last open stage keeps its type
        lone = pipeline_create(by=admin, data={"name": "单阶段"})
        stage_update(by=admin, stage=lone.stages.get(kind=StageKind.OPEN), data={"kind": StageKind.WON})
    assert Opportunity.objects.count() == 1


def _kinds(pipeline: Pipeline) -> list[tuple[str, str]]:
    return list(pipeline.stages.order_by("order", "id").values_list("name", "kind"))


def test_reorder(opps: Any) -> None:
    pipeline = default_pipeline()
    ids = list(pipeline.stages.order_by("order").values_list("pk", flat=True))  # 3 open, won, lost
    wanted = [*reversed(ids[:3]), ids[4], ids[3]]  # open stages reversed, lost before won
    stages_reorder(by=opps.viewer_all, pipeline=pipeline, stage_ids=wanted)
    assert list(pipeline.stages.order_by("order").values_list("pk", flat=True)) == wanted
    with pytest.raises(PipelineError):
        stages_reorder(by=opps.viewer_all, pipeline=pipeline, stage_ids=ids[:-1])


def test_reorder_never_puts_an_open_stage_after_won_or_lost(opps: Any) -> None:
    pipeline = default_pipeline()
    before = _kinds(pipeline)
    ids = list(pipeline.stages.order_by("order").values_list("pk", flat=True))
    with pytest.raises(PipelineError) as exc:
        wrong = [ids[0], ids[3], ids[1], ids[2], ids[4]]  # won before two open stages
        stages_reorder(by=opps.viewer_all, pipeline=pipeline, stage_ids=wrong)
    assert exc.value.code == "stage_order_invalid" and "stages" in exc.value.fields
    assert _kinds(pipeline) == before


def test_new_open_stage_goes_before_won_and_lost(opps: Any) -> None:
    admin = opps.viewer_all
    pipeline = default_pipeline()
    stage_create(by=admin, pipeline=pipeline, data={"name": "方案评审", "probability": 60})
    names = [name for name, _kind in _kinds(pipeline)]
    assert names == ["初步沟通", "确定意向", "商务洽谈", "方案评审", "赢单", "输单"]
    stage_create(by=admin, pipeline=pipeline, data={"name": "搁置", "kind": StageKind.LOST, "probability": 0})
    assert [name for name, _kind in _kinds(pipeline)][-3:] == ["赢单", "输单", "搁置"]
    # an explicit order that puts an open stage after a closed one is refused, nothing created
    last = pipeline.stages.order_by("-order").values_list("order", flat=True).first() or 0
    with pytest.raises(PipelineError) as exc:
        stage_create(by=admin, pipeline=pipeline, data={"name": "太晚", "order": last + 10})
    assert "order" in exc.value.fields
    assert not pipeline.stages.filter(name="太晚").exists()
    # a stage whose type changes goes back to its group
    moved = stage_update(by=admin, stage=stage_named("确定意向"), data={"kind": StageKind.WON})
    kinds = [kind for _name, kind in _kinds(pipeline)]
    assert kinds == [StageKind.OPEN] * 3 + [StageKind.WON, StageKind.WON, StageKind.LOST, StageKind.LOST]
    assert _kinds(pipeline)[3] == (moved.name, StageKind.WON)


def test_new_pipeline_stage_lands_before_its_closed_stages(opps: Any) -> None:
    admin = opps.viewer_all
    p = pipeline_create(by=admin, data={"name": "渠道销售"})
    stage_create(by=admin, pipeline=p, data={"name": "报价", "probability": 50})
    assert [kind for _name, kind in _kinds(p)] == [
        StageKind.OPEN,
        StageKind.OPEN,
        StageKind.WON,
        StageKind.LOST,
    ]
