"""The journeys of the customers module (issue 4) in a real browser, each checked in the page and
in the database: records with typed details and contacts, a visit with a follow-up and its
reminder, pinyin search, export of one's own accounts, a manager's bulk change of owner.

Data: the demo organisation (departments, roles, users with password demo1234); grants a journey
needs beyond the demo roles (a rep's export) are added in the fixture.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kehu.customers.models import Account
from kehu.customers.services import account_create
from kehu.users.models import Role, User
from kehu.users.tests.factories import grant

from .conftest import login, screenshot, use_language

ACTIVITY_ACTIONS = ("view", "add", "change", "delete")


@pytest.fixture
def org(transactional_db: Any) -> dict[str, User]:
    from kehu.demo.loader import load_demo

    load_demo(only=["org"])
    rep = Role.objects.get(code="rep")
    # What these journeys need of the rep role, whatever version of the demo roles is loaded.
    for model in ("activities.interaction", "activities.task"):
        grant(rep, model, *ACTIVITY_ACTIONS, scope="own")
    grant(rep, "customers.account", "export", scope="own")
    return {u.username: u for u in User.objects.all()}


def _open_modal_form(page: Any, trigger: str) -> Any:
    page.click(trigger)
    form = page.locator("#kehu-modal form").first
    expect(form).to_be_visible()
    return form


@pytest.mark.parametrize(
    ("lang", "labels"),
    [
        ("zh-hans", {"new_contact": "新建联系人", "contacts_tab": "联系人", "how_to_reach": "联系方式"}),
        ("en", {"new_contact": "New contact", "contacts_tab": "Contacts", "how_to_reach": "How to reach"}),
    ],
)
def test_rep_creates_account_with_two_contacts(
    new_page: Any, org: dict[str, User], lang: str, labels: dict[str, str]
) -> None:
    rep1 = org["rep1"]
    page = new_page(lang)
    login(page, "rep1")
    use_language(page, lang)
    page.goto("/customers/accounts/")
    form = _open_modal_form(page, '[data-action="add"]')
    form.locator("[name=name]").fill("杭州丰达机械有限公司")
    # Region picker: province → city → district, each level loaded by htmx.
    form.locator("select[name=province]").select_option("330000")
    expect(form.locator("select[name=city]")).to_be_enabled()
    form.locator("select[name=city]").select_option("330100")
    expect(form.locator("select[name=district]")).to_be_enabled()
    form.locator("select[name=district]").select_option("330106")
    # Typed phone rows: the blank first row, then one more added with the button.
    form.locator("[name=phones-number]").first.fill("0571 8888 6666")
    form.locator(".kehu-rows:has([name=phones-number]) > button").click()
    expect(form.locator("[name=phones-number]")).to_have_count(2)
    form.locator("[name=phones-kind]").nth(1).select_option("mobile")
    form.locator("[name=phones-number]").nth(1).fill("138 0013 8000")
    form.locator("[name=emails-email]").first.fill("sales@fengda.example")
    form.locator("[name=tax_number]").fill("91350100M000100Y43")
    screenshot(page, f"customers-account-create-{lang}")
    form.locator("[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/customers/accounts/\d+/$"))

    account = Account.objects.get(name="杭州丰达机械有限公司")
    assert account.owner_id == rep1.pk
    assert (account.province, account.city, account.district) == ("330000", "330100", "330106")
    assert sorted(account.phones.values_list("kind", "number", "is_primary")) == [
        ("mobile", "+8613800138000", False),
        ("work", "+8657188886666", True),
    ]
    assert list(account.emails.values_list("email", flat=True)) == ["sales@fengda.example"]
    expect(page.locator("body")).to_contain_text(labels["how_to_reach"])
    expect(page.locator("body")).to_contain_text("+86 571 8888 6666")
    expect(page.locator("body")).to_contain_text("杭州市")

    for name, mobile, email in (
        ("张伟", "139 1234 5678", "zhangwei@fengda.example"),
        ("李娜", "137 2345 6789", "lina@fengda.example"),
    ):
        button = page.locator('.page-header [data-action="add-contact"]')
        expect(button).to_contain_text(labels["new_contact"])
        form = _open_modal_form(page, '.page-header [data-action="add-contact"]')
        expect(form.locator("select[name=account]")).to_have_value(str(account.pk))
        form.locator("[name=name]").fill(name)
        form.locator("[name=phones-kind]").first.select_option("mobile")
        form.locator("[name=phones-number]").first.fill(mobile)
        form.locator("[name=emails-email]").first.fill(email)
        if name == "张伟":
            screenshot(page, f"customers-contact-create-{lang}")
        form.locator("[type=submit]").click()
        expect(page.locator("#kehu-modal")).to_be_hidden()
        page.goto(f"/customers/accounts/{account.pk}/")

    contacts = {c.name: c for c in account.contacts.all()}
    assert set(contacts) == {"张伟", "李娜"}
    assert contacts["张伟"].owner_id == rep1.pk
    assert list(contacts["李娜"].phones.values_list("kind", "number")) == [("mobile", "+8613723456789")]
    assert contacts["张伟"].email == "zhangwei@fengda.example"

    # The 360° page: the contact count and the contacts tab.
    expect(page.locator('[data-fact="contacts"]')).to_contain_text("2")
    page.click('[data-tab="contacts"]')
    table = page.locator("table.kehu-account-contacts")
    expect(table).to_contain_text("张伟")
    expect(table).to_contain_text("李娜")
    expect(table).to_contain_text("139 1234 5678")
    expect(page.locator('[data-tab="contacts"]')).to_contain_text(labels["contacts_tab"])
    screenshot(page, f"customers-account-360-contacts-{lang}")


def test_rep_logs_visit_and_gets_follow_up_reminder(new_page: Any, org: dict[str, User]) -> None:
    from kehu.activities.models import Interaction, Reminder, Task
    from kehu.activities.reminders import reminders_send_due
    from kehu.notifications.models import Notification

    rep1 = org["rep1"]
    account = account_create(by=rep1, data={"name": "杭州丰达机械有限公司", "phone": "057188886666"})
    page = new_page("zh-hans")
    login(page, "rep1")
    use_language(page, "zh-hans")
    page.goto(f"/customers/accounts/{account.pk}/?tab=activities")
    form = _open_modal_form(page, '[data-action="log-interaction"]')
    expect(form.locator("select[name=account]")).to_have_value(str(account.pk))
    form.locator("select[name=kind]").select_option("visit")
    expect(form.locator("select[name=kind] option:checked")).to_have_text("拜访")
    form.locator("[name=subject]").fill("上门拜访采购部")
    form.locator("[name=location]").fill("杭州市西湖区文三路 90 号")
    # "When" is prefilled with now in the rep's time zone; the follow-up is ten minutes later.
    occurred = dt.datetime.strptime(form.locator("[name=occurred_at]").input_value(), "%Y-%m-%dT%H:%M")
    follow_up_input = (occurred + dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
    form.locator("[name=next_follow_up_at]").fill(follow_up_input)
    form.locator("[name=body]").fill("客户关心交货期。")
    screenshot(page, "customers-visit-log-zh-hans")
    form.locator("[type=submit]").click()
    expect(page.locator("#kehu-modal")).to_be_hidden()

    visit = Interaction.objects.get(account=account)
    assert (visit.kind, visit.location, visit.owner_id) == ("visit", "杭州市西湖区文三路 90 号", rep1.pk)
    follow_up = visit.next_follow_up_at
    assert follow_up is not None
    assert abs(follow_up - timezone.now() - dt.timedelta(minutes=10)) < dt.timedelta(minutes=2)
    task = Task.objects.get(interaction=visit)
    assert (task.owner_id, task.due_at, task.account_id) == (rep1.pk, follow_up, account.pk)

    # The follow-up task shows on the account's activities tab and on My day.
    page.goto(f"/customers/accounts/{account.pk}/?tab=activities")
    expect(page.locator('[data-list="interactions"]')).to_contain_text("上门拜访采购部")
    expect(page.locator(f'[data-list="tasks"] [data-task="{task.pk}"]')).to_contain_text(task.title)
    screenshot(page, "customers-account-activities-zh-hans")
    if timezone.localdate(follow_up) == timezone.localdate():
        page.goto("/activities/my-day/")
        expect(page.locator(".page-body")).to_contain_text(task.title)
        screenshot(page, "customers-my-day-zh-hans")

    # The follow-up task has the rep's default reminder (30 minutes before); the rep asks for one
    # at the due time instead.
    assert task.remind_before_minutes == 30
    assert Reminder.objects.filter(task=task, status="pending").count() == 1
    page.goto(f"/activities/tasks/{task.pk}/")
    form = _open_modal_form(page, '[data-action="edit"]')
    form.locator("[name=remind_before_minutes]").fill("0")
    form.locator("[type=submit]").click()
    expect(page.locator("#kehu-modal")).to_be_hidden()
    reminder = Reminder.objects.get(task=task, status="pending")
    assert (reminder.recipient_id, reminder.remind_at) == (rep1.pk, follow_up)

    # Celery beat runs this every minute; a minute after the remind time it sends the reminder.
    assert reminders_send_due(now=follow_up - dt.timedelta(minutes=1)) == 0
    assert reminders_send_due(now=follow_up + dt.timedelta(minutes=1)) == 1
    assert reminders_send_due(now=follow_up + dt.timedelta(minutes=2)) == 0  # sent once
    notification = Notification.objects.get(recipient=rep1, kind="task.reminder")
    page.goto("/")
    expect(page.locator("#kehu-bell-badge")).to_have_attribute("data-unread", "1")
    page.click("#kehu-bell-toggle")
    item = page.locator(f'#kehu-bell-menu [data-notification="{notification.pk}"]')
    expect(item).to_contain_text(task.title[:20])
    screenshot(page, "customers-reminder-bell-zh-hans")
    item.locator("a").first.click()
    expect(page).to_have_url(re.compile(rf"/activities/tasks/{task.pk}/"))
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_rep_finds_account_by_pinyin_initials(new_page: Any, org: dict[str, User]) -> None:
    rep1, rep2 = org["rep1"], org["rep2"]
    mine = account_create(by=rep1, data={"name": "杭州丰达机械有限公司"})
    account_create(by=rep1, data={"name": "北京星辰科技有限公司"})
    account_create(by=rep2, data={"name": "杭州丰达贸易有限公司"})  # same initials, not rep1's
    page = new_page("en")
    login(page, "rep1")
    use_language(page, "en")
    page.locator("#kehu-search input[name=q]").fill("hzfd")
    results = page.locator("#kehu-search-results")
    hit = results.locator(f'.kehu-search-hit[href="/customers/accounts/{mine.pk}/"]')
    expect(hit).to_contain_text("杭州丰达机械有限公司")
    expect(results).not_to_contain_text("杭州丰达贸易有限公司")
    expect(results).not_to_contain_text("北京星辰科技有限公司")
    screenshot(page, "customers-search-pinyin-en")
    hit.click()
    expect(page).to_have_url(re.compile(rf"/customers/accounts/{mine.pk}/$"))
    expect(page.locator(".page-title")).to_contain_text("杭州丰达机械有限公司")


def test_rep_exports_own_accounts(new_page: Any, org: dict[str, User], tmp_path: Any) -> None:
    from kehu.core.models import Job

    rep1, rep2 = org["rep1"], org["rep2"]
    account_create(by=rep1, data={"name": "杭州丰达机械有限公司", "phone": "057188886666"})
    account_create(by=rep1, data={"name": "北京星辰科技有限公司"})
    account_create(by=rep2, data={"name": "天津海港物流有限公司"})
    page = new_page("en")
    login(page, "rep1")
    use_language(page, "en")
    page.goto("/customers/accounts/")
    page.click('.kehu-export[data-exporter="customers.account"] [data-bs-toggle="dropdown"]')
    page.click(".kehu-export button[name=fmt][value=csv]")
    # Celery runs eagerly in tests: the job has finished by the time the progress is shown.
    download_link = page.locator("#kehu-modal [data-job-result]")
    expect(download_link).to_be_visible()
    screenshot(page, "customers-export-done-en")
    with page.expect_download() as info:
        download_link.click()
    path = tmp_path / "accounts.csv"
    info.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    names = {cell for row in rows[1:] for cell in row}
    assert "杭州丰达机械有限公司" in names and "北京星辰科技有限公司" in names
    assert "天津海港物流有限公司" not in names
    assert len(rows) == 3  # header + rep1's two accounts
    job = Job.objects.get(owner=rep1)
    assert job.status == "succeeded"


def test_manager_bulk_changes_owner_of_reps_accounts(new_page: Any, org: dict[str, User]) -> None:
    from kehu.audit.models import ObjectChange

    rep1, rep2, manager = org["rep1"], org["rep2"], org["manager1"]
    # More than a page (25 rows), so that "select all rows matching this filter" is offered.
    moved = [account_create(by=rep1, data={"name": f"杭州丰达{i:02d}号有限公司"}) for i in range(27)]
    kept = account_create(by=rep2, data={"name": "天津海港物流有限公司"})
    page = new_page("en")
    login(page, "manager1")
    use_language(page, "en")
    page.goto(f"/customers/accounts/?owner={rep1.pk}")
    table = page.locator("#object-list")
    expect(table.locator("tbody tr[data-pk]")).to_have_count(25)
    expect(table).not_to_contain_text("天津海港物流有限公司")
    table.locator("[data-check-all]").check()
    expect(table.locator("[data-bulk-bar]")).to_contain_text("25")
    table.locator("[data-select-all-matching]").click()
    expect(table.locator("[data-bulk-bar]")).to_contain_text("27")
    table.locator("[data-bulk-menu]").click()
    table.locator('[data-bulk-action="change_owner"]').click()
    form = page.locator("#kehu-bulk-form")
    expect(form.locator("[data-bulk-count]")).to_have_attribute("data-bulk-count", "27")
    expect(form.locator("input[name=all]")).to_have_value("1")
    form.locator("select[name=owner]").evaluate("(el, pk) => el.tomselect.setValue(pk)", str(rep2.pk))
    screenshot(page, "customers-bulk-change-owner-en")
    form.locator("[data-bulk-submit]").click()
    expect(page.locator("#kehu-modal")).to_contain_text("27")
    screenshot(page, "customers-bulk-change-owner-done-en")

    for account in moved:
        account.refresh_from_db()
        assert account.owner_id == rep2.pk
        assert account.department_id == rep2.department_id
        change = ObjectChange.objects.get(model="customers.account", object_id=account.pk, bulk=True)
        assert change.user_id == manager.pk
        assert change.changes["owner"][1]["id"] == rep2.pk
    kept.refresh_from_db()
    assert kept.owner_id == rep2.pk
    assert not Account.objects.filter(owner=rep1).exists()
    page.goto(f"/customers/accounts/?owner={rep1.pk}")
    expect(page.locator("#object-list tbody tr[data-pk]")).to_have_count(0)
