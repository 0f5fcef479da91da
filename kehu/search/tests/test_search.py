"""The index on both databases: what matches, ranking, restriction, staying in step, the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from kehu.core import search
from kehu.customers.models import Account, Contact, ContactPhone
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.search import services
from kehu.search.models import SearchEntry

pytestmark = pytest.mark.django_db


def titles(user: Any, q: str, key: str, limit: int = 5) -> list[str]:
    return [h.title for g in search.search(user, q, limit=limit) if g.key == key for h in g.hits]


def accounts(user: Any, q: str, limit: int = 5) -> list[str]:
    return titles(user, q, "customers.account", limit)


def contacts(user: Any, q: str, limit: int = 5) -> list[str]:
    return titles(user, q, "customers.contact", limit)


def test_pinyin_full_initials_and_ranking(sales) -> None:
    rep = sales.rep1
    ContactFactory.create(owner=rep, name="张伟")
    ContactFactory.create(owner=rep, name="张伟华")
    ContactFactory.create(owner=rep, name="王张伟")
    ContactFactory.create(owner=rep, name="单田芳")
    # Exact name first, then names starting with the query, then the rest.
    assert contacts(rep, "张伟") == ["张伟", "张伟华", "王张伟"]
    assert contacts(rep, "zhangwei") == ["张伟", "张伟华", "王张伟"]  # 王张伟: pinyin inside the name
    assert contacts(rep, "zw") == ["张伟", "张伟华", "王张伟"]
    assert contacts(rep, "zwh") == ["张伟华"]
    assert set(contacts(rep, "zhang wei")) == {"张伟", "张伟华", "王张伟"}
    # 单 as a surname reads shan; the usual reading dan works too.
    assert contacts(rep, "shantianfang") == contacts(rep, "dantianfang") == ["单田芳"]
    assert contacts(rep, "stf") == ["单田芳"]


def test_chinese_substrings_and_company_pinyin(sales) -> None:
    rep = sales.rep1
    AccountFactory.create(owner=rep, name="北京远大科技有限公司", short_name="远大")
    AccountFactory.create(owner=rep, name="上海大远贸易")
    assert accounts(rep, "远大") == ["北京远大科技有限公司"]
    assert accounts(rep, "远大科技") == ["北京远大科技有限公司"]
    assert accounts(rep, "大远") == ["上海大远贸易"]
    assert accounts(rep, "yuanda") == ["北京远大科技有限公司"]
    assert accounts(rep, "ydkj") == ["北京远大科技有限公司"]
    assert accounts(rep, "科技 北京") == ["北京远大科技有限公司"]
    assert accounts(rep, "远大贸易") == []


@pytest.mark.parametrize(
    "q", ["13812345678", "138-1234-5678", "+86 138 1234 5678", "0086 138 1234 5678", "5678", "345678"]
)
def test_phone_fragments_in_any_format(sales, q) -> None:
    rep = sales.rep1
    AccountFactory.create(owner=rep, name="号码公司", phone="+86 138 1234 5678")
    contact = ContactFactory.create(owner=rep, name="号码人", mobile="")
    ContactPhone.objects.create(contact=contact, number="+8613812345678")
    AccountFactory.create(owner=rep, name="别的号码", phone="+86 139 0000 1111")
    assert accounts(rep, q) == ["号码公司"]
    assert contacts(rep, q) == ["号码人"]


def test_email_tax_number_and_wechat(sales) -> None:
    rep = sales.rep1
    AccountFactory.create(owner=rep, name="甲", email="boss@yuanda-tech.cn", tax_number="91350100M000100Y43")
    ContactFactory.create(owner=rep, name="乙", email="li.lei@example.com", wechat="lilei_1988")
    assert accounts(rep, "boss@yuanda-tech.cn") == ["甲"]
    assert accounts(rep, "yuanda-tech") == ["甲"]
    assert accounts(rep, "boss") == ["甲"]
    assert accounts(rep, "91350100M000100Y43") == ["甲"]
    assert accounts(rep, "91350100m000") == ["甲"]
    assert contacts(rep, "li.lei@example.com") == ["乙"]
    assert contacts(rep, "example.com") == ["乙"]
    assert contacts(rep, "lilei_1988") == ["乙"]
    assert contacts(rep, "lilei") == ["乙"]


def test_name_matches_rank_above_email_and_phone(sales) -> None:
    rep = sales.rep1
    AccountFactory.create(owner=rep, name="Acme Trading")
    AccountFactory.create(owner=rep, name="别家", email="acme@other.cn")
    assert accounts(rep, "acme") == ["Acme Trading", "别家"]


def test_own_scope_rep_finds_theirs_among_many_others(sales) -> None:
    for _ in range(40):
        ContactFactory.create(owner=sales.rep2, name="李娜")
    ContactFactory.create(owner=sales.rep3, name="李娜")
    mine = ContactFactory.create(owner=sales.rep1, name="李娜")
    assert contacts(sales.rep1, "李娜") == ["李娜"]
    (group,) = [g for g in search.search(sales.rep1, "lina") if g.key == "customers.contact"]
    assert [h.pk for h in group.hits] == [mine.pk]
    # The manager of 华北区 sees rep1's and rep2's, not rep3's (华东区).
    (group,) = [g for g in search.search(sales.manager1, "李娜", limit=100) if g.key == "customers.contact"]
    owners = set(Contact.objects.filter(pk__in=[h.pk for h in group.hits]).values_list("owner", flat=True))
    assert owners == {sales.rep1.pk, sales.rep2.pk} and len(group.hits) == 41
    assert search.search(sales.nobody, "李娜") == []


def test_masked_phone_never_shows_in_subtitle(sales) -> None:
    from kehu.core.choices import FieldMode
    from kehu.users.models import FieldPermission

    FieldPermission.objects.create(
        role=sales.role_rep, model="customers.contact", field="mobile", mode=FieldMode.MASKED
    )
    ContactFactory.create(owner=sales.rep1, name="隐私", mobile="+8613812345678")
    (group,) = [g for g in search.search(sales.rep1, "5678") if g.key == "customers.contact"]
    assert "13812345678" not in group.hits[0].subtitle and "5678" in group.hits[0].subtitle


def test_index_follows_create_update_delete(sales, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        contact = ContactFactory.create(owner=sales.rep1, name="赵敏")
    assert "zhaomin" in services.entry_tokens(model="customers.contact", object_id=contact.pk)
    contact.name = "周芷若"
    with django_capture_on_commit_callbacks(execute=True):
        contact.save()
    tokens = services.entry_tokens(model="customers.contact", object_id=contact.pk)
    assert "zhouzhiruo" in tokens and "zhaomin" not in tokens
    with django_capture_on_commit_callbacks(execute=True):
        ContactPhone.objects.create(contact=contact, number="+8613700001234")
    assert contacts(sales.rep1, "1234") == ["周芷若"]
    pk = contact.pk
    with django_capture_on_commit_callbacks(execute=True):
        contact.delete()
    assert not SearchEntry.objects.filter(model="customers.contact", object_id=pk).exists()


def test_bulk_writes_call_reindex_and_rebuild_repairs(sales) -> None:
    account = AccountFactory.create(owner=sales.rep1, name="旧名字")
    services.search_index_flush()
    Account.objects.filter(pk=account.pk).update(name="新名字")  # no signal
    assert accounts(sales.rep1, "新名字") == []
    services.search_reindex(model=Account, ids=[account.pk])
    assert accounts(sales.rep1, "新名字") == ["新名字"]
    # A stale entry (its record gone without a signal) and a missing one: rebuild repairs both.
    SearchEntry.objects.create(model="customers.account", object_id=account.pk + 1000, name_tokens="幽灵")
    SearchEntry.objects.filter(model="customers.account", object_id=account.pk).delete()
    call_command("search_rebuild", "--model", "customers.account", stdout=open("/dev/null", "w"))  # noqa: SIM115
    labels = set(SearchEntry.objects.values_list("model", "object_id"))
    assert ("customers.account", account.pk) in labels
    assert ("customers.account", account.pk + 1000) not in labels
    assert accounts(sales.rep1, "xinmingzi") == ["新名字"]


def test_rebuild_job(sales, django_capture_on_commit_callbacks) -> None:
    AccountFactory.create(owner=sales.rep1, name="任务客户")
    SearchEntry.objects.all().delete()
    services._pending("default").clear()
    job = services.search_rebuild_start(by=sales.admin)
    job = services.search_rebuild_job(job_id=job.pk)
    assert job.status == "succeeded" and job.progress_done == job.progress_total >= 1
    assert accounts(sales.rep1, "任务") == ["任务客户"]


def test_page_escapes_html_and_links_to_list(sales, client) -> None:
    AccountFactory.create(owner=sales.rep1, name="<b>粗体</b>公司")
    client.force_login(sales.rep1)
    page = client.get("/search/?q=粗体").content.decode()
    assert "&lt;b&gt;粗体&lt;/b&gt;公司" in page and "<b>粗体</b>" not in page


@pytest.mark.parametrize(
    "q", ["\x00", "a\x00b", "\x01\x02", "'\"*:&|!()", "x" * 5000, "张" * 400, "OR AND NOT"]
)
def test_hostile_queries_never_500(sales, client, q) -> None:
    AccountFactory.create(owner=sales.rep1, name="客户")
    client.force_login(sales.rep1)
    assert client.get("/search/", {"q": q}).status_code == 200
    response = client.get("/api/v1/search/", {"q": q})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert set(response.json()) == {"code", "message", "fields"}


def test_api_grouped_ranked_restricted(sales, client) -> None:
    AccountFactory.create(owner=sales.rep1, name="远大科技", phone="+8613812345678")
    ContactFactory.create(owner=sales.rep1, name="远大联系人")
    AccountFactory.create(owner=sales.rep2, name="远大物流")
    assert client.get("/api/v1/search/", {"q": "远大"}).status_code in (401, 403)
    client.force_login(sales.rep1)
    body = client.get("/api/v1/search/", {"q": "远大"}).json()
    assert [g["type"] for g in body["groups"]] == ["customers.account", "customers.contact"]
    account_group = body["groups"][0]
    assert [h["title"] for h in account_group["hits"]] == ["远大科技"]
    assert account_group["list_url"].startswith("/customers/accounts/?q=")
    assert account_group["hits"][0]["subtitle"] == "+86 138 1234 5678"
    only = client.get("/api/v1/search/", {"q": "远大", "type": "customers.contact", "limit": 1}).json()
    assert [g["type"] for g in only["groups"]] == ["customers.contact"]
    assert client.get("/api/v1/search/", {"q": "远大", "limit": 0}).status_code == 400
    assert client.get("/api/v1/search/").status_code == 400
