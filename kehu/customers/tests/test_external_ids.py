"""External IDs (the record's id in another system) on accounts and contacts: API read/write, one
duplicate error for API and forms, the exact filter, the export column and the list column."""

from __future__ import annotations

import csv
import io

import pytest

from kehu.core import exports
from kehu.core.choices import JobStatus
from kehu.customers.models import Account, Contact
from kehu.customers.services import account_create, account_update
from kehu.customers.tables import AccountTable, ContactTable

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

ACCOUNTS = "/api/v1/customers/accounts/"
CONTACTS = "/api/v1/customers/contacts/"
HTMX = {"HX-Request": "true"}
TAKEN = "Another record already has this external ID."


def _export(user, exporter: str, params: dict, capture) -> list[list[str]]:
    with capture(execute=True):
        job = exports.export_start(user=user, exporter=exporter, params=params, fmt="csv")
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return list(csv.reader(io.StringIO(job.result_file.read().decode("utf-8-sig"))))


def test_account_api_create_update_and_duplicate(sales, client) -> None:
    client.force_login(sales.rep1)
    created = client.post(
        ACCOUNTS, {"name": "甲", "external_id": " SF-001 "}, content_type="application/json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["external_id"] == "SF-001"
    pk = created.json()["id"]
    assert client.get(f"{ACCOUNTS}{pk}/").json()["external_id"] == "SF-001"
    updated = client.patch(f"{ACCOUNTS}{pk}/", {"external_id": "SF-002"}, content_type="application/json")
    assert (updated.status_code, updated.json()["external_id"]) == (200, "SF-002")
    # The same value again on the same record is no clash.
    same = client.patch(f"{ACCOUNTS}{pk}/", {"external_id": "SF-002"}, content_type="application/json")
    assert same.status_code == 200
    duplicate = client.post(
        ACCOUNTS, {"name": "乙", "external_id": "SF-002"}, content_type="application/json"
    )
    assert duplicate.status_code == 400
    assert duplicate.json() == {
        "code": "duplicate_external_id",
        "message": "Some fields are not valid.",
        "fields": {"external_id": [TAKEN]},
    }
    other = AccountFactory.create(owner=sales.rep1, name="丙")
    clash = client.patch(f"{ACCOUNTS}{other.pk}/", {"external_id": "SF-002"}, content_type="application/json")
    assert (clash.status_code, clash.json()["fields"]) == (400, {"external_id": [TAKEN]})
    assert list(Account.objects.order_by("pk").values_list("name", "external_id")) == [
        ("甲", "SF-002"),
        ("丙", ""),
    ]


def test_empty_external_ids_never_clash(sales) -> None:
    first = account_create(by=sales.rep1, data={"name": "甲", "external_id": ""})
    second = account_create(by=sales.rep1, data={"name": "乙", "external_id": "  "})
    assert (first.external_id, second.external_id) == ("", "")
    account_update(account=first, by=sales.rep1, data={"external_id": "X-1"})
    # Another account's id is refused even outside the user's scope (the key is global).
    with pytest.raises(Exception) as exc:
        account_create(by=sales.rep3, data={"name": "丙", "external_id": "X-1"})
    assert getattr(exc.value, "fields", None) == {"external_id": [TAKEN]}


def test_contact_api_create_update_and_duplicate(sales, client) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    ContactFactory.create(owner=sales.rep1, account=account, external_id="HS-9")
    client.force_login(sales.rep1)
    created = client.post(
        CONTACTS,
        {"account": account.pk, "name": "张三", "external_id": "HS-1"},
        content_type="application/json",
    )
    assert (created.status_code, created.json()["external_id"]) == (201, "HS-1")
    pk = created.json()["id"]
    updated = client.patch(f"{CONTACTS}{pk}/", {"external_id": "HS-2"}, content_type="application/json")
    assert (updated.status_code, updated.json()["external_id"]) == (200, "HS-2")
    duplicate = client.patch(f"{CONTACTS}{pk}/", {"external_id": "HS-9"}, content_type="application/json")
    assert duplicate.status_code == 400
    assert (duplicate.json()["code"], duplicate.json()["fields"]) == (
        "duplicate_external_id",
        {"external_id": [TAKEN]},
    )
    assert Contact.objects.get(pk=pk).external_id == "HS-2"


def test_account_form_saves_and_refuses_a_duplicate(sales, client) -> None:
    AccountFactory.create(owner=sales.rep1, external_id="ERP-7")
    client.force_login(sales.rep1)
    page = client.get("/customers/accounts/add/").content.decode()
    assert 'name="external_id"' in page
    bad = client.post(
        "/customers/accounts/add/", {"kind": "company", "name": "新", "external_id": "ERP-7"}, headers=HTMX
    )
    assert bad.status_code == 200
    assert TAKEN in bad.content.decode()
    assert Account.objects.count() == 1
    ok = client.post(
        "/customers/accounts/add/", {"kind": "company", "name": "新", "external_id": "ERP-8"}, headers=HTMX
    )
    assert ok.status_code == 204
    account = Account.objects.get(name="新")
    assert account.external_id == "ERP-8"
    detail = client.get(account.get_absolute_url()).content.decode()
    assert "ERP-8" in detail and "External ID" in detail


def test_contact_form_saves_the_external_id(sales, client) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    contact = ContactFactory.create(owner=sales.rep1, account=account, name="李四")
    client.force_login(sales.rep1)
    response = client.post(
        f"/customers/contacts/{contact.pk}/edit/",
        {"account": account.pk, "name": "李四", "external_id": "C-5", "version": 1},
        headers=HTMX,
    )
    assert response.status_code == 204, response.content.decode()[:2000]
    contact.refresh_from_db()
    assert contact.external_id == "C-5"


def test_filter_is_exact(sales, client) -> None:
    AccountFactory.create(owner=sales.rep1, name="甲", external_id="A-1")
    AccountFactory.create(owner=sales.rep1, name="乙", external_id="A-10")
    account = AccountFactory.create(owner=sales.rep1, name="丙")
    ContactFactory.create(owner=sales.rep1, account=account, name="张", external_id="A-1")
    client.force_login(sales.rep1)
    found = client.get(ACCOUNTS, {"external_id": "A-1"}).json()
    assert [(r["name"], r["external_id"]) for r in found["results"]] == [("甲", "A-1")]
    contacts = client.get(CONTACTS, {"external_id": "A-1"}).json()
    assert [r["name"] for r in contacts["results"]] == ["张"]
    assert client.get(CONTACTS, {"external_id": "A-10"}).json()["results"] == []


def test_exports_have_the_column(sales, django_capture_on_commit_callbacks) -> None:
    account = AccountFactory.create(owner=sales.rep1, name="甲", external_id="=A5")
    ContactFactory.create(owner=sales.rep1, account=account, name="张", external_id="C-1")
    rows = _export(sales.rep1, "customers.account", {}, django_capture_on_commit_callbacks)
    col = rows[0].index("External ID")
    assert col == 1
    # A value a spreadsheet would read as a formula keeps the export's guard apostrophe.
    assert [r[col] for r in rows[1:]] == ["'=A5"]
    rows = _export(sales.rep1, "customers.contact", {}, django_capture_on_commit_callbacks)
    assert [r[rows[0].index("External ID")] for r in rows[1:]] == ["C-1"]


def test_list_tables_offer_a_non_default_column() -> None:
    for table in (AccountTable, ContactTable):
        column = next(c for c in table.columns if c.name == "external_id")
        assert (str(column.label), column.default) == ("External ID", False)
