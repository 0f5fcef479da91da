"""The accounts and contacts API: writes through the services, 409 on stale versions, field
permissions, custom fields, keyset pagination and the shared FilterSet."""

from __future__ import annotations

import pytest

from kehu.audit.models import ObjectChange
from kehu.core.choices import FieldMode
from kehu.customers.models import Account, Contact
from kehu.customfields.models import CustomField
from kehu.users.models import FieldPermission

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/accounts/"


def test_create_normalises_and_answers_the_record(sales, client) -> None:
    client.force_login(sales.rep1)
    response = client.post(
        URL,
        {"name": "API 客户", "phone": "+86 138-1234-5678", "email": "Li@Example.CN"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["phone"], body["email"], body["owner"], body["version"]) == (
        "+8613812345678",
        "li@example.cn",
        sales.rep1.pk,
        1,
    )
    assert body["department"] == sales.north.pk


def test_bad_input_gives_the_error_shape(sales, client) -> None:
    client.force_login(sales.rep1)
    response = client.post(URL, {"name": "X", "phone": "12"}, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "customers_invalid"
    assert list(body["fields"]) == ["phone"]
    too_long = client.post(URL, {"name": "长" * 201}, content_type="application/json")
    assert too_long.status_code == 400 and "name" in too_long.json()["fields"]
    assert Account.objects.count() == 0


def test_stale_version_answers_409_and_keeps_the_row(sales, client) -> None:
    account = AccountFactory.create(owner=sales.rep1, name="原名")
    client.force_login(sales.rep1)
    ok = client.patch(f"{URL}{account.pk}/", {"name": "甲", "version": 1}, content_type="application/json")
    assert (ok.status_code, ok.json()["version"]) == (200, 2)
    stale = client.patch(f"{URL}{account.pk}/", {"name": "乙", "version": 1}, content_type="application/json")
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_object"
    # Without a version the write is last-one-wins.
    assert (
        client.patch(f"{URL}{account.pk}/", {"name": "丙"}, content_type="application/json").status_code
        == 200
    )
    account.refresh_from_db()
    assert (account.name, account.version) == ("丙", 3)


def test_delete_with_contacts_answers_409(sales, client) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    ContactFactory.create(owner=sales.rep1, account=account)
    client.force_login(sales.rep1)
    response = client.delete(f"{URL}{account.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "account_has_contacts"
    assert Account.objects.filter(pk=account.pk).exists()


def test_visible_but_not_changeable_answers_403(company, client) -> None:
    from kehu.users.tests.factories import grant

    grant(company.role_rep, "customers.account", "view", scope="own")
    account = AccountFactory.create(owner=company.rep1)
    client.force_login(company.rep1)
    response = client.patch(f"{URL}{account.pk}/", {"name": "X"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert client.post(URL, {"name": "X"}, content_type="application/json").status_code == 403


def test_owner_change_needs_assign(sales, client) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    client.force_login(sales.rep1)
    response = client.patch(f"{URL}{account.pk}/", {"owner": sales.rep2.pk}, content_type="application/json")
    assert response.status_code == 403
    assert "owner" in response.json()["fields"]
    account.refresh_from_db()
    assert account.owner == sales.rep1


def test_keyset_pagination_and_filters(sales, client) -> None:
    accounts = [
        AccountFactory.create(owner=sales.rep1, name=f"客户{i}", kind="person" if i % 2 else "company")
        for i in range(5)
    ]
    client.force_login(sales.rep1)
    first = client.get(f"{URL}?page_size=2").json()
    assert [r["id"] for r in first["results"]] == [accounts[4].pk, accounts[3].pk]
    assert "count" not in first
    second = client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [accounts[2].pk, accounts[1].pk]
    persons = client.get(f"{URL}?kind=person").json()["results"]
    assert {r["id"] for r in persons} == {accounts[1].pk, accounts[3].pk}
    assert client.get(f"{URL}?kind=nonsense").status_code == 400


def test_masked_and_hidden_fields_in_the_api(sales, client) -> None:
    FieldPermission.objects.create(
        role=sales.role_rep, model="customers.account", field="phone", mode=FieldMode.MASKED
    )
    FieldPermission.objects.create(
        role=sales.role_rep, model="customers.account", field="notes", mode=FieldMode.HIDDEN
    )
    account = AccountFactory.create(owner=sales.rep1, phone="13812345678", notes="内部")
    client.force_login(sales.rep1)
    body = client.get(f"{URL}{account.pk}/").json()
    assert body["phone"] == "+86 138****5678"
    assert "notes" not in body
    refused = client.patch(
        f"{URL}{account.pk}/", {"phone": "13900000000", "notes": "x"}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert set(refused.json()["fields"]) == {"phone", "notes"}
    account.refresh_from_db()
    assert (account.phone, account.notes) == ("+8613812345678", "内部")
    revealed = client.post(f"{URL}{account.pk}/reveal/", {"field": "phone"}, content_type="application/json")
    assert revealed.json() == {"field": "phone", "value": "+8613812345678"}
    assert ObjectChange.objects.filter(action="reveal", object_id=account.pk).count() == 1
    hidden = client.post(f"{URL}{account.pk}/reveal/", {"field": "notes"}, content_type="application/json")
    assert hidden.status_code == 400


def test_custom_fields_are_read_and_validated(sales, client) -> None:
    CustomField.objects.create(
        model="customers.account", name="tax_no", label="税号", type="text", required=True
    )
    client.force_login(sales.rep1)
    missing = client.post(URL, {"name": "X"}, content_type="application/json")
    assert missing.status_code == 400
    assert "custom.tax_no" in missing.json()["fields"]
    created = client.post(
        URL, {"name": "X", "custom": {"tax_no": "91110000MA01"}}, content_type="application/json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["custom"] == {"tax_no": "91110000MA01"}
    unknown = client.patch(
        f"{URL}{created.json()['id']}/", {"custom": {"nope": 1}}, content_type="application/json"
    )
    assert unknown.status_code == 400
    assert "custom.nope" in unknown.json()["fields"]


def test_contacts_api_refers_only_to_visible_accounts(sales, client) -> None:
    theirs = AccountFactory.create(owner=sales.rep2)
    mine = AccountFactory.create(owner=sales.rep1)
    client.force_login(sales.rep1)
    refused = client.post(
        "/api/v1/customers/contacts/", {"account": theirs.pk, "name": "X"}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert "account" in refused.json()["fields"]
    ok = client.post(
        "/api/v1/customers/contacts/",
        {"account": mine.pk, "name": "张伟", "mobile": "13900001111", "is_primary": True},
        content_type="application/json",
    )
    assert ok.status_code == 201
    assert Contact.objects.get().mobile == "+8613900001111"
    assert client.get(f"/api/v1/customers/contacts/?account={mine.pk}").json()["results"][0]["name"] == "张伟"
