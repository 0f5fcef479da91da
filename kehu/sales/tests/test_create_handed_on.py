"""Creating a record that an assignment rule (or the pool) hands to someone outside the creator's
data scope: the tags chosen in the create form or sent to the API go in with the create (as the
creator's, before the rules run: a rule may even match on them), and the creator lands on the list
with a message naming who got it (page and htmx), or gets 201 ``{"id": ...}`` from the API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.messages import get_messages
from rest_framework.test import APIClient

from kehu.core.choices import Action, Scope
from kehu.customers.models import Account, Contact
from kehu.customers.services import account_create
from kehu.customers.tests.factories import AccountFactory
from kehu.tags.models import TaggedItem
from kehu.tags.selectors import tags_of
from kehu.tags.services import tags_set_new
from kehu.tags.tests.factories import TagFactory
from kehu.users.tests.factories import grant

from ..choices import AssignmentAction, PoolKind
from ..models import AssignmentRule, Lead, Opportunity, Pool
from .opportunity_fixtures import opps  # noqa: F401

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
ACCOUNT_FORM = {"kind": "company", "lifecycle_stage": "new", "is_active": "on"}


@pytest.fixture
def org(company: Any) -> Any:
    for label in ("customers.account", "customers.contact", "sales.lead"):
        grant(company.role_rep, label, Action.VIEW, Action.ADD, Action.CHANGE, scope=Scope.OWN)
    company.vip = TagFactory.create(name="VIP")
    company.hot = TagFactory.create(name="热门")
    return company


def _rule(org: Any, kind: str = PoolKind.ACCOUNT, **kwargs: Any) -> AssignmentRule:
    kwargs.setdefault("action", AssignmentAction.USER)
    if kwargs["action"] == AssignmentAction.USER:
        kwargs.setdefault("user", org.rep3)  # another department (华东区) than rep1 (华北区)
    return AssignmentRule.objects.create(name="华东客户", kind=kind, **kwargs)


def _tag_names(obj: Any) -> set[str]:
    obj.__dict__.pop("_kehu_tags", None)
    return {t.name for t in tags_of(obj)}


def test_account_form_with_tags_handed_to_another_department(org: Any, client: Any) -> None:
    _rule(org)
    client.force_login(org.rep1)
    data = {**ACCOUNT_FORM, "name": "外区客户", "tags": [str(org.vip.pk)]}
    response = client.post("/customers/accounts/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/customers/accounts/"
    account = Account.objects.get(name="外区客户")
    assert account.owner == org.rep3 and account.created_by == org.rep1
    assert _tag_names(account) == {"VIP"}
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Account “外区客户” was created and assigned to rep3 by rule “华东客户”."
    ]
    # the list (where rep1 lands) answers, the record itself is out of reach
    assert client.get("/customers/accounts/").status_code == 200
    assert client.get(account.get_absolute_url()).status_code == 404


def test_account_form_in_a_modal_names_the_pool(org: Any, client: Any) -> None:
    pool = Pool.objects.create(name="客户公海", kind=PoolKind.ACCOUNT)
    _rule(org, action=AssignmentAction.POOL, pool=pool)
    client.force_login(org.rep1)
    data = {**ACCOUNT_FORM, "name": "公海客户", "tags": [str(org.vip.pk), str(org.hot.pk)]}
    response = client.post("/customers/accounts/add/", data, headers=HTMX)
    assert response.status_code == 204, response.content.decode()[:2000]
    assert json.loads(response["HX-Location"])["path"] == "/customers/accounts/"
    toast = json.loads(response["HX-Trigger"])["kehu:toast"]
    assert toast == {
        "message": "Account “公海客户” was created and put in the pool “客户公海” by rule “华东客户”.",
        "level": "info",
    }
    account = Account.objects.get(name="公海客户")
    assert account.owner_id is None and account.pool_item.in_pool
    assert _tag_names(account) == {"VIP", "热门"}


def test_a_rule_may_match_on_the_tags_of_the_form(org: Any, client: Any) -> None:
    _rule(org, conditions={"tags": [org.vip.pk]})
    client.force_login(org.rep1)
    client.post("/customers/accounts/add/", {**ACCOUNT_FORM, "name": "普通", "tags": [str(org.hot.pk)]})
    client.post("/customers/accounts/add/", {**ACCOUNT_FORM, "name": "大客户", "tags": [str(org.vip.pk)]})
    assert Account.objects.get(name="普通").owner == org.rep1
    assert Account.objects.get(name="大客户").owner == org.rep3


def test_account_form_still_within_scope_goes_to_the_record(org: Any, client: Any) -> None:
    client.force_login(org.rep1)
    response = client.post(
        "/customers/accounts/add/", {**ACCOUNT_FORM, "name": "自己的", "tags": [org.vip.pk]}
    )
    account = Account.objects.get(name="自己的")
    assert response.status_code == 302 and response["Location"] == account.get_absolute_url()
    assert account.owner == org.rep1 and _tag_names(account) == {"VIP"}


def test_a_refused_tag_saves_nothing(org: Any, client: Any) -> None:
    _rule(org)
    org.hot.is_active = False
    org.hot.save()
    client.force_login(org.rep1)
    response = client.post("/customers/accounts/add/", {**ACCOUNT_FORM, "name": "失败", "tags": [org.hot.pk]})
    assert response.status_code == 400
    assert not Account.objects.filter(name="失败").exists()


def test_api_create_with_tags_handed_on_answers_201_with_the_id(org: Any) -> None:
    _rule(org)
    api = APIClient()
    api.force_authenticate(org.rep1)
    answer = api.post(
        "/api/v1/customers/accounts/",
        {"kind": "company", "name": "接口外区", "tags": [org.vip.pk, "热门"]},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    account = Account.objects.get(name="接口外区")
    assert answer.json() == {"id": account.pk}  # documented: out of the creator's reach
    assert account.owner == org.rep3
    assert _tag_names(account) == {"VIP", "热门"}
    assert api.get(f"/api/v1/customers/accounts/{account.pk}/").status_code == 404


def test_api_contact_create_with_tags(org: Any) -> None:
    account = account_create(by=org.rep1, data={"kind": "company", "name": "本区", "owner": org.rep1})
    api = APIClient()
    api.force_authenticate(org.rep1)
    answer = api.post(
        "/api/v1/customers/contacts/",
        {"account": account.pk, "name": "王经理", "tags": [org.vip.pk]},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert [t["name"] for t in answer.json()["tags"]] == ["VIP"]
    assert _tag_names(Contact.objects.get(name="王经理")) == {"VIP"}


def test_lead_form_with_tags_handed_to_another_department(org: Any, client: Any) -> None:
    _rule(org, kind=PoolKind.LEAD)
    client.force_login(org.rep1)
    response = client.post(
        "/sales/leads/add/",
        {"name": "李四", "company": "外区公司", "status": "new", "tags": [org.vip.pk]},
        headers=HTMX,
    )
    assert response.status_code == 204, response.content.decode()[:3000]
    lead = Lead.objects.get(name="李四")
    assert lead.owner == org.rep3
    assert _tag_names(lead) == {"VIP"}
    assert json.loads(response["HX-Location"])["path"] == "/sales/leads/"
    assert json.loads(response["HX-Trigger"])["kehu:toast"]["message"] == (
        "Lead “李四 (外区公司)” was created and assigned to rep3 by rule “华东客户”."
    )


def test_tags_set_new_is_for_the_creator_only(org: Any) -> None:
    from kehu.core.errors import PermissionDeniedError

    account = account_create(by=org.rep1, data={"kind": "company", "name": "别人的", "owner": org.rep1})
    with pytest.raises(PermissionDeniedError):
        tags_set_new(obj=account, tags=[org.vip.pk], by=org.rep2)
    assert not TaggedItem.objects.exists()


def test_opportunity_for_an_owner_out_of_reach_keeps_its_tags(opps: Any, client: Any) -> None:  # noqa: F811
    vip = TagFactory.create(name="VIP")
    account = AccountFactory.create(owner=opps.manager1)
    client.force_login(opps.manager1)  # 华北区, department scope, may assign
    data = {"name": "华东商机", "account": account.pk, "amount": "5", "currency": "CNY", "tags": [vip.pk]}
    response = client.post("/sales/opportunities/add/", {**data, "owner": opps.rep3.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/sales/opportunities/"
    opp = Opportunity.objects.get(name="华东商机")
    assert opp.owner == opps.rep3 and _tag_names(opp) == {"VIP"}
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Opportunity “华东商机” was created and assigned to rep3."
    ]
    api = APIClient()
    api.force_authenticate(opps.manager1)
    answer = api.post(
        "/api/v1/sales/opportunities/",
        {**data, "name": "接口商机", "owner": opps.rep3.pk, "tags": ["VIP"]},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    opp = Opportunity.objects.get(name="接口商机")
    assert answer.json() == {"id": opp.pk}
    assert _tag_names(opp) == {"VIP"}
