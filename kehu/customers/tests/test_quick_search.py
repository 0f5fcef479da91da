"""The lists' quick search (`q`): through the search index on SQLite (FTS5) and PostgreSQL, the
same things the global search finds, within the user's scope; a plain column search before the
index was first built."""

from __future__ import annotations

import re

import pytest

from kehu.customers.filtersets import AccountFilterSet, ContactFilterSet
from kehu.customers.models import Account, Contact
from kehu.search.models import SearchEntry

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def listed(response) -> list[int]:
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<tr data-pk="(\d+)"', response.content.decode())]


def contact_ids(user, q: str) -> set[int]:
    qs = ContactFilterSet({"q": q}, queryset=Contact.objects.restrict(user, "view")).qs
    return set(qs.values_list("pk", flat=True))


def account_ids(user, q: str) -> set[int]:
    qs = AccountFilterSet({"q": q}, queryset=Account.objects.restrict(user, "view")).qs
    return set(qs.values_list("pk", flat=True))


def test_contacts_by_name_pinyin_phone_and_email(sales) -> None:
    rep = sales.rep1
    zhang = ContactFactory.create(owner=rep, name="张伟", mobile="13812345678", email="zhang.wei@acme.cn")
    wang = ContactFactory.create(owner=rep, name="王芳", mobile="13900001111", email="fang@example.com")
    assert contact_ids(rep, "张伟") == contact_ids(rep, "伟") == {zhang.pk}
    assert contact_ids(rep, "zhangwei") == contact_ids(rep, "zw") == contact_ids(rep, "zhang") == {zhang.pk}
    assert contact_ids(rep, "wangfang") == contact_ids(rep, "wf") == {wang.pk}
    # Phone fragments: the last 4 digits, any stretch typed, +86 / spaces / dashes.
    for q in ("5678", "1234", "+86 138 1234 5678", "138-1234-5678", "0086 13812345678"):
        assert contact_ids(rep, q) == {zhang.pk}, q
    assert contact_ids(rep, "1111") == {wang.pk}
    # E-mail: the whole address, its local part, its domain, a word of it.
    for q in ("zhang.wei@acme.cn", "zhang.wei", "acme.cn", "acme"):
        assert contact_ids(rep, q) == {zhang.pk}, q
    assert contact_ids(rep, "example.com") == {wang.pk}
    assert contact_ids(rep, "李四") == set()


def test_contacts_of_a_matching_account_are_found(sales) -> None:
    rep = sales.rep1
    account = AccountFactory.create(owner=rep, name="北京远大科技有限公司")
    other = AccountFactory.create(owner=rep, name="上海丰达")
    c1 = ContactFactory.create(owner=rep, account=account, name="李雷")
    ContactFactory.create(owner=rep, account=other, name="韩梅梅")
    assert contact_ids(rep, "远大") == contact_ids(rep, "yuanda") == {c1.pk}


def test_accounts_by_name_short_name_pinyin_phone_email_tax_number(sales) -> None:
    rep = sales.rep1
    a = AccountFactory.create(
        owner=rep,
        name="杭州丰达供应链管理有限公司",
        short_name="丰达",
        phone="+86 571 8765 4321",
        email="info@fengda.com",
        tax_number="91350100M000100Y43",
    )
    AccountFactory.create(owner=rep, name="Acme Trading", phone="13800000000")
    for q in ("丰达", "供应链", "fengda", "hzfd", "4321", "0571-8765-4321", "info@fengda.com", "fengda.com"):
        assert account_ids(rep, q) == {a.pk}, q
    assert account_ids(rep, "91350100M000100Y43") == {a.pk}
    # A single letter is a word's start here (the ranked global search needs a whole word).
    assert (
        account_ids(rep, "a") == account_ids(rep, "acme tr") == {Account.objects.get(name="Acme Trading").pk}
    )


def test_quick_search_stays_in_scope(sales, client) -> None:
    mine = ContactFactory.create(owner=sales.rep1, name="赵敏")
    theirs = ContactFactory.create(owner=sales.rep2, name="赵敏")
    far = ContactFactory.create(owner=sales.rep3, name="赵敏")
    client.force_login(sales.rep1)
    assert listed(client.get("/customers/contacts/", {"q": "zhaomin"})) == [mine.pk]
    client.force_login(sales.manager1)
    assert listed(client.get("/customers/contacts/", {"q": "赵敏"})) == [theirs.pk, mine.pk]
    client.force_login(sales.director)
    assert listed(client.get("/customers/contacts/", {"q": "zm"})) == [far.pk, theirs.pk, mine.pk]
    # The list's own sort still applies to the matches.
    assert listed(client.get("/customers/contacts/", {"q": "zm", "sort": "created_at"})) == [
        mine.pk,
        theirs.pk,
        far.pk,
    ]


def test_api_filter_and_a_record_saved_in_the_same_transaction(sales, client) -> None:
    """Records saved a moment ago (still queued for the index) are found: the queue is flushed first."""
    a = AccountFactory.create(owner=sales.rep1, name="新建客户甲")
    client.force_login(sales.rep1)
    body = client.get("/api/v1/customers/accounts/", {"q": "xinjian"}).json()
    assert [r["id"] for r in body["results"]] == [a.pk]


def test_plain_search_before_the_index_is_built(sales) -> None:
    """An index never built (no entries for the model): the plain column search answers."""
    rep = sales.rep1
    c = ContactFactory.create(owner=rep, name="周杰", title="采购经理", mobile="13812349999")
    assert contact_ids(rep, "经理") == set()  # the index does not hold job titles
    SearchEntry.objects.filter(model="customers.contact").delete()
    assert contact_ids(rep, "经理") == contact_ids(rep, "周杰") == contact_ids(rep, "9999") == {c.pk}
    assert contact_ids(rep, "zhoujie") == set()  # no pinyin without the index


def test_odd_queries_do_not_fail(sales, client) -> None:
    ContactFactory.create(owner=sales.rep1, name="O'Brien")
    client.force_login(sales.rep1)
    for q in ("'", '"', "o'brien", "a*", "(", "AND", "NEAR", "-", "@", "  ", "张 OR 李", "x" * 120):
        assert client.get("/customers/contacts/", {"q": q}).status_code == 200, q
        assert client.get("/customers/accounts/", {"q": q}).status_code == 200, q
