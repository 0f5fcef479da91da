"""Factories of the sales app (shared by every area: append yours below).

Like the customers factories they do not call the services (those check the acting user's
permissions, which a test sets up separately); they apply the same data rules: phones and e-mails
normalised, the department taken from the owner, `created_by` the owner. Saves are single-row, so
the audit recorder sees them like any other write.
"""

from __future__ import annotations

from typing import Any

import factory
from django.utils import timezone

from kehu.customers.tests.factories import AccountFactory
from kehu.users.tests.factories import UserFactory

from ..models import ConversionFieldMap, Lead, Pipeline, Stage, StageHistory
from ..services.leads import _normalised

# --- leads ------------------------------------------------------------------------------------


class LeadFactory(factory.django.DjangoModelFactory[Lead]):
    class Meta:
        model = Lead

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"线索联系人{n}")
    company = factory.Sequence(lambda n: f"线索公司{n}有限公司")

    @classmethod
    def _create(cls, model_class: type[Lead], *args: Any, **kwargs: Any) -> Lead:
        owner = kwargs.pop("owner")
        values = _normalised(kwargs)
        values.setdefault("created_by", owner)
        lead = model_class(
            **values,
            owner=owner,
            department_id=getattr(owner, "department_id", None),
            owned_since=timezone.now() if owner is not None else None,
        )
        lead.save()
        return lead


class ConversionFieldMapFactory(factory.django.DjangoModelFactory[ConversionFieldMap]):
    class Meta:
        model = ConversionFieldMap

    lead_field = "budget"
    target_model = "customers.account"
    target_field = "budget"


# --- opportunities and pipelines (opportunities area) ----------------------------------------

from decimal import Decimal  # noqa: E402

from ..models import Opportunity  # noqa: E402


def default_pipeline() -> Pipeline:
    """The default pipeline the migration seeds (初步沟通, 确定意向, 商务洽谈, 赢单, 输单)."""
    return Pipeline.objects.get(is_default=True)


def stage_named(name: str, pipeline: Pipeline | None = None) -> Stage:
    return (pipeline or default_pipeline()).stages.get(name=name)


class PipelineFactory(factory.django.DjangoModelFactory[Pipeline]):
    class Meta:
        model = Pipeline

    name = factory.Sequence(lambda n: f"销售流程{n}")
    name_en = factory.Sequence(lambda n: f"Pipeline {n}")


class StageFactory(factory.django.DjangoModelFactory[Stage]):
    class Meta:
        model = Stage

    pipeline = factory.SubFactory(PipelineFactory)
    name = factory.Sequence(lambda n: f"阶段{n}")
    order = factory.Sequence(lambda n: n * 10)
    probability = 20


class OpportunityFactory(factory.django.DjangoModelFactory[Opportunity]):
    """An open deal in the default pipeline's first stage, with its first StageHistory row."""

    class Meta:
        model = Opportunity

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"商机{n}")
    account = factory.LazyAttribute(lambda o: AccountFactory.create(owner=o.owner))
    amount = Decimal("10000.00")
    stage = factory.LazyFunction(lambda: stage_named("初步沟通"))

    @classmethod
    def _create(cls, model_class: type[Opportunity], *args: Any, **kwargs: Any) -> Opportunity:
        owner = kwargs.pop("owner")
        stage = kwargs["stage"]
        kwargs.setdefault("pipeline", stage.pipeline)
        kwargs.setdefault("status", stage.kind)
        kwargs.setdefault("probability", stage.probability)
        kwargs.setdefault("forecast_category", stage.forecast_category)
        kwargs.setdefault("stage_entered_at", timezone.now())
        kwargs.setdefault("created_by", owner)
        opp = model_class(**kwargs, owner=owner, department_id=getattr(owner, "department_id", None))
        opp.save()
        StageHistory.objects.create(
            opportunity=opp,
            pipeline_id=opp.pipeline_id,
            to_stage=stage,
            entered_at=opp.stage_entered_at or timezone.now(),
            by=owner,
            amount=opp.amount,
            probability=opp.probability,
            owner=owner,
            department_id=opp.department_id,
        )
        return opp


# --- pools (公海) ------------------------------------------------------------------------------
# PoolFactory lives in pool_fixtures.py (the pool tests import nothing else from here).

from .pool_fixtures import PoolFactory  # noqa: E402, F401
