"""Account and contact pages: lists, detail tabs, htmx modals, masking and reveal, query counts."""

from __future__ import annotations

import json
import re

import pytest

from kehu.audit.models import ObjectChange
from kehu.core.choices import FieldMode
from kehu.core.models import UserPreference
from kehu.customers.models import Account, Contact
from kehu.users.models import FieldPermission

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def listed(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-pk="(\d+)"', response.content.decode())]


def test_the_scope_story_rep1_sees_own_manager1_sees_north(sales, client) -> None:
    a1 = AccountFactory.create(owner=sales.rep1, name="rep1 的客户")
    a2 = AccountFactory.create(owner=sales.rep2, name="rep2 的客户")
    a3 = AccountFactory.create(owner=sales.rep3, name="rep3 的客户")
    client.force_login(sales.rep1)
    assert listed(client.get("/customers/accounts/")) == [a1.pk]
    assert client.get(a2.get_absolute_url()).status_code == 404
    client.force_login(sales.manager1)
    assert listed(client.get("/customers/accounts/")) == [a2.pk, a1.pk]
    assert client.get(a3.get_absolute_url()).status_code == 404
    client.force_login(sales.director)
    assert listed(client.get("/customers/accounts/")) == [a3.pk, a2.pk, a1.pk]


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_list_query_count_does_not_grow_with_rows(sales, client, django_assert_max_num_queries) -> None:
    for i in range(5):
        AccountFactory.create(owner=sales.rep1 if i % 2 else sales.rep2, phone="13800138000", level="vip")
    client.force_login(sales.manager1)
    url = "/customers/accounts/?per_page=25"
    client.get(url)  # warm: configuration read once per process (kehu.core.confcache)
    few = _queries(client, url)
    for i in range(30):
        AccountFactory.create(owner=sales.rep1 if i % 2 else sales.rep2, phone="13800138000", level="vip")
    assert _queries(client, url) == few
    # session, user, MFA/admin/grants, field modes, preferences, custom fields, the page, picklist
    # labels, the filter form's choices, tags and saved views, the notification bell: a constant handful.
    with django_assert_max_num_queries(24):
        response = client.get(url)
    assert len(listed(response)) == 25
    assert 'rel="next"' in response.content.decode()


def test_contact_list_and_detail_query_counts(sales, client, django_assert_max_num_queries) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    for _ in range(20):
        ContactFactory.create(owner=sales.rep1, account=account, mobile="13900139000")
    client.force_login(sales.rep1)
    client.get("/customers/contacts/")  # warm: configuration read once per process
    few = _queries(client, "/customers/contacts/")
    for _ in range(10):
        ContactFactory.create(owner=sales.rep1, account=account, mobile="13900139000")
    assert _queries(client, "/customers/contacts/") == few
    with django_assert_max_num_queries(19):  # + the role filter's picklist
        assert client.get("/customers/contacts/").status_code == 200
    with django_assert_max_num_queries(24):  # the 360° page's facts, cards and related lists
        response = client.get(f"{account.get_absolute_url()}?tab=contacts")
    assert response.content.decode().count("/customers/contacts/") >= 20


def test_account_detail_query_count(sales, client, django_assert_max_num_queries) -> None:
    account = AccountFactory.create(owner=sales.rep1, phone="13800138000", email="a@b.cn")
    client.force_login(sales.rep1)
    with django_assert_max_num_queries(24):  # the 360° page's facts, cards and related lists
        response = client.get(account.get_absolute_url())
    body = response.content.decode()
    assert "+86 138 0013 8000" in body
    assert 'data-tab="history"' in body


def test_sorting_is_whitelisted_and_pages_need_no_count(sales, client) -> None:
    b = AccountFactory.create(owner=sales.rep1, name="B")
    a = AccountFactory.create(owner=sales.rep1, name="A")
    client.force_login(sales.rep1)
    assert listed(client.get("/customers/accounts/?sort=name")) == [a.pk, b.pk]
    assert listed(client.get("/customers/accounts/?sort=-name")) == [b.pk, a.pk]
    # Not a sortable column (and not a column at all): ignored, default order (newest first).
    assert listed(client.get("/customers/accounts/?sort=notes")) == [a.pk, b.pk]
    assert listed(client.get("/customers/accounts/?sort=owner__password")) == [a.pk, b.pk]
    assert client.get("/customers/accounts/?_count=1").content.decode().strip() == "2 rows"


def test_filters_and_invalid_filters(sales, client) -> None:
    keep = AccountFactory.create(owner=sales.rep1, name="北京远大", phone="13812345678", kind="company")
    AccountFactory.create(owner=sales.rep1, name="上海", kind="person")
    client.force_login(sales.rep1)
    assert listed(client.get("/customers/accounts/?q=远大")) == [keep.pk]
    assert listed(client.get("/customers/accounts/?q=5678")) == [keep.pk]
    assert listed(client.get("/customers/accounts/?kind=company")) == [keep.pk]
    response = client.get("/customers/accounts/?kind=nonsense")
    assert response.status_code == 200
    assert listed(response) == []
    assert "Some filters are not valid." in response.content.decode()


def test_htmx_table_partial(sales, client) -> None:
    AccountFactory.create(owner=sales.rep1)
    client.force_login(sales.rep1)
    response = client.get("/customers/accounts/?sort=name", headers={**HTMX, "HX-Target": "object-list"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="object-list"')
    assert "<html" not in body


def test_column_chooser_is_stored_per_user(sales, client) -> None:
    AccountFactory.create(owner=sales.rep1, email="x@y.cn")
    client.force_login(sales.rep1)
    response = client.post(
        "/tables/config/",
        {"table": "customers.account", "columns": ["email", "nonsense", "owner"], "per_page": "50"},
        headers=HTMX,
    )
    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"
    pref = UserPreference.objects.get(user=sales.rep1, key="table:customers.account")
    assert pref.value == {"columns": ["email", "owner"], "per_page": 50}
    body = client.get("/customers/accounts/").content.decode()
    assert "x@y.cn" in body
    assert 'data-sort="created_at"' not in body  # not chosen
    client.post("/tables/config/", {"table": "customers.account", "reset": "1"})
    assert not UserPreference.objects.filter(user=sales.rep1).exists()
    assert client.post("/tables/config/", {"table": "nope"}).status_code == 404


def test_create_in_an_htmx_modal(sales, client) -> None:
    client.force_login(sales.rep1)
    form = client.get("/customers/accounts/add/", headers=HTMX)
    body = form.content.decode()
    assert 'class="modal-header"' in body and "<html" not in body
    assert 'name="owner"' not in body  # no assign permission: the owner is the user
    bad = client.post(
        "/customers/accounts/add/",
        {"kind": "company", "name": "X", "phones-number": "123", "phones-is_primary": "1"},
        headers=HTMX,
    )
    assert bad.status_code == 200
    assert "“123” is not a valid phone number." in bad.content.decode()
    assert Account.objects.count() == 0
    ok = client.post(
        "/customers/accounts/add/",
        {"kind": "company", "name": "新客户", "phones-number": "010 6552 9988", "phones-is_primary": "1"},
        headers=HTMX,
    )
    assert ok.status_code == 204
    account = Account.objects.get()
    assert account.phone == "+861065529988"
    trigger = json.loads(ok["HX-Trigger"])
    assert trigger["kehu:closeModal"] is True
    assert trigger["kehu:toast"]["message"] == "Account “新客户” created."
    assert json.loads(ok["HX-Location"])["path"] == account.get_absolute_url()


def test_full_page_form_without_htmx(sales, client) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    client.force_login(sales.rep1)
    page = client.get(f"/customers/accounts/{account.pk}/edit/")
    assert "<html" in page.content.decode()
    assert 'name="version"' in page.content.decode()


def test_stale_edit_is_shown_as_a_form_error(sales, client) -> None:
    account = AccountFactory.create(owner=sales.rep1, name="原名")
    client.force_login(sales.rep1)
    first = client.post(
        f"/customers/accounts/{account.pk}/edit/",
        {"kind": "company", "name": "甲改", "version": 1},
        headers=HTMX,
    )
    assert first.status_code == 204
    second = client.post(
        f"/customers/accounts/{account.pk}/edit/",
        {"kind": "company", "name": "乙改", "version": 1},
        headers=HTMX,
    )
    assert second.status_code == 200
    assert "Someone else changed this account after you opened it" in second.content.decode()
    account.refresh_from_db()
    assert (account.name, account.version) == ("甲改", 2)


def test_delete_with_contacts_shows_the_refusal_in_the_dialog(sales, client) -> None:
    account = AccountFactory.create(owner=sales.rep1, name="有人")
    ContactFactory.create(owner=sales.rep1, account=account)
    client.force_login(sales.rep1)
    response = client.post(f"/customers/accounts/{account.pk}/delete/", headers=HTMX)
    assert response.status_code == 200
    assert "still has 1 contact" in response.content.decode()
    assert Account.objects.filter(pk=account.pk).exists()


def test_view_without_change_gets_403_on_edit_and_404_outside_scope(company, client) -> None:
    from kehu.users.tests.factories import grant

    grant(company.role_rep, "customers.account", "view", scope="own")
    mine = AccountFactory.create(owner=company.rep1)
    theirs = AccountFactory.create(owner=company.rep2)
    client.force_login(company.rep1)
    assert client.get(f"/customers/accounts/{mine.pk}/edit/").status_code == 403
    assert client.get(f"/customers/accounts/{theirs.pk}/edit/").status_code == 404
    assert client.get("/customers/accounts/add/").status_code == 403
    body = client.get(mine.get_absolute_url()).content.decode()
    assert 'data-action="edit"' not in body and 'data-action="delete"' not in body


def test_contact_form_offers_only_visible_accounts(sales, client) -> None:
    mine = AccountFactory.create(owner=sales.rep1, name="我的客户")
    theirs = AccountFactory.create(owner=sales.rep2, name="别人的客户")
    client.force_login(sales.rep1)
    form = client.get(f"/customers/contacts/add/?account={mine.pk}", headers=HTMX).content.decode()
    assert "我的客户" in form and "别人的客户" not in form
    refused = client.post("/customers/contacts/add/", {"account": theirs.pk, "name": "X"}, headers=HTMX)
    assert "Choose an account you can see." in refused.content.decode()
    assert Contact.objects.count() == 0
    picker = client.get("/customers/accounts/autocomplete/?q=客户").json()
    assert picker == {"results": [{"id": mine.pk, "text": "我的客户"}]}


# --- masking and reveal -------------------------------------------------------------------------


@pytest.fixture
def masked(sales):
    for field in ("phone", "email"):
        FieldPermission.objects.create(
            role=sales.role_rep, model="customers.account", field=field, mode=FieldMode.MASKED
        )
    FieldPermission.objects.create(
        role=sales.role_rep, model="customers.account", field="notes", mode=FieldMode.HIDDEN
    )
    return sales


def test_masked_fields_on_list_detail_and_form(masked, client) -> None:
    account = AccountFactory.create(
        owner=masked.rep1, phone="13812345678", email="zhang.wei@example.com", notes="秘密备注"
    )
    client.force_login(masked.rep1)
    page = client.get("/customers/accounts/?per_page=25&sort=name").content.decode()
    client.post("/tables/config/", {"table": "customers.account", "columns": ["phone", "email", "notes"]})
    page = client.get("/customers/accounts/").content.decode()
    assert "+86 138****5678" in page and "z***@example.com" in page
    assert "13812345678" not in page and "zhang.wei@" not in page
    assert "秘密备注" not in page
    detail = client.get(account.get_absolute_url()).content.decode()
    assert "+86 138****5678" in detail and "13812345678" not in detail
    assert "秘密备注" not in detail and 'data-field="notes"' not in detail
    assert f"/reveal/customers.account/{account.pk}/phone/" in detail
    form = client.get(f"/customers/accounts/{account.pk}/edit/").content.decode()
    assert "13812345678" not in form and 'name="notes"' not in form
    # Saving the form keeps the masked values (they are never sent back as "138****5678").
    client.post(f"/customers/accounts/{account.pk}/edit/", {"kind": "company", "name": "新名", "version": 1})
    account.refresh_from_db()
    assert (account.name, account.phone, account.notes) == ("新名", "+8613812345678", "秘密备注")


def test_the_manager_without_masking_sees_everything(masked, client) -> None:
    account = AccountFactory.create(owner=masked.rep1, phone="13812345678")
    client.force_login(masked.manager1)
    assert "+86 138 1234 5678" in client.get(account.get_absolute_url()).content.decode()


def test_reveal_returns_the_value_and_is_audited(masked, client) -> None:
    account = AccountFactory.create(owner=masked.rep1, phone="13812345678")
    other = AccountFactory.create(owner=masked.rep2, phone="13900001111")
    client.force_login(masked.rep1)
    response = client.post(f"/reveal/customers.account/{account.pk}/phone/", headers=HTMX)
    assert response.status_code == 200
    assert "+86 138 1234 5678" in response.content.decode()
    change = ObjectChange.objects.get(action="reveal")
    assert (change.model, change.object_id, change.changes, change.user_id) == (
        "customers.account",
        account.pk,
        {"revealed": ["phone"]},
        masked.rep1.pk,
    )
    # Outside scope, hidden fields, unknown fields and GET: refused, nothing recorded.
    assert client.post(f"/reveal/customers.account/{other.pk}/phone/").status_code == 404
    assert client.post(f"/reveal/customers.account/{account.pk}/notes/").status_code == 404
    assert client.post(f"/reveal/customers.account/{account.pk}/name/").status_code == 404
    assert client.post(f"/reveal/users.user/{masked.rep1.pk}/password/").status_code == 404
    assert client.get(f"/reveal/customers.account/{account.pk}/phone/").status_code == 405
    assert ObjectChange.objects.filter(action="reveal").count() == 1


def test_own_contact_on_an_account_the_user_cannot_see(sales, client) -> None:
    """A contact's scope is its own: rep1 may own a contact on rep2's account, see and edit it
    (the account shows by name, without a link), but not move it to another unseen account."""
    theirs = AccountFactory.create(owner=sales.rep2, name="别人的客户")
    other = AccountFactory.create(owner=sales.rep2, name="另一个")
    contact = ContactFactory.create(owner=sales.rep1, account=theirs, name="我的联系人")
    client.force_login(sales.rep1)
    detail = client.get(contact.get_absolute_url()).content.decode()
    assert "别人的客户" in detail and theirs.get_absolute_url() not in detail
    form = client.get(f"/customers/contacts/{contact.pk}/edit/").content.decode()
    assert "别人的客户" in form and "另一个" not in form
    saved = client.post(
        f"/customers/contacts/{contact.pk}/edit/",
        {"account": theirs.pk, "name": "改名", "version": 1},
        headers=HTMX,
    )
    assert saved.status_code == 204
    moved = client.post(
        f"/customers/contacts/{contact.pk}/edit/",
        {"account": other.pk, "name": "改名", "version": 2},
        headers=HTMX,
    )
    assert "Choose an account you can see." in moved.content.decode()
    api = client.put(
        f"/api/v1/customers/contacts/{contact.pk}/",
        {"account": theirs.pk, "name": "API 改名"},
        content_type="application/json",
    )
    assert api.status_code == 200, api.json()
    contact.refresh_from_db()
    assert (contact.name, contact.account_id) == ("API 改名", theirs.pk)
