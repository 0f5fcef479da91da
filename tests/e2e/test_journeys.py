"""The main user journeys of the foundation, in a real browser (issue 3).

Data comes from the demo loader's organisation stage (departments, roles with their grants, the
demo users with password demo1234) plus a few accounts created through the customers services.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import expect

from kehu.customers.models import Account
from kehu.customers.services import account_create
from kehu.customfields.models import CustomField
from kehu.users.models import User

from .conftest import login, screenshot, use_language


@pytest.fixture
def org(transactional_db: Any) -> dict[str, Any]:
    from kehu.demo.loader import load_demo

    load_demo(only=["org"])
    users = {u.username: u for u in User.objects.all()}
    a1 = account_create(by=users["rep1"], data={"name": "北京星辰科技有限公司", "phone": "13800138000"})
    a2 = account_create(by=users["rep2"], data={"name": "天津海港物流有限公司", "phone": "13900139000"})
    a3 = account_create(by=users["rep3"], data={"name": "上海浦江贸易有限公司"})
    return {"users": users, "rep1_account": a1, "rep2_account": a2, "rep3_account": a3}


@pytest.mark.parametrize(
    ("lang", "menu_label", "welcome"),
    [("zh-hans", "客户", "欢迎"), ("en", "Accounts", "Welcome")],
)
def test_rep_signs_in_in_both_languages(
    new_page: Any, org: dict[str, Any], lang: str, menu_label: str, welcome: str
) -> None:
    page = new_page(lang)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    login(page, "rep1")
    expect(page).to_have_url(re.compile(r"/$"))
    # The demo users saved 简体中文 as their language; the top-bar switch changes (and saves) it.
    with page.expect_navigation():
        page.select_option("#kehu-language-form select", lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("#kehu-menu")).to_contain_text(menu_label)
    assert User.objects.get(username="rep1").language == lang
    expect(page.locator("body")).to_contain_text(welcome)
    screenshot(page, f"home-{lang}")
    page.goto("/customers/accounts/")
    expect(page.locator("body")).to_contain_text("北京星辰科技有限公司")
    screenshot(page, f"accounts-list-{lang}")
    page.goto(f"/customers/accounts/{org['rep1_account'].pk}/")
    expect(page.locator("body")).to_contain_text("北京星辰科技有限公司")
    screenshot(page, f"account-detail-{lang}")


def test_wrong_password_then_lockout(new_page: Any, org: dict[str, Any]) -> None:
    page = new_page("en")
    login(page, "rep2", "wrong-password")
    expect(page.locator("#login-error")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    screenshot(page, "login-error-en")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(page, "rep2", "wrong-password")
    expect(page.locator("body")).to_contain_text("Too many failed sign-in attempts")
    # Locked: even the right password is refused with the same message.
    login(page, "rep2")
    expect(page.locator("body")).to_contain_text("Too many failed sign-in attempts")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    screenshot(page, "lockout-en")

    zh = new_page("zh-hans")
    login(zh, "rep2")
    expect(zh.locator("body")).to_contain_text("登录失败次数过多")
    screenshot(zh, "lockout-zh-hans")


def test_rep_sees_only_own_accounts(new_page: Any, org: dict[str, Any]) -> None:
    page = new_page("en")
    login(page, "rep1")
    use_language(page, "en")
    page.goto("/customers/accounts/")
    body = page.locator("main, .page-body").first
    expect(body).to_contain_text("北京星辰科技有限公司")
    expect(body).not_to_contain_text("天津海港物流有限公司")
    response = page.goto(f"/customers/accounts/{org['rep2_account'].pk}/")
    assert response is not None and response.status == 404

    manager = new_page("en")
    login(manager, "manager1")
    manager.goto("/customers/accounts/")
    mbody = manager.locator(".page-body").first
    expect(mbody).to_contain_text("北京星辰科技有限公司")
    expect(mbody).to_contain_text("天津海港物流有限公司")
    expect(mbody).not_to_contain_text("上海浦江贸易有限公司")


def test_admin_adds_custom_field_and_rep_fills_it(new_page: Any, org: dict[str, Any]) -> None:
    admin = new_page("en")
    login(admin, "admin")
    use_language(admin, "en")
    admin.goto("/settings/custom-fields/")
    admin.click('[data-model="customers.account"] [data-action="add-field"]')
    form = admin.locator("#customfields-form")
    expect(form).to_be_visible()
    form.locator("[name=name]").fill("contract_region")
    form.locator("[name=label]").fill("签约区域")
    form.locator("[name=label_en]").fill("Contract region")
    form.locator("[name=type]").select_option("text")
    show = form.locator("[name=show_in_list]")
    if not show.is_checked():
        show.check()
    screenshot(admin, "custom-field-modal-en")
    form.locator("[type=submit]").click()
    expect(admin.locator("#kehu-modal")).to_be_hidden()
    assert CustomField.objects.filter(model="customers.account", name="contract_region").exists()
    admin.reload()
    expect(admin.locator("body")).to_contain_text("Contract region")

    rep = new_page("en")
    login(rep, "rep1")
    use_language(rep, "en")
    rep.goto("/customers/accounts/")
    rep.click('[data-action="add"]')
    form = rep.locator("#kehu-object-form")
    expect(form).to_be_visible()
    form.locator("[name=name]").fill("深圳南山软件有限公司")
    form.locator("[name=custom__contract_region]").fill("华南")
    screenshot(rep, "account-create-modal-en")
    form.locator("[type=submit]").click()
    expect(rep.locator("body")).to_contain_text("深圳南山软件有限公司")
    account = Account.objects.get(name="深圳南山软件有限公司")
    assert account.custom == {"contract_region": "华南"}
    assert account.owner_id == org["users"]["rep1"].pk

    rep.goto(f"/customers/accounts/{account.pk}/")
    expect(rep.locator("body")).to_contain_text("Contract region")
    expect(rep.locator("body")).to_contain_text("华南")
    rep.goto("/customers/accounts/")
    expect(rep.locator("table thead")).to_contain_text("Contract region")
    expect(rep.locator("table tbody")).to_contain_text("华南")
    screenshot(rep, "accounts-list-custom-column-en")


def test_admin_grants_permission_and_menu_changes(new_page: Any, org: dict[str, Any]) -> None:
    agent = new_page("en")
    login(agent, "agent1")
    expect(agent.locator('[data-menu="users:department_list"]')).to_have_count(0)

    admin = new_page("en")
    login(admin, "admin")
    use_language(admin, "en")
    from kehu.users.models import Role

    role = Role.objects.get(code="agent")
    admin.goto(f"/settings/roles/{role.pk}/")
    admin.select_option('select[name="perm:users.department:view"]', "all")
    screenshot(admin, "role-permissions-en")
    admin.click("#role-access-save")
    expect(admin.locator("body")).to_contain_text(re.compile("saved", re.I))

    agent.goto("/")
    expect(agent.locator('[data-menu="users:department_list"]')).to_have_count(1)
    agent.click('[data-menu="users:department_list"]')
    expect(agent.locator("body")).to_contain_text("销售部")


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_screenshots_of_main_pages(new_page: Any, org: dict[str, Any], lang: str) -> None:
    """Renders the main pages for a look (saved under screenshots/): each must answer 200."""
    page = new_page(lang)
    page.goto("/accounts/login/")
    screenshot(page, f"login-{lang}")
    login(page, "admin")
    use_language(page, lang)
    for name, url in [
        ("contacts", "/customers/contacts/"),
        ("users", "/settings/users/"),
        ("departments", "/settings/departments/"),
        ("roles", "/settings/roles/"),
        ("custom-fields", "/settings/custom-fields/"),
        ("picklists", "/settings/custom-fields/picklists/"),
        ("operation-log", "/audit/log/"),
        ("jobs", "/jobs/"),
        ("profile", "/me/"),
        ("api-docs", "/api/docs/"),
    ]:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        screenshot(page, f"{name}-{lang}")
    phone = new_page(lang, viewport={"width": 390, "height": 844})
    login(phone, "rep1")
    use_language(phone, lang)
    phone.goto("/customers/accounts/")
    screenshot(phone, f"phone-accounts-{lang}")
