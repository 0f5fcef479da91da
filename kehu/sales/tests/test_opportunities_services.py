"""Opportunity services: create, update, stage rules, StageHistory, contact roles, team."""

# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from kehu.audit.models import TimelineEvent
from kehu.core.errors import PermissionDeniedError, StaleObjectError
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.customfields.models import CustomField

from ..choices import ForecastCategory, StageKind
from ..errors import StageMoveError
from ..models import Opportunity, StageHistory
from ..services.opportunities import (
    OpportunityError,
    opportunity_contact_role_add,
    opportunity_create,
    opportunity_move_stage,
    opportunity_team_member_add,
    opportunity_update,
)
from .factories import OpportunityFactory, default_pipeline, stage_named
from .opportunity_fixtures import opps  # noqa: F401

pytestmark = pytest.mark.django_db


def _create(opps: Any, **kwargs: Any) -> Opportunity:
    account = kwargs.pop("account", None) or AccountFactory(owner=opps.rep1)
    return opportunity_create(by=opps.rep1, account=account, name=kwargs.pop("name", "ERP 项目"), **kwargs)


def test_create_defaults_and_first_history_row(opps: Any) -> None:
    opp = _create(opps, amount=Decimal("50000"))
    first = stage_named("初步沟通")
    assert (opp.pipeline, opp.stage, opp.status) == (default_pipeline(), first, StageKind.OPEN)
    assert (opp.probability, opp.forecast_category) == (10, ForecastCategory.PIPELINE)
    assert (opp.owner, opp.department) == (opps.rep1, opps.north)
    assert opp.currency == "CNY"
    rows = list(StageHistory.objects.filter(opportunity=opp))
    assert len(rows) == 1
    row = rows[0]
    assert (row.from_stage, row.to_stage, row.left_at, row.by) == (None, first, None, opps.rep1)
    assert (row.amount, row.probability, row.owner, row.department) == (
        Decimal("50000.00"),
        10,
        opps.rep1,
        opps.north,
    )
    assert TimelineEvent.objects.filter(event="opportunity.created", account_id=opp.account_id).count() == 1


def test_create_with_contact_makes_primary_role(opps: Any) -> None:
    contact = ContactFactory(owner=opps.rep1)
    opp = _create(opps, account=contact.account, contact=contact)
    role = opp.contact_roles.get()
    assert (role.contact, role.is_primary) == (contact, True)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": Decimal("-1")}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"name": "  "}, "name"),
        ({"data": {"expected_close_date": dt.date(2001, 1, 1)}}, "expected_close_date"),
        ({"data": {"probability": 120}}, "probability"),
        ({"data": {"source": "not-a-source"}}, "source"),
    ],
)
def test_create_bad_input_changes_nothing(opps: Any, kwargs: dict[str, Any], field: str) -> None:
    account = AccountFactory(owner=opps.rep1)
    with pytest.raises(OpportunityError) as exc:
        opportunity_create(by=opps.rep1, account=account, name=kwargs.pop("name", "X"), **kwargs)
    assert field in exc.value.fields
    assert not Opportunity.objects.exists()
    assert not StageHistory.objects.exists()


def test_create_needs_add_permission_and_visible_account(opps: Any) -> None:
    with pytest.raises(PermissionDeniedError):
        opportunity_create(by=opps.nobody, account=AccountFactory(owner=opps.nobody), name="X")
    with pytest.raises(OpportunityError) as exc:
        opportunity_create(by=opps.rep1, account=AccountFactory(owner=opps.rep2), name="X")
    assert "account" in exc.value.fields


def test_probability_override_and_back(opps: Any) -> None:
    opp = _create(opps, data={"probability": 25, "forecast_category": ForecastCategory.COMMIT})
    assert (opp.probability, opp.probability_overridden) == (25, True)
    assert (opp.forecast_category, opp.forecast_category_overridden) == (ForecastCategory.COMMIT, True)
    opp = opportunity_move_stage(opportunity=opp, stage=stage_named("确定意向"), by=opps.rep1)
    assert opp.probability == 25  # overridden: kept
    opp = opportunity_update(opportunity=opp, by=opps.rep1, data={"probability": None}, version=opp.version)
    assert (opp.probability, opp.probability_overridden) == (30, False)


def test_move_writes_history_and_timeline(opps: Any) -> None:
    opp = _create(opps, amount=Decimal("100"))
    v = opp.version
    opp = opportunity_move_stage(opportunity=opp, stage=stage_named("确定意向"), by=opps.rep1, version=v)
    assert (opp.stage.name, opp.probability, opp.version) == ("确定意向", 30, v + 1)
    rows = list(StageHistory.objects.filter(opportunity=opp).order_by("id"))
    assert [r.to_stage.name for r in rows] == ["初步沟通", "确定意向"]
    assert rows[0].left_at == rows[1].entered_at
    assert rows[1].left_at is None
    assert rows[1].from_stage == stage_named("初步沟通")
    assert rows[1].probability == 30
    event = TimelineEvent.objects.get(event="opportunity.stage_moved")
    assert event.account_id == opp.account_id
    assert event.data["changes"]["stage"] == ["初步沟通", "确定意向"]


def test_stale_version_refused(opps: Any) -> None:
    opp = _create(opps)
    with pytest.raises(StaleObjectError):
        opportunity_move_stage(
            opportunity=opp, stage=stage_named("确定意向"), by=opps.rep1, version=opp.version - 1
        )
    opp.refresh_from_db()
    assert opp.stage.name == "初步沟通"


def test_allowed_next(opps: Any) -> None:
    first = stage_named("初步沟通")
    first.allowed_next.set([stage_named("确定意向"), stage_named("输单")])
    opp = _create(opps, amount=Decimal("10"))
    with pytest.raises(StageMoveError) as exc:
        opportunity_move_stage(opportunity=opp, stage=stage_named("商务洽谈"), by=opps.rep1)
    assert exc.value.code == "stage_not_allowed"
    assert "Intent confirmed, Lost" in str(exc.value.message)
    opp.refresh_from_db()
    assert opp.stage == first
    assert StageHistory.objects.filter(opportunity=opp).count() == 1
    opportunity_move_stage(opportunity=opp, stage=stage_named("确定意向"), by=opps.rep1)


def test_required_fields_named_in_message_and_values_fill_them(opps: Any) -> None:
    CustomField.objects.create(model="sales.opportunity", name="budget_ok", label="预算确认", type="text")
    target = stage_named("商务洽谈")
    target.required_fields = ["next_step", "amount", "custom.budget_ok", "contact_roles"]
    target.save()
    opp = _create(opps)
    with pytest.raises(StageMoveError) as exc:
        opportunity_move_stage(opportunity=opp, stage=target, by=opps.rep1)
    assert exc.value.code == "stage_required_fields"
    assert set(exc.value.fields) == {"next_step", "amount", "custom.budget_ok", "contact_roles"}
    assert "next step" in str(exc.value.message) and "预算确认" in str(exc.value.message)
    opp.refresh_from_db()
    assert (opp.stage.name, opp.next_step) == ("初步沟通", "")
    contact = ContactFactory(owner=opps.rep1, account=opp.account)
    opportunity_contact_role_add(by=opps.rep1, opportunity=opp, contact=contact)
    with pytest.raises(StageMoveError) as exc:  # values are not saved by a refused move
        opportunity_move_stage(opportunity=opp, stage=target, by=opps.rep1, values={"next_step": "报价"})
    assert set(exc.value.fields) == {"amount", "custom.budget_ok"}
    opp.refresh_from_db()
    assert opp.next_step == ""
    opp = opportunity_move_stage(
        opportunity=opp,
        stage=target,
        by=opps.rep1,
        values={"next_step": "报价", "amount": Decimal("8000"), "custom": {"budget_ok": "是"}},
    )
    assert (opp.stage, opp.next_step, opp.amount) == (target, "报价", Decimal("8000.00"))
    assert StageHistory.objects.get(opportunity=opp, to_stage=target).amount == Decimal("8000.00")


def test_won_and_lost_and_reopen(opps: Any) -> None:
    opp = _create(opps, amount=Decimal("500"))
    with pytest.raises(StageMoveError) as exc:
        opportunity_move_stage(opportunity=opp, stage=stage_named("输单"), by=opps.rep1)
    assert exc.value.code == "loss_reason_required"
    opp = opportunity_move_stage(
        opportunity=opp, stage=stage_named("输单"), by=opps.rep1, values={"loss_reason": "price"}
    )
    assert (opp.status, opp.probability, opp.forecast_category) == (
        StageKind.LOST,
        0,
        ForecastCategory.OMITTED,
    )
    assert opp.closed_at is not None and opp.loss_reason == "price"
    opp = opportunity_move_stage(opportunity=opp, stage=stage_named("确定意向"), by=opps.rep1)
    assert (opp.status, opp.closed_at, opp.loss_reason) == (StageKind.OPEN, None, "")
    opp = opportunity_move_stage(opportunity=opp, stage=stage_named("赢单"), by=opps.rep1)
    assert (opp.status, opp.probability, opp.forecast_category) == (
        StageKind.WON,
        100,
        ForecastCategory.CLOSED,
    )
    rows = StageHistory.objects.filter(opportunity=opp)
    assert rows.count() == 4
    assert rows.filter(left_at__isnull=True).count() == 1


def test_out_of_scope_move_refused(opps: Any) -> None:
    opp = OpportunityFactory.create(owner=opps.rep2)
    with pytest.raises(PermissionDeniedError):
        opportunity_move_stage(opportunity=opp, stage=stage_named("确定意向"), by=opps.rep1)
    opp = opportunity_move_stage(opportunity=opp, stage=stage_named("确定意向"), by=opps.manager1)
    assert opp.stage.name == "确定意向"


def test_update_bad_input_and_far_past_only_when_changed(opps: Any) -> None:
    opp = _create(opps)
    with pytest.raises(OpportunityError) as exc:
        opportunity_update(opportunity=opp, by=opps.rep1, data={"amount": Decimal("-5"), "currency": "ABC"})
    assert set(exc.value.fields) == {"amount", "currency"}
    old = timezone.localdate() - dt.timedelta(days=400)
    Opportunity.objects.filter(pk=opp.pk).update(expected_close_date=old)
    opp.refresh_from_db()
    opp = opportunity_update(
        opportunity=opp, by=opps.rep1, data={"expected_close_date": old, "next_step": "x"}
    )
    assert opp.next_step == "x"


def test_team_members(opps: Any) -> None:
    opp = _create(opps)
    member = opportunity_team_member_add(by=opps.rep1, opportunity=opp, user=opps.rep2, role="presales")
    assert member.role == "presales"
    with pytest.raises(OpportunityError):
        opportunity_team_member_add(by=opps.rep1, opportunity=opp, user=opps.rep2, role="boss")


def test_bulk_change_owner_goes_through_the_service(opps: Any) -> None:
    from kehu.core.bulk import get_bulk_action

    mine = OpportunityFactory.create(owner=opps.rep1)
    theirs = OpportunityFactory.create(owner=opps.rep3)  # 华东区: outside manager1's department
    action = get_bulk_action("sales.opportunity", "change_owner")
    assert action is not None
    result = action.fn(ids=[mine.pk, theirs.pk], params={"owner": opps.rep2}, by=opps.manager1)
    assert (result.done, result.skipped) == (1, 1)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.owner, theirs.owner) == (opps.rep2, opps.rep3)
