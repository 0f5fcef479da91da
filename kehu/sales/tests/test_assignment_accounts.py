"""Account assignment rules on every account creation path: the service (imports and web forms go
through it), the account form and the API; an explicit owner or no matching rule leaves the account
alone; lead conversion keeps the customer with the lead's side; round-robin stays fair per rule."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.audit.models import TimelineEvent
from kehu.core import assigners
from kehu.core.choices import Action, Scope
from kehu.customers.models import Account
from kehu.customers.services import account_create
from kehu.users.tests.factories import grant

from ..choices import AssignmentAction, LeadStatus, PoolKind
from ..models import AssignmentRule, Pool
from ..services.assignment import ASSIGNED_EVENT, assignment_apply
from ..services.leads import lead_convert
from .factories import LeadFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _rule(**kwargs: Any) -> AssignmentRule:
    users = kwargs.pop("users", [])
    kwargs.setdefault("name", "rule")
    kwargs.setdefault("kind", PoolKind.ACCOUNT)
    kwargs.setdefault("action", AssignmentAction.ROUND_ROBIN)
    rule = AssignmentRule.objects.create(**kwargs)
    rule.users.set(users)
    return rule


@pytest.fixture
def org(company: Any) -> Any:
    for role, scope in (
        (company.role_rep, Scope.OWN),
        (company.role_manager, Scope.DEPARTMENT),
        (company.role_all, Scope.ALL),
    ):
        grant(role, "customers.account", Action.VIEW, Action.ADD, Action.CHANGE, scope=scope)
        grant(role, "customers.contact", Action.VIEW, Action.ADD, Action.CHANGE, scope=scope)
    grant(company.role_manager, "customers.account", Action.ASSIGN, scope=Scope.DEPARTMENT)
    grant(company.role_rep, "sales.lead", Action.VIEW, Action.ADD, Action.CHANGE, scope=Scope.OWN)
    return company


def _event(account: Account) -> TimelineEvent:
    return TimelineEvent.objects.get(event=ASSIGNED_EVENT, account_id=account.pk)


def test_the_hook_is_registered_by_sales() -> None:
    assert "customers.account" in assigners._assigners


def test_service_create_without_owner_runs_the_account_rules(org: Any) -> None:
    rule = _rule(action=AssignmentAction.USER, user=org.rep3, conditions={"source": "website"})
    web = account_create(by=org.rep1, data={"kind": "company", "name": "网站客户", "source": "website"})
    assert web.owner == org.rep3 and web.department_id == org.rep3.department_id
    event = _event(web)
    assert event.data["rule"] == rule.pk and event.data["owner"] == org.rep3.pk
    assert event.data["title"].startswith(rule.name)
    # the condition does not match: the creator keeps it, nothing recorded
    other = account_create(by=org.rep1, data={"kind": "company", "name": "转介绍客户", "source": "referral"})
    assert other.owner == org.rep1
    assert not TimelineEvent.objects.filter(event=ASSIGNED_EVENT, account_id=other.pk).exists()


def test_no_rule_leaves_the_creator_owner(org: Any) -> None:
    _rule(users=[org.rep2], is_active=False)
    _rule(kind=PoolKind.LEAD, users=[org.rep2])  # a lead rule never deals accounts
    account = account_create(by=org.rep1, data={"kind": "company", "name": "无规则"})
    assert account.owner == org.rep1
    assert not TimelineEvent.objects.filter(event=ASSIGNED_EVENT).exists()


def test_an_explicit_owner_skips_the_rules(org: Any) -> None:
    rule = _rule(users=[org.rep2])
    chosen = account_create(by=org.manager1, data={"kind": "company", "name": "指定", "owner": org.rep1})
    assert chosen.owner == org.rep1
    mine = account_create(by=org.rep1, data={"kind": "company", "name": "自己", "owner": org.rep1})
    assert mine.owner == org.rep1
    rule.refresh_from_db()
    assert rule.last_user_id is None


def test_pool_rule_puts_the_new_account_in_the_pool(org: Any) -> None:
    pool = Pool.objects.create(name="客户公海", kind=PoolKind.ACCOUNT)
    _rule(action=AssignmentAction.POOL, pool=pool)
    account = account_create(by=org.admin, data={"kind": "company", "name": "进公海"})
    assert account.owner_id is None
    assert account.pool_item.pool_id == pool.pk and account.pool_item.in_pool
    assert _event(account).data["pool"] == pool.pk


def test_round_robin_over_account_creations_and_leads_keep_their_own_turn(org: Any) -> None:
    account_rule = _rule(users=[org.rep1, org.rep2, org.rep3])
    lead_rule = _rule(kind=PoolKind.LEAD, users=[org.rep1, org.rep2, org.rep3])
    owners = [
        account_create(by=org.admin, data={"kind": "company", "name": f"客户{i}"}).owner.username  # type: ignore[union-attr]
        for i in range(6)
    ]
    assert owners == ["rep1", "rep2", "rep3", "rep1", "rep2", "rep3"]
    # The lead rule's turn was not advanced by the accounts.
    lead_rule.refresh_from_db()
    assert lead_rule.last_user_id is None
    result = assignment_apply(record=LeadFactory.create(owner=org.admin), by=org.admin)
    assert result is not None and result.rule == lead_rule and result.owner == org.rep1
    account_rule.refresh_from_db()
    assert account_rule.last_user_id == org.rep3.pk


def test_account_form_create_runs_the_rules(org: Any, client: Any) -> None:
    rule = _rule(action=AssignmentAction.USER, user=org.rep2, conditions={"source": "website"})
    client.force_login(org.rep1)
    response = client.post(
        "/customers/accounts/add/",
        {
            "kind": "company",
            "name": "表单客户",
            "source": "website",
            "lifecycle_stage": "new",
            "is_active": "on",
        },
        headers=HTMX,
    )
    assert response.status_code == 204, response.content.decode()[:2000]
    account = Account.objects.get(name="表单客户")
    assert account.owner == org.rep2
    assert _event(account).data["rule"] == rule.pk


def test_account_form_with_an_owner_chosen_skips_the_rules(org: Any, client: Any) -> None:
    _rule(action=AssignmentAction.USER, user=org.rep2)
    client.force_login(org.manager1)
    response = client.post(
        "/customers/accounts/add/",
        {
            "kind": "company",
            "name": "经理指定",
            "lifecycle_stage": "new",
            "owner": org.rep1.pk,
            "is_active": "on",
        },
        headers=HTMX,
    )
    assert response.status_code == 204, response.content.decode()[:2000]
    assert Account.objects.get(name="经理指定").owner == org.rep1
    # owner left empty: the rules decide
    response = client.post(
        "/customers/accounts/add/",
        {"kind": "company", "name": "经理未指定", "lifecycle_stage": "new", "owner": "", "is_active": "on"},
        headers=HTMX,
    )
    assert response.status_code == 204, response.content.decode()[:2000]
    assert Account.objects.get(name="经理未指定").owner == org.rep2


def test_api_create_runs_the_rules(org: Any) -> None:
    rule = _rule(users=[org.rep2, org.rep3])
    api = APIClient()
    api.force_authenticate(org.rep1)
    answer = api.post("/api/v1/customers/accounts/", {"kind": "company", "name": "接口客户"}, format="json")
    assert answer.status_code == 201, answer.content
    account = Account.objects.get(name="接口客户")
    assert account.owner == org.rep2
    assert _event(account).data["rule"] == rule.pk
    api.force_authenticate(org.manager1)
    answer = api.post(
        "/api/v1/customers/accounts/",
        {"kind": "company", "name": "接口指定", "owner": org.rep1.pk},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert Account.objects.get(name="接口指定").owner == org.rep1


def test_lead_conversion_keeps_the_customer_out_of_the_rules(org: Any) -> None:
    _rule(action=AssignmentAction.USER, user=org.rep3)
    lead = LeadFactory.create(owner=org.rep1, status=LeadStatus.QUALIFIED, company="转化公司")
    result = lead_convert(lead=lead, by=org.rep1, create_opportunity=False)
    assert result.account.owner == org.rep1
    assert not TimelineEvent.objects.filter(event=ASSIGNED_EVENT, account_id=result.account.pk).exists()
