"""The collision check on account and contact create/edit: forms (htmx modal) and API, warn and block."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.customers import services as customers_services
from kehu.customers.models import Account, Contact
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.dedup.errors import CollisionError
from kehu.dedup.services import collision_policy_set

from .conftest import make_lead

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
ACCOUNTS = "/api/v1/customers/accounts/"
CONTACTS = "/api/v1/customers/contacts/"


@pytest.fixture
def theirs(sales: Any) -> dict[str, Any]:
    """rep3 (华东区, outside rep1's scope) owns a lead and an account with a contact."""
    account = AccountFactory.create(
        owner=sales.rep3, name="深圳市腾讯计算机系统有限公司", phone="0755-8601 3388"
    )
    contact = ContactFactory.create(
        owner=sales.rep3, account=account, name="马化腾", email="pony@tencent.com"
    )
    lead = make_lead(sales.rep3, name="张小龙", company="微信科技有限公司", mobile="+8613812345678")
    return {"account": account, "contact": contact, "lead": lead}


# --- services ------------------------------------------------------------------------------------


def test_services_check_creates_and_only_new_keys_on_edits(sales: Any, theirs: dict[str, Any]) -> None:
    with pytest.raises(CollisionError):
        customers_services.account_create(by=sales.rep1, data={"name": "微信科技（深圳）有限公司"})
    assert not Account.objects.filter(owner=sales.rep1).exists()
    mine = customers_services.account_create(by=sales.rep1, data={"name": "微信科技有限公司"}, confirmed=True)
    # editing other fields of a record that collided when it was saved is quiet
    customers_services.account_update(account=mine, by=sales.rep1, data={"notes": "同名不同司"})
    with pytest.raises(CollisionError) as caught:
        customers_services.account_update(account=mine, by=sales.rep1, data={"phone": "13812345678"})
    assert [m["model"] for m in caught.value.as_dict()["matches"]] == ["sales.lead"]
    mine.refresh_from_db()
    assert mine.phone == ""
    contact = customers_services.contact_create(by=sales.rep1, data={"account": mine, "name": "甲"})
    with pytest.raises(CollisionError):
        customers_services.contact_update(
            contact=contact, by=sales.rep1, data={"emails": [{"email": "PONY@tencent.com"}]}
        )
    customers_services.contact_update(
        contact=contact, by=sales.rep1, data={"emails": [{"email": "PONY@tencent.com"}]}, confirmed=True
    )
    contact.refresh_from_db()
    assert contact.email == "pony@tencent.com"


# --- API -----------------------------------------------------------------------------------------


def test_api_warn_answers_409_with_masked_matches_until_confirmed(
    sales: Any, theirs: dict[str, Any], client: Any
) -> None:
    client.force_login(sales.rep1)
    data = {"name": "Tencent", "phones": [{"number": "0755 86013388", "is_primary": True}]}
    refused = client.post(ACCOUNTS, data, content_type="application/json")
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "collision"
    assert body["policy"] == "warn"
    assert body["confirm_field"] == "confirm_collisions"
    assert body["fields"] == {}
    [match] = body["matches"]
    assert (match["model"], match["id"], match["matched_on"], match["visible"], match["url"]) == (
        "customers.account",
        theirs["account"].pk,
        "phone",
        False,
        "",
    )
    assert match["label"] == "深***" and match["owner_name"] == "r***"
    assert "腾讯" not in refused.content.decode()
    assert not Account.objects.filter(owner=sales.rep1).exists()
    saved = client.post(ACCOUNTS, {**data, "confirm_collisions": True}, content_type="application/json")
    assert saved.status_code == 201, saved.json()
    assert Account.objects.filter(owner=sales.rep1, phone="+8675586013388").exists()


def test_api_the_director_sees_what_matched(sales: Any, theirs: dict[str, Any], client: Any) -> None:
    client.force_login(sales.director)
    refused = client.post(
        CONTACTS,
        {"account": theirs["account"].pk, "name": "X", "mobile": "138 1234 5678"},
        content_type="application/json",
    )
    assert refused.status_code == 409
    [match] = refused.json()["matches"]
    assert (match["model"], match["label"], match["owner_name"], match["visible"]) == (
        "sales.lead",
        "张小龙 (微信科技有限公司)",
        "rep3",
        True,
    )


def test_api_block_refuses_even_confirmed_and_edits_too(
    sales: Any, theirs: dict[str, Any], client: Any
) -> None:
    collision_policy_set(model_label="customers.contact", mode="block", by=sales.admin)
    mine = ContactFactory.create(owner=sales.rep1, name="乙")
    client.force_login(sales.rep1)
    created = client.post(
        CONTACTS,
        {"account": mine.account_id, "name": "丙", "email": "pony@tencent.com", "confirm_collisions": True},
        content_type="application/json",
    )
    assert created.status_code == 409
    assert created.json()["policy"] == "block"
    assert created.json()["confirm_field"] is None
    edited = client.patch(
        f"{CONTACTS}{mine.pk}/",
        {"email": "pony@tencent.com", "confirm_collisions": "true"},
        content_type="application/json",
    )
    assert edited.status_code == 409
    mine.refresh_from_db()
    assert (mine.email, mine.version) == ("", 1)
    assert Contact.objects.filter(owner=sales.rep1).count() == 1
    # accounts still only warn
    warned = client.post(
        ACCOUNTS,
        {"name": "腾讯计算机系统有限公司", "confirm_collisions": True},
        content_type="application/json",
    )
    assert warned.status_code == 201


# --- forms -----------------------------------------------------------------------------------------


def test_form_warn_shows_the_matches_and_saves_anyway(
    sales: Any, theirs: dict[str, Any], client: Any
) -> None:
    client.force_login(sales.rep1)
    data = {
        "kind": "company",
        "name": "微信科技有限公司",
        "phones-number": "13812345678",
        "phones-is_primary": "1",
    }
    shown = client.post("/customers/accounts/add/", data, headers=HTMX)
    assert shown.status_code == 200
    body = shown.content.decode()
    assert "This account matches an existing record." in body  # the lead, on phone and company
    assert body.count("data-collision=") == 1
    assert 'data-policy="warn"' in body and 'name="confirm_collisions"' in body
    assert "data-masked" in body and "张***" in body and "张小龙" not in body  # rep3's lead, masked
    assert not Account.objects.filter(owner=sales.rep1).exists()
    saved = client.post("/customers/accounts/add/", {**data, "confirm_collisions": "on"}, headers=HTMX)
    assert saved.status_code == 204
    assert Account.objects.filter(owner=sales.rep1, name="微信科技有限公司").exists()


def test_form_block_shows_the_matches_without_save_anyway(
    sales: Any, theirs: dict[str, Any], client: Any
) -> None:
    collision_policy_set(model_label="customers.account", mode="block", by=sales.admin)
    mine = AccountFactory.create(owner=sales.rep1, name="原名")
    client.force_login(sales.rep1)
    data = {
        "kind": "company",
        "name": "深圳市腾讯计算机系统有限公司",
        "version": 1,
        "confirm_collisions": "on",
    }
    shown = client.post(f"/customers/accounts/{mine.pk}/edit/", data, headers=HTMX)
    assert shown.status_code == 200
    body = shown.content.decode()
    assert 'data-policy="block"' in body
    assert 'name="confirm_collisions"' not in body
    assert "duplicates may not be saved" in body
    mine.refresh_from_db()
    assert mine.name == "原名"


def test_form_contact_edit_in_chinese(sales: Any, theirs: dict[str, Any], client: Any) -> None:
    mine = ContactFactory.create(owner=sales.rep1, name="乙")
    client.force_login(sales.rep1)
    data = {
        "account": mine.account_id,
        "name": "乙",
        "emails-email": "pony@tencent.com",
        "emails-is_primary": "1",
        "version": 1,
    }
    shown = client.post(
        f"/customers/contacts/{mine.pk}/edit/", data, headers={**HTMX, "Accept-Language": "zh-hans"}
    )
    assert shown.status_code == 200
    body = shown.content.decode()
    assert 'data-policy="warn"' in body
    assert 'name="confirm_collisions"' in body
