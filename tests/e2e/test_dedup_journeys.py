"""The duplicate review journey of issue 6 in a real browser, checked in the page and in the
database: a scan finds two accounts that are the same company, an administrator opens the group
from the review queue, compares the records side by side, picks the surviving value of a field
and merges them; the related records move to the kept account and the merged account's old page
leads to it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from kehu.customers.models import Account, Contact
from kehu.customers.services import account_create, contact_create
from kehu.users.models import User

from .conftest import login, screenshot, use_language


@pytest.fixture
def org(transactional_db: Any) -> dict[str, User]:
    from kehu.demo.loader import load_demo

    load_demo(only=["org"])
    return {u.username: u for u in User.objects.all()}


@pytest.mark.parametrize(
    ("lang", "labels"),
    [
        ("zh-hans", {"duplicates": "查重", "merged": "已合并"}),
        ("en", {"duplicates": "Duplicates", "merged": "Merged"}),
    ],
)
def test_admin_reviews_and_merges_duplicate_accounts(
    new_page: Any, org: dict[str, User], lang: str, labels: dict[str, str]
) -> None:
    from kehu.activities.models import Interaction
    from kehu.activities.services import interaction_create
    from kehu.dedup import scanning
    from kehu.dedup.models import DuplicateGroup, MergedRecord

    rep1 = org["rep1"]
    # The same company entered twice: the legal-form suffix and the phone's spelling differ.
    old = account_create(
        by=rep1,
        data={"name": "杭州丰达机械有限公司", "phone": "0571-8888 6666", "email": "sales@fengda.example"},
    )
    new = account_create(
        by=rep1,
        data={
            "name": "杭州丰达机械有限责任公司",
            "phone": "+86 571 88886666",
            "email": "info@fengda.example",
        },
        confirmed=True,  # the real-time check warned; the rep saved it anyway
    )
    zhang = contact_create(by=rep1, data={"name": "张伟", "account": old, "mobile": "13912345678"})
    li = contact_create(by=rep1, data={"name": "李娜", "account": new, "mobile": "13723456789"})
    call = interaction_create(by=rep1, data={"subject": "电话沟通报价", "kind": "call", "account": old})
    visit = interaction_create(by=rep1, data={"subject": "上门拜访采购部", "kind": "visit", "account": new})

    result = scanning.dedup_scan("customers.account")
    assert result.groups >= 1
    group = DuplicateGroup.objects.get(model_label="customers.account", status="open")
    assert set(group.members.values_list("object_id", flat=True)) == {old.pk, new.pk}

    page = new_page(lang)
    login(page, "admin")
    use_language(page, lang)

    # The review queue, from the sidebar.
    nav = page.locator('aside a[href="/dedup/duplicates/"]')
    expect(nav).to_contain_text(labels["duplicates"])
    nav.click()
    expect(page).to_have_url(re.compile(r"/dedup/duplicates/$"))
    row = page.locator(f'[data-queue] tr[data-group="{group.pk}"]')
    expect(row).to_contain_text("杭州丰达机械有限公司")
    expect(row).to_contain_text("杭州丰达机械有限责任公司")
    screenshot(page, f"dedup-1-queue-{lang}")

    # The group: both records side by side, the differing fields marked, and why they match.
    row.locator(f'a[href="/dedup/duplicates/{group.pk}/"]').first.click()
    expect(page).to_have_url(re.compile(rf"/dedup/duplicates/{group.pk}/$"))
    side = page.locator("[data-side-by-side]")
    expect(side.locator(f'th[data-record="{old.pk}"]')).to_contain_text("杭州丰达机械有限公司")
    expect(side.locator(f'th[data-record="{new.pk}"]')).to_contain_text("杭州丰达机械有限责任公司")
    expect(side.locator("tr.table-warning")).not_to_have_count(0)
    expect(page.locator("[data-pairs] [data-reason]")).not_to_have_count(0)
    screenshot(page, f"dedup-2-group-{lang}")

    # Merge: the newer record is kept by default; the older one's name survives.
    page.click('[data-action="merge"]')
    expect(page).to_have_url(re.compile(rf"/dedup/duplicates/{group.pk}/merge/$"))
    form = page.locator("[data-merge-form]")
    expect(form.locator("input[name=master]")).to_have_value(str(new.pk))
    name_choice = form.locator(f'tr[data-field="name"] input[name=value_name][value="{old.pk}"]')
    expect(form.locator(f'tr[data-field="name"] input[value="{new.pk}"]')).to_be_checked()
    name_choice.check()
    expect(name_choice).to_be_checked()
    screenshot(page, f"dedup-3-merge-{lang}")
    form.locator("[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/dedup/duplicates/$"))
    expect(page.locator(f'[data-queue] tr[data-group="{group.pk}"]')).to_have_count(0)
    screenshot(page, f"dedup-4-merged-{lang}")

    # One account left, with the chosen name and everything that pointed at either record.
    assert not Account.objects.filter(pk=old.pk).exists()
    kept = Account.objects.get(pk=new.pk)
    assert kept.name == "杭州丰达机械有限公司"
    assert Account.objects.filter(name__startswith="杭州丰达机械").count() == 1
    assert set(Contact.objects.filter(account=kept).values_list("pk", flat=True)) == {zhang.pk, li.pk}
    assert set(Interaction.objects.filter(account=kept).values_list("pk", flat=True)) == {call.pk, visit.pk}
    assert kept.email == "info@fengda.example"  # the kept record's own value, by default
    emails = sorted(kept.emails.values_list("email", flat=True))
    assert emails == ["info@fengda.example", "sales@fengda.example"]
    assert list(kept.phones.values_list("number", flat=True)) == ["+8657188886666"]  # one, not two
    assert MergedRecord.objects.get(model_label="customers.account", old_id=old.pk).into_id == kept.pk
    group.refresh_from_db()
    assert group.status == "merged"

    # The merged account's old page leads to the kept one, which shows both contacts.
    page.goto(f"/customers/accounts/{old.pk}/")
    expect(page).to_have_url(re.compile(rf"/customers/accounts/{kept.pk}/"))
    expect(page.locator(".page-title")).to_contain_text("杭州丰达机械有限公司")
    page.click('[data-tab="contacts"]')
    contacts = page.locator("table.kehu-account-contacts")
    expect(contacts).to_contain_text("张伟")
    expect(contacts).to_contain_text("李娜")
    screenshot(page, f"dedup-5-kept-account-{lang}")
    page.goto(f"/customers/accounts/{kept.pk}/?tab=activities")
    interactions = page.locator('[data-list="interactions"]')
    expect(interactions).to_contain_text("电话沟通报价")
    expect(interactions).to_contain_text("上门拜访采购部")

    # The group is listed among the merged ones.
    page.goto("/dedup/duplicates/?status=merged")
    expect(page.locator(f'[data-queue] tr[data-group="{group.pk}"]')).to_be_visible()
    status = page.locator("[data-queue-filters] select[name=status] option:checked")
    expect(status).to_have_text(labels["merged"])
