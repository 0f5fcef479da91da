"""Fixtures of the pool tests (imported by the test_pools* modules)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import factory
import pytest
from django.utils import timezone

from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

from ..models import Lead, Pool

ACTIONS = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT)


@pytest.fixture
def pools(company: Any) -> Any:
    """The company with lead, account and contact grants (reps own, managers their department, the
    director 销售部 and below, viewer_all everything; assign for managers and up) and pool
    configuration rights for the administrator role only."""
    for role, scope in (
        (company.role_rep, Scope.OWN),
        (company.role_manager, Scope.DEPARTMENT),
        (company.role_director, Scope.DEPARTMENT_AND_BELOW),
        (company.role_all, Scope.ALL),
    ):
        for model in ("sales.lead", "customers.account", "customers.contact"):
            grant(role, model, *ACTIONS, scope=scope)
            if role != company.role_rep:
                grant(role, model, Action.ASSIGN, scope=scope)
    return company


@dataclass
class Clock:
    """A movable `timezone.now()` (time travel for recycling, cooling-off, protection)."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now

    def travel(self, **delta: float) -> dt.datetime:
        self.now = self.now + dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch: Any) -> Clock:
    c = Clock(timezone.make_aware(dt.datetime(2026, 3, 2, 10, 0)))
    monkeypatch.setattr(timezone, "now", c)
    return c


class PoolFactory(factory.django.DjangoModelFactory[Pool]):
    """A lead pool without rules; pass `members=[users]`, `departments=[...]`, `admins=[...]`."""

    class Meta:
        model = Pool
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"线索池{n}")
    kind = "lead"

    @factory.post_generation
    def members(obj: Pool, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            obj.member_users.set(extracted)

    @factory.post_generation
    def departments(obj: Pool, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            obj.member_departments.set(extracted)

    @factory.post_generation
    def admins(obj: Pool, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            obj.admins.set(extracted)


_seq = iter(range(1, 10**9))


def make_lead(owner: Any = None, **values: Any) -> Lead:
    """A lead as the lead services store it (department from the owner, owned_since when owned)."""
    n = next(_seq)
    values.setdefault("name", f"池线索{n}")
    values.setdefault("company", f"池公司{n}有限公司")
    lead = Lead(
        **values,
        owner=owner,
        department_id=getattr(owner, "department_id", None),
        created_by=owner,
        owned_since=timezone.now() if owner is not None else None,
    )
    lead.save()
    return lead


def won_opportunity(*, account: Any, owner: Any, closed_at: dt.datetime) -> Any:
    """A won deal of `account` in the default pipeline."""
    from ..choices import StageKind
    from ..models import Opportunity, Pipeline, Stage

    pipeline = Pipeline.objects.get(is_default=True)
    stage = Stage.objects.filter(pipeline=pipeline, kind=StageKind.WON).get()
    return Opportunity.objects.create(
        name="赢单商机",
        account=account,
        owner=owner,
        department_id=owner.department_id,
        pipeline=pipeline,
        stage=stage,
        status=StageKind.WON,
        closed_at=closed_at,
    )
