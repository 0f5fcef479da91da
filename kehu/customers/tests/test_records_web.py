"""Customer records through the pages and the API: the account form with rows and regions, the
region picker, nested lists, the addresses and relations endpoints, bad input."""

from __future__ import annotations

import re

import pytest

from kehu.customers.models import Account, AccountAddress, AccountContactRelation

from .factories import AccountFactory, AddressFactory, ContactFactory, RelationFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
API = "/api/v1/customers"


def test_account_form_saves_rows_region_parent_and_tax_number(sales, client) -> None:
    group = AccountFactory.create(owner=sales.rep1, name="集团")
    client.force_login(sales.rep1)
    page = client.get("/customers/accounts/add/", headers=HTMX)
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("phones-number", "emails-email", "addresses-street", 'name="province"', 'name="tax_number"'):
        assert name in html
    response = client.post(
        "/customers/accounts/add/",
        {
            "kind": "company",
            "name": "<script>alert(1)</script>深圳公司",
            "lifecycle_stage": "new",
            "parent": group.pk,
            "tax_number": "91350100m000100y43",
            "country": "CN",
            "province": "440000",
            "city": "440300",
            "district": "440305",
            "phones-kind": ["work", "mobile"],
            "phones-number": ["0755 8888 6666", "138 1234 5678"],
            "phones-is_primary": ["0", "1"],
            "emails-kind": ["work"],
            "emails-email": ["Info@Example.CN"],
            "emails-is_primary": ["1"],
            "addresses-kind": ["office"],
            "addresses-country": ["CN"],
            "addresses-province": ["440000"],
            "addresses-city": ["440300"],
            "addresses-district": ["440305"],
            "addresses-street": ["科技园路1号"],
            "addresses-postcode": ["518057"],
            "addresses-is_primary": ["1"],
            "is_active": "on",
        },
        headers=HTMX,
    )
    assert response.status_code == 204, response.content.decode()[:2000]
    account = Account.objects.get(parent=group)
    assert account.tax_number == "91350100M000100Y43"
    assert (account.phone, account.email) == ("+8613812345678", "info@example.cn")
    assert (account.province, account.city, account.district) == ("440000", "440300", "440305")
    assert account.addresses.get().street == "科技园路1号"
    detail = client.get(account.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in detail
    assert "&lt;script&gt;" in detail
    # The edit form shows the rows; a bad phone and a bad credit code come back with messages.
    edit = client.get(f"/customers/accounts/{account.pk}/edit/", headers=HTMX).content.decode()
    assert "138 1234 5678" in edit and "科技园路1号" in edit
    response = client.post(
        f"/customers/accounts/{account.pk}/edit/",
        {
            "kind": "company",
            "name": "深圳公司",
            "tax_number": "91350100M000100Y44",
            "phones-kind": ["work"],
            "phones-number": ["12"],
            "phones-is_primary": ["1"],
            "version": account.version,
        },
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "check digit" in html
    account.refresh_from_db()
    assert account.phone == "+8613812345678"


def test_stale_edit_is_refused_with_a_message(sales, client) -> None:
    account = AccountFactory.create(owner=sales.rep1, name="旧名")
    client.force_login(sales.rep1)
    form = client.get(f"/customers/accounts/{account.pk}/edit/", headers=HTMX).content.decode()
    snapshot = re.search(r'name="snapshot" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    Account.objects.filter(pk=account.pk).update(version=5, name="别人改的")
    response = client.post(
        f"/customers/accounts/{account.pk}/edit/",
        {"kind": "company", "name": "我的修改", "version": 1, "snapshot": snapshot},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else changed" in html
    assert "Changed meanwhile: name." in html
    account.refresh_from_db()
    assert account.name == "别人改的"


def test_region_picker_cascades(sales, client) -> None:
    client.force_login(sales.rep1)
    html = client.get(
        "/customers/regions/picker/", {"prefix": "addresses-", "addresses-province": "440000"}
    ).content.decode()
    assert 'name="addresses-city"' in html and "深圳市" in html
    html = client.get("/customers/regions/picker/", {"province": "110000"}).content.decode()
    assert "海淀区" in html  # municipality: districts right away
    # a city of another province is dropped
    html = client.get("/customers/regions/picker/", {"province": "110000", "city": "440300"}).content.decode()
    assert 'value="440300" selected' not in html
    html = client.get("/customers/regions/picker/", {"country": "JP"}).content.decode()
    assert 'name="province" value=""' in html
    assert client.get("/customers/regions/picker/", {"prefix": "<x>", "country": "'\"><"}).status_code == 200


def test_contact_form_with_role_and_other_accounts(sales, client) -> None:
    a1 = AccountFactory.create(owner=sales.rep1)
    a2 = AccountFactory.create(owner=sales.rep1)
    client.force_login(sales.rep1)
    response = client.post(
        "/customers/contacts/add/",
        {
            "account": a1.pk,
            "role": "purchaser",
            "other_accounts": [a2.pk],
            "name": "李娜",
            "gender": "female",
            "birthday": "1990-03-08",
            "preferred_channel": "email",
            "do_not_call": "on",
            "phones-kind": ["mobile"],
            "phones-number": ["139 1234 5678"],
            "phones-is_primary": ["1"],
        },
        headers=HTMX,
    )
    assert response.status_code == 204, response.content.decode()[:2000]
    rels = set(AccountContactRelation.objects.values_list("account_id", "role", "is_direct"))
    assert rels == {(a1.pk, "purchaser", True), (a2.pk, "", False)}


def test_api_nested_lists_and_masking(sales, client) -> None:
    client.force_login(sales.rep1)
    response = client.post(
        f"{API}/accounts/",
        {
            "name": "API",
            "province": "440000",
            "phones": [{"kind": "mobile", "number": "13812345678"}],
            "emails": [{"email": "A@B.CN"}],
            "addresses": [{"province": "440000", "city": "440300", "street": "路1号"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phone"] == "+8613812345678" and body["phones"][0]["is_primary"] is True
    assert body["emails"][0]["email"] == "a@b.cn"
    assert body["country"] == "CN" and body["addresses"][0]["street"] == "路1号"
    bad = client.post(
        f"{API}/accounts/", {"name": "X", "phones": [{"number": "12"}]}, content_type="application/json"
    )
    assert bad.status_code == 400 and "phones" in bad.json()["fields"]
    bad = client.post(f"{API}/accounts/", {"name": "X", "tax_number": "123"}, content_type="application/json")
    assert bad.status_code == 400 and "tax_number" in bad.json()["fields"]


def test_api_addresses_endpoint(sales, client) -> None:
    mine = AccountFactory.create(owner=sales.rep1)
    hidden = AddressFactory.create(account=AccountFactory.create(owner=sales.rep3))
    client.force_login(sales.rep1)
    response = client.post(
        f"{API}/addresses/",
        {"account": mine.pk, "kind": "billing", "province": "440000", "city": "440300", "street": "路2号"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["is_primary"] is True  # the first address
    listed = client.get(f"{API}/addresses/").json()["results"]
    assert [r["account"] for r in listed] == [mine.pk]
    assert client.get(f"{API}/addresses/{hidden.pk}/").status_code == 404
    pk = response.json()["id"]
    bad = client.patch(f"{API}/addresses/{pk}/", {"city": "110100"}, content_type="application/json")
    assert bad.status_code == 400
    assert client.delete(f"{API}/addresses/{pk}/").status_code == 204
    assert not AccountAddress.objects.filter(pk=pk).exists()


def test_api_relations_endpoint(sales, client) -> None:
    contact = ContactFactory.create(owner=sales.rep1)
    other = AccountFactory.create(owner=sales.rep1)
    client.force_login(sales.rep1)
    url = f"{API}/account-contact-relations/"
    response = client.post(
        url, {"contact": contact.pk, "account": other.pk, "role": "finance"}, content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    again = client.post(url, {"contact": contact.pk, "account": other.pk}, content_type="application/json")
    assert again.status_code == 409
    bad_role = client.patch(
        f"{url}{response.json()['id']}/", {"role": "boss"}, content_type="application/json"
    )
    assert bad_role.status_code == 400
    listed = client.get(url, {"contact": contact.pk}).json()["results"]
    assert {(r["account"], r["is_direct"]) for r in listed} == {(contact.account_id, True), (other.pk, False)}
    direct = next(r for r in listed if r["is_direct"])
    assert client.delete(f"{url}{direct['id']}/").status_code == 400
    detail = client.get(f"{API}/contacts/{contact.pk}/").json()
    assert {r["account"] for r in detail["relations"]} == {contact.account_id, other.pk}
    RelationFactory.create(contact=ContactFactory.create(owner=sales.rep3))
    assert len(client.get(url).json()["results"]) == 2  # rep3's contact's relations are not visible
