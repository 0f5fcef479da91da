"""Global search over accounts and contacts: restricted, grouped, phone fragments, masking."""

from __future__ import annotations

import pytest

from kehu.core import search
from kehu.core.choices import FieldMode
from kehu.users.models import FieldPermission

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def titles(groups, key: str) -> list[str]:
    return [h.title for g in groups if g.key == key for h in g.hits]


def test_rep1_never_finds_rep2s_account(sales) -> None:
    AccountFactory.create(owner=sales.rep1, name="远大科技")
    AccountFactory.create(owner=sales.rep2, name="远大物流")
    assert titles(search.search(sales.rep1, "远大"), "customers.account") == ["远大科技"]
    assert titles(search.search(sales.manager1, "远大"), "customers.account") == ["远大物流", "远大科技"]
    assert search.search(sales.nobody, "远大") == []


def test_phone_fragments_email_and_ranking(sales) -> None:
    AccountFactory.create(owner=sales.rep1, name="张三公司", phone="13812345678")
    AccountFactory.create(owner=sales.rep1, name="北京张三", email="boss@zhangsan.cn")
    ContactFactory.create(owner=sales.rep1, name="张三", mobile="+86 139 0000 5678")
    assert titles(search.search(sales.rep1, "5678"), "customers.account") == ["张三公司"]
    assert titles(search.search(sales.rep1, "138 1234 5678"), "customers.account") == ["张三公司"]
    assert titles(search.search(sales.rep1, "+86-138-1234-5678"), "customers.account") == ["张三公司"]
    assert titles(search.search(sales.rep1, "5678"), "customers.contact") == ["张三"]
    assert titles(search.search(sales.rep1, "zhangsan.cn"), "customers.account") == ["北京张三"]
    # A prefix match ranks before a match in the middle.
    assert titles(search.search(sales.rep1, "张三"), "customers.account") == ["张三公司", "北京张三"]


def test_subtitles_respect_masking(sales) -> None:
    FieldPermission.objects.create(
        role=sales.role_rep, model="customers.account", field="phone", mode=FieldMode.MASKED
    )
    AccountFactory.create(owner=sales.rep1, name="客户甲", phone="13812345678")
    (group,) = search.search(sales.rep1, "客户甲")
    assert group.hits[0].subtitle == "+86 138****5678"


def test_limits_and_more(sales) -> None:
    for i in range(7):
        AccountFactory.create(owner=sales.rep1, name=f"同名{i}")
    (group,) = search.search(sales.rep1, "同名", limit=5)
    assert (len(group.hits), group.more) == (5, True)


def test_search_dropdown_and_page(sales, client) -> None:
    account = AccountFactory.create(owner=sales.rep1, name="华北客户")
    AccountFactory.create(owner=sales.rep2, name="华北另一客户")
    client.force_login(sales.rep1)
    dropdown = client.get(
        "/search/?q=华北", headers={"HX-Request": "true", "HX-Target": "kehu-search-results"}
    ).content.decode()
    assert dropdown.lstrip().startswith('<div id="kehu-search-results"')
    assert account.get_absolute_url() in dropdown and "华北另一客户" not in dropdown
    page = client.get("/search/?q=华北").content.decode()
    assert "<html" in page and "华北客户" in page and "华北另一客户" not in page
    empty = client.get("/search/?q=没有这个").content.decode()
    assert "Nothing found for “没有这个”." in empty
    assert client.get("/search/?q=").status_code == 200
