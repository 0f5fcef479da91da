"""Churn warning: each rule's signal flags the right accounts, one open flag per account (new
reasons added, nothing duplicated), the owner's follow-up task and notification, resolving, the
analytics entry `account_risk_flag`, and the at-risk list's scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from kehu.activities.models import Task
from kehu.commerce.tests.factories import OrderFactory
from kehu.customers.tests.factories import AccountFactory
from kehu.notifications.models import Notification
from kehu.service.choices import ChurnSignal, RiskStatus, SurveyKind
from kehu.service.models import AccountRisk
from kehu.service.selectors.churn import risk_list
from kehu.service.services import churn as services
from kehu.service.services.churn import ChurnError
from kehu.service.tests.factories import TicketFactory, ticket_type
from kehu.service.tests.factories_surveys import ChurnRuleFactory, SurveyFactory, csat, response
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)


def grant_tasks(company: Any) -> None:
    """Reps may see their own accounts and have tasks (the follow-up task is created as the owner)."""
    grant(company.role_rep, "customers.account", "view", scope="own")
    grant(company.role_rep, "activities.task", "view", "add", scope="own")


def flagged() -> dict[int, list[str]]:
    return {
        r.account_id: [reason["signal"] for reason in r.reasons]
        for r in AccountRisk.objects.filter(status=RiskStatus.OPEN)
    }


def test_no_order_rule(company: Any) -> None:
    grant_tasks(company)
    ChurnRuleFactory.create(signal=ChurnSignal.NO_ORDER, threshold=90)
    quiet = AccountFactory.create(owner=company.rep1)
    busy = AccountFactory.create(owner=company.rep1)
    never = AccountFactory.create(owner=company.rep1)  # a prospect: never ordered, not "churning"
    OrderFactory.create(account=quiet, owner=company.rep1, ordered_on=dt.date(2026, 6, 1))
    OrderFactory.create(account=busy, owner=company.rep1, ordered_on=dt.date(2026, 6, 1))
    OrderFactory.create(account=busy, owner=company.rep1, ordered_on=dt.date(2026, 10, 1))

    counts = services.churn_evaluate(now=NOW)

    assert flagged() == {quiet.pk: ["no_order"]}
    assert counts["flagged"] == 1
    assert never.pk not in flagged()
    risk = AccountRisk.objects.get(account=quiet)
    assert risk.reasons[0]["value"] == "2026-06-01"
    assert "2026-06-01" in services.reason_text(risk.reasons[0])


def test_nps_detractor_rule_counts_answers_in_the_window(company: Any) -> None:
    ChurnRuleFactory.create(signal=ChurnSignal.NPS_DETRACTOR, threshold=6, window_days=30)
    nps = SurveyFactory.create(kind=SurveyKind.NPS)
    detractor = AccountFactory.create(owner=company.rep1)
    promoter = AccountFactory.create(owner=company.rep1)
    old = AccountFactory.create(owner=company.rep1)
    response(nps, 4, account=detractor, at=NOW - dt.timedelta(days=3))
    response(nps, 9, account=promoter, at=NOW - dt.timedelta(days=3))
    response(nps, 2, account=old, at=NOW - dt.timedelta(days=45))
    services.churn_evaluate(now=NOW)
    assert flagged() == {detractor.pk: ["nps_detractor"]}
    assert AccountRisk.objects.get(account=detractor).reasons[0]["value"] == 4


def test_complaints_rule_needs_more_than_n(company: Any) -> None:
    ChurnRuleFactory.create(signal=ChurnSignal.COMPLAINTS, threshold=2, window_days=30)
    angry = AccountFactory.create(owner=company.rep1)
    two = AccountFactory.create(owner=company.rep1)
    for _ in range(3):
        TicketFactory.create(
            account=angry, type=ticket_type("complaint"), created_at=NOW - dt.timedelta(days=5)
        )
    for _ in range(2):
        TicketFactory.create(
            account=two, type=ticket_type("complaint"), created_at=NOW - dt.timedelta(days=5)
        )
    TicketFactory.create(account=two, type=ticket_type("request"), created_at=NOW - dt.timedelta(days=5))
    TicketFactory.create(account=two, type=ticket_type("complaint"), created_at=NOW - dt.timedelta(days=40))
    services.churn_evaluate(now=NOW)
    assert flagged() == {angry.pk: ["complaints"]}
    assert AccountRisk.objects.get(account=angry).reasons[0]["value"] == 3


def test_low_csat_rule(company: Any) -> None:
    ChurnRuleFactory.create(signal=ChurnSignal.LOW_CSAT, threshold=2, window_days=30)
    unhappy = AccountFactory.create(owner=company.rep1)
    fine = AccountFactory.create(owner=company.rep1)
    response(csat(), 2, account=unhappy, at=NOW - dt.timedelta(days=1))
    response(csat(), 3, account=fine, at=NOW - dt.timedelta(days=1))
    services.churn_evaluate(now=NOW)
    assert flagged() == {unhappy.pk: ["low_csat"]}


def test_inactive_rules_do_nothing(company: Any) -> None:
    ChurnRuleFactory.create(signal=ChurnSignal.LOW_CSAT, threshold=2, is_active=False)
    response(csat(), 1, account=AccountFactory.create(owner=company.rep1), at=NOW)
    assert services.churn_evaluate(now=NOW) == {"flagged": 0, "updated": 0, "tasks": 0}
    assert not AccountRisk.objects.exists()


def test_one_open_flag_per_account_new_reasons_added_not_duplicated(company: Any) -> None:
    grant_tasks(company)
    low = ChurnRuleFactory.create(signal=ChurnSignal.LOW_CSAT, threshold=2)
    account = AccountFactory.create(owner=company.rep1)
    response(csat(), 1, account=account, at=NOW - dt.timedelta(days=1))

    first = services.churn_evaluate(now=NOW)
    again = services.churn_evaluate(now=NOW + dt.timedelta(days=1))
    assert (first["flagged"], first["tasks"]) == (1, 1)
    assert again == {"flagged": 0, "updated": 0, "tasks": 0}

    ChurnRuleFactory.create(signal=ChurnSignal.COMPLAINTS, threshold=0)
    TicketFactory.create(account=account, type=ticket_type("complaint"), created_at=NOW)
    third = services.churn_evaluate(now=NOW + dt.timedelta(days=2))
    assert third == {"flagged": 0, "updated": 1, "tasks": 0}

    risk = AccountRisk.objects.get(account=account)
    assert [r["signal"] for r in risk.reasons] == ["low_csat", "complaints"]
    assert risk.reasons[0]["rule"] == low.pk
    assert Task.objects.filter(account=account).count() == 1  # one task per flag
    assert risk.task_id is not None
    from kehu.audit.models import ObjectChange

    logged = ObjectChange.objects.filter(model="service.accountrisk", object_id=risk.pk)
    assert sorted(logged.values_list("action", flat=True)) == ["create", "update"]
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountRisk.objects.create(account=account, flagged_at=NOW)


def test_new_flag_creates_task_and_notifies_the_owner(company: Any) -> None:
    grant_tasks(company)
    ChurnRuleFactory.create(signal=ChurnSignal.LOW_CSAT, threshold=2, task_due_days=5)
    account = AccountFactory.create(owner=company.rep1, name="长城贸易")
    response(csat(), 1, account=account, at=NOW)

    services.churn_evaluate(now=NOW)

    risk = AccountRisk.objects.get(account=account)
    assert risk.task_id is not None
    task = Task.objects.get(pk=risk.task_id)
    assert task.owner == company.rep1 and task.account == account
    assert task.due_at == NOW + dt.timedelta(days=5)
    assert task.priority == "high"
    assert "长城贸易" in task.title
    note = Notification.objects.get(recipient=company.rep1, kind=services.NOTIFY_KIND)
    assert "长城贸易" in note.title
    assert note.url == account.get_absolute_url()


def test_rule_without_task_and_owner_without_task_permission(company: Any) -> None:
    ChurnRuleFactory.create(signal=ChurnSignal.LOW_CSAT, threshold=2, create_task=False)
    a = AccountFactory.create(owner=company.rep1)
    response(csat(), 1, account=a, at=NOW)
    services.churn_evaluate(now=NOW)
    assert AccountRisk.objects.get(account=a).task_id is None
    assert not Task.objects.exists()

    ChurnRuleFactory.create(signal=ChurnSignal.COMPLAINTS, threshold=0)
    b = AccountFactory.create(owner=company.nobody)  # may not have tasks: flagged and told, no task
    TicketFactory.create(account=b, type=ticket_type("complaint"), created_at=NOW)
    services.churn_evaluate(now=NOW)
    assert AccountRisk.objects.get(account=b).task_id is None
    assert Notification.objects.filter(recipient=company.nobody).exists()


def test_resolve_closes_the_flag_and_a_recent_resolution_is_not_reflagged(company: Any) -> None:
    grant(company.role_manager, "service.accountrisk", "view", "change")
    ChurnRuleFactory.create(signal=ChurnSignal.LOW_CSAT, threshold=2, window_days=30)
    account = AccountFactory.create(owner=company.rep1)
    response(csat(), 1, account=account, at=NOW - dt.timedelta(days=1))
    services.churn_evaluate(now=NOW)
    risk = AccountRisk.objects.get(account=account)

    services.account_risk_resolve(risk=risk, by=company.manager1, note="回访后已解决")
    risk.refresh_from_db()
    assert (risk.status, risk.resolution_note, risk.resolved_by) == (
        "resolved",
        "回访后已解决",
        company.manager1,
    )
    with pytest.raises(ChurnError) as refused:
        services.account_risk_resolve(risk=risk, by=company.manager1, note="again")
    assert refused.value.code == ChurnError.NOT_OPEN

    services.churn_evaluate(now=timezone.now())
    assert AccountRisk.objects.filter(account=account).count() == 1


def test_resolve_needs_permission(company: Any) -> None:
    from kehu.core.errors import PermissionDeniedError

    risk = AccountRisk.objects.create(account=AccountFactory.create(owner=company.rep1), flagged_at=NOW)
    with pytest.raises(PermissionDeniedError):
        services.account_risk_resolve(risk=risk, by=company.rep1, note="")
    risk.refresh_from_db()
    assert risk.status == RiskStatus.OPEN


def test_account_risk_flag_for_the_churn_model(company: Any) -> None:
    account = AccountFactory.create(owner=company.rep1)
    risk = services.account_risk_flag(
        account=account, reasons=["模型预测流失概率高"], source="model", score=0.87
    )
    assert (risk.source, risk.score, risk.status) == ("model", Decimal("0.8700"), "open")
    assert services.reason_text(risk.reasons[0]) == "模型预测流失概率高"
    again = services.account_risk_flag(
        account=account, reasons=["模型预测流失概率高"], source="model", score=0.9
    )
    assert again.pk == risk.pk and len(again.reasons) == 1 and again.score == Decimal("0.9")
    with pytest.raises(ChurnError):
        services.account_risk_flag(account=account, reasons=[], source="model")
    with pytest.raises(ChurnError):
        services.account_risk_flag(account=account, reasons=["x"], source="model", score=2)


def test_rule_validation(company: Any) -> None:
    with pytest.raises(ChurnError) as refused:
        services.churn_rule_create(
            by=company.admin,
            data={"name": "", "signal": ChurnSignal.LOW_CSAT, "threshold": 6, "window_days": 0},
        )
    assert {"name", "threshold", "window_days"} <= set(refused.value.fields)
    rule = services.churn_rule_create(
        by=company.admin, data={"name": "差评", "signal": ChurnSignal.LOW_CSAT, "threshold": 2}
    )
    assert rule.window_days == 30
    from kehu.core.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        services.churn_rule_update(rule=rule, by=company.rep1, data={"threshold": 1})


@pytest.mark.parametrize(
    ("who", "seen"),
    [
        ("nobody", set()),
        ("rep1", {"a1"}),  # own accounts
        ("manager1", {"a1", "a2"}),  # their department (华北区)
        ("director", {"a1", "a2", "a3"}),  # department and below
        ("viewer_all", {"a1", "a2", "a3", "hq"}),
    ],
)
def test_at_risk_list_follows_the_account_scope(company: Any, who: str, seen: set[str]) -> None:
    for role, scope in (
        (company.role_rep, "own"),
        (company.role_manager, "department"),
        (company.role_director, "department_and_below"),
        (company.role_all, "all"),
    ):
        grant(role, "customers.account", "view", scope=scope)
        grant(role, "service.accountrisk", "view")
    accounts = {
        "a1": AccountFactory.create(owner=company.rep1),
        "a2": AccountFactory.create(owner=company.rep2),
        "a3": AccountFactory.create(owner=company.rep3),
        "hq": AccountFactory.create(owner=company.admin),
    }
    for account in accounts.values():
        AccountRisk.objects.create(account=account, flagged_at=NOW, reasons=[{"signal": "low_csat"}])
    names = {v.pk: k for k, v in accounts.items()}
    visible = {names[r.account_id] for r in risk_list(user=getattr(company, who))}
    assert visible == seen


def test_at_risk_list_filters_by_reason(company: Any) -> None:
    grant(company.role_all, "customers.account", "view")
    grant(company.role_all, "service.accountrisk", "view")
    a = AccountFactory.create(owner=company.rep1)
    b = AccountFactory.create(owner=company.rep1)
    services.account_risk_flag(account=a, reasons=[{"signal": "low_csat", "value": 1}], source="rules")
    services.account_risk_flag(account=b, reasons=[{"signal": "complaints", "value": 5}], source="rules")
    assert [r.account_id for r in risk_list(user=company.viewer_all, signal="complaints")] == [b.pk]
    assert len(risk_list(user=company.viewer_all)) == 2


def test_one_notification_per_owner_lists_the_accounts(company: Any) -> None:
    grant_tasks(company)
    ChurnRuleFactory.create(signal=ChurnSignal.LOW_CSAT, threshold=2)
    first = AccountFactory.create(owner=company.rep1, name="甲公司")
    second = AccountFactory.create(owner=company.rep1, name="乙公司")
    other = AccountFactory.create(owner=company.rep2, name="丙公司")
    for account in (first, second, other):
        response(csat(), 1, account=account, at=NOW)
    counts = services.churn_evaluate(now=NOW)
    assert counts["flagged"] == 3
    rep1_notes = Notification.objects.filter(recipient=company.rep1, kind=services.NOTIFY_KIND)
    assert rep1_notes.count() == 1
    note = rep1_notes.get()
    assert "2" in note.title and "甲公司" in note.body and "乙公司" in note.body
    assert note.url == "/service/at-risk/"
    assert Notification.objects.get(recipient=company.rep2, kind=services.NOTIFY_KIND).title.startswith(
        "丙公司"
    )
    assert Task.objects.filter(owner=company.rep1).count() == 2
