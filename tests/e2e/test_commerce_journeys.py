"""The quote-to-cash journey of issue 7 in a real browser, each step checked in the page and in the
database: a rep builds a quote from an opportunity with one product line, gives the line a 20 %
discount and submits it; the discount rule sends it to the rep's manager (manager1, 华北区), who
approves it with a comment from the approvals inbox; the rep marks it sent and accepted, creates
the contract, activates it, sets a three-instalment payment plan (the first 40 days overdue) in the
plan editor and records the first two payments from the plan panel; the account's "Quotes and
orders" tab and the receivables page show the outstanding third instalment in its aging bucket.

Data: the demo organisation and roles (with their commerce grants), a product and a CNY price list
through the catalog services, an opportunity line through the opportunity-lines services, and the
approval rule through the approvals services.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from kehu.catalog.models import Currency
from kehu.catalog.services import price_list_create, price_set, product_create
from kehu.commerce.models import Contract, Instalment, Payment, Quote, QuoteApproval
from kehu.commerce.services.approvals import approval_rule_create
from kehu.customers.services import account_create
from kehu.sales.models import Opportunity
from kehu.sales.services.opportunities import opportunity_create
from kehu.sales.services.opportunity_lines import opportunity_line_add
from kehu.users.models import User

from .conftest import login, screenshot, use_language, wait_for_record


@pytest.fixture
def org(transactional_db: Any) -> dict[str, User]:
    from kehu.demo.loader import load_demo

    load_demo(only=["org"])
    # A transactional test database starts without the data migrations' rows: the default
    # pipeline, the sales picklists, the currencies and the order statuses are seeded again
    # (every seed skips what exists).
    for module, function in (
        ("kehu.sales.migrations.0002_default_pipeline", "create_default"),
        ("kehu.sales.migrations.0003_lead_picklists", "seed"),
        ("kehu.catalog.migrations.0002_currencies", "seed"),
        ("kehu.commerce.migrations.0002_order_statuses", "seed"),
    ):
        getattr(importlib.import_module(module), function)(apps, None)
    return {u.username: u for u in User.objects.all()}


@pytest.fixture
def deal(org: dict[str, User]) -> Opportunity:
    """rep1's opportunity with one line: 10 × 1,000.00 CNY of 客户管理系统 (13 % tax), and the rule
    "a discount above 10 % needs the owner's manager"."""
    admin, rep = org["admin"], org["rep1"]
    cny = Currency.objects.get(code="CNY")
    product = product_create(
        by=admin,
        data={
            "code": "CRM-STD",
            "name": "客户管理系统标准版",
            "name_en": "CRM standard",
            "tax_rate": Decimal("13"),
        },
    )
    price_list = price_list_create(by=admin, data={"name": "标准价目表", "currency": cny})
    price_set(price_list=price_list, product=product, unit_price=Decimal("1000"), by=admin)
    account = account_create(by=rep, data={"name": "北京远航科技有限公司"})
    opp = opportunity_create(
        by=rep,
        account=account,
        name="远航科技 - 客户管理系统",
        amount=Decimal("0"),
        data={"expected_close_date": timezone.localdate() + dt.timedelta(days=30)},
    )
    opportunity_line_add(
        by=rep, opportunity=opp, product=product, quantity=Decimal("10"), price_list=price_list
    )
    approval_rule_create(
        by=admin,
        data={
            "name": "折扣超过 10 %",
            "kind": "discount_above",
            "threshold": Decimal("10"),
            "approver_kind": "manager",
            "is_active": True,
        },
    )
    opp.refresh_from_db()
    return opp


def _modal_submit(page: Any) -> None:
    page.locator("#kehu-modal [type=submit]").first.click()


def test_rep_quotes_with_an_approved_discount_and_collects_two_of_three_instalments(
    new_page: Any, org: dict[str, User], deal: Opportunity
) -> None:
    rep, manager = org["rep1"], org["manager1"]
    assert rep.department is not None and rep.department.manager_id == manager.pk
    today = timezone.localdate()

    # The rep opens the opportunity and clicks "New quote": the lines are copied.
    page = new_page("en")
    login(page, "rep1")
    use_language(page, "en")  # the demo users prefer Chinese
    page.goto(f"/sales/opportunities/{deal.pk}/")
    screenshot(page, "commerce-opportunity-en")
    page.get_by_role("link", name="New quote").first.click()
    header = page.locator("#kehu-modal form").first  # the quote's header opens in the dialog
    expect(header).to_be_visible()
    expect(header).to_contain_text(deal.name)
    header.locator("[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/commerce/quotes/\d+/$"))
    quote = Quote.objects.get(opportunity=deal)
    assert (quote.status, quote.owner_id, quote.account_id) == ("draft", rep.pk, deal.account_id)
    line = quote.lines.get()
    assert (line.quantity, line.unit_price) == (Decimal("10"), Decimal("1000"))

    # The line gets a 20 % discount in the line dialog.
    page.locator('[data-action="edit-line"]').first.click()
    form = page.locator("#kehu-modal form").first
    expect(form).to_be_visible()
    form.locator("input[name=discount_percent]").fill("20")
    _modal_submit(page)
    expect(page.locator("#kehu-modal form")).to_be_hidden()
    line.refresh_from_db()
    assert line.discount_percent == Decimal("20")
    quote.refresh_from_db()
    # 10 × 1,000 − 20 % = 8,000, tax 13 % = 1,040: total 9,040.00.
    assert (quote.subtotal, quote.discount_total, quote.total) == (10000, 2000, Decimal("9040"))
    page.reload()
    expect(page.locator("body")).to_contain_text("9,040.00")
    screenshot(page, "commerce-quote-draft-en")

    # Submitted: the discount rule needs the owner's manager.
    page.locator('[data-action="submit"]').click()
    expect(page.locator('[data-action="submit"]')).to_have_count(0)
    quote.refresh_from_db()
    assert quote.status == "pending"
    step = QuoteApproval.objects.get(quote=quote)
    assert (step.status, step.approver_id) == ("pending", manager.pk)

    # The manager approves it with a comment from the approvals inbox.
    boss = new_page("zh-hans")
    login(boss, "manager1")
    boss.goto("/commerce/approvals/")
    row = boss.locator(f'[data-approval="{step.pk}"]')
    expect(row).to_contain_text(quote.number)
    screenshot(boss, "commerce-approvals-inbox-zh-hans")
    row.locator('[data-action="approve"]').click()
    decision = boss.locator("#kehu-modal form").first
    expect(decision).to_be_visible()
    decision.locator("textarea[name=comment]").fill("同意，本季度重点客户。")
    _modal_submit(boss)
    expect(boss.locator(f'[data-approval="{step.pk}"]')).to_have_count(0)
    step.refresh_from_db()
    quote.refresh_from_db()
    assert (step.status, step.comment) == ("approved", "同意，本季度重点客户。")
    assert quote.status == "approved"

    # The rep marks it sent, then accepted.
    page.goto(f"/commerce/quotes/{quote.pk}/")
    with page.expect_response(re.compile(r"/mark-sent/$")):
        page.locator('[data-action="mark-sent"]').click()
    quote.refresh_from_db()
    assert quote.status == "sent"
    page.reload()
    expect(page.locator('[data-status="sent"], body').first).to_contain_text("Sent")
    page.locator('[data-action="accept"]').click()
    expect(page.locator("#kehu-modal form").first).to_be_visible()
    _modal_submit(page)
    expect(page.locator('[data-action="create-contract"]')).to_be_visible()
    quote.refresh_from_db()
    assert quote.status == "accepted"
    screenshot(page, "commerce-quote-accepted-en")

    # "Create contract", then activate it.
    page.locator('[data-action="create-contract"]').click()
    expect(page).to_have_url(re.compile(r"/commerce/contracts/\d+/$"))
    contract = Contract.objects.get(quote=quote)
    assert (contract.status, contract.value, contract.account_id) == (
        "draft",
        Decimal("9040.00"),
        deal.account_id,
    )
    page.locator('[data-action="activate"]').click()
    activate = page.locator("#kehu-modal form").first  # the dialog asks for the signing date
    expect(activate).to_be_visible()
    activate.locator("input[name=signed_on]").fill(today.isoformat())
    _modal_submit(page)
    wait_for_record(page, contract, lambda c: c.status == "active")
    assert contract.status == "active"

    # The payment plan: three instalments, the first due 40 days ago.
    page.goto(f"/commerce/contracts/{contract.pk}/")
    page.locator('[data-action="edit-plan"]').click()
    plan_form = page.locator("[data-plan-form]")
    expect(plan_form).to_be_visible()
    dues = [today - dt.timedelta(days=40), today + dt.timedelta(days=30), today + dt.timedelta(days=90)]
    amounts = ["3000.00", "3000.00", "3040.00"]
    while plan_form.locator("[data-plan-row]").count() < 3:
        plan_form.locator("[data-plan-add]").click()
    while plan_form.locator("[data-plan-row]").count() > 3:
        plan_form.locator("[data-plan-row] [data-plan-remove]").last.click()
    rows = plan_form.locator("[data-plan-row]")
    for i, (due, amount) in enumerate(zip(dues, amounts, strict=True)):
        rows.nth(i).locator("input[name=due_on]").fill(due.isoformat())
        rows.nth(i).locator("input[name=amount]").fill(amount)
    plan_form.locator("[type=submit]").click()
    expect(page.locator("[data-instalments]")).to_be_visible()
    instalments = list(Instalment.objects.filter(plan__contract=contract).order_by("sequence"))
    assert [(i.due_on, i.amount) for i in instalments] == [
        (d, Decimal(a)) for d, a in zip(dues, amounts, strict=True)
    ]
    expect(page.locator(f'[data-instalment="{instalments[0].pk}"]')).to_contain_text("Overdue")

    # Two payments, from the plan panel's per-instalment buttons.
    for instalment in instalments[:2]:
        page.locator(f'[data-instalment="{instalment.pk}"] [data-action="record-instalment"]').click()
        pay = page.locator("#kehu-modal form").first
        expect(pay).to_be_visible()
        pay.locator("input[name=amount]").fill(str(instalment.amount))
        pay.locator("input[name=received_on]").fill(today.isoformat())
        pay.locator("input[name=reference]").fill(f"BANK-{instalment.sequence}")
        _modal_submit(page)
        expect(page.locator("#kehu-modal form")).to_be_hidden()
        page.goto(f"/commerce/contracts/{contract.pk}/")
        expect(page.locator(f'[data-instalment="{instalment.pk}"]')).to_have_attribute("data-state", "paid")
    payments = Payment.objects.filter(account=deal.account).order_by("instalment__sequence")
    assert [(p.instalment_id, p.amount) for p in payments] == [(i.pk, i.amount) for i in instalments[:2]]
    expect(page.locator("[data-plan-outstanding]")).to_contain_text("3,040.00")
    screenshot(page, "commerce-contract-plan-en")

    # The account's "Quotes and orders" tab and the receivables page show the third instalment.
    page.goto(f"/customers/accounts/{deal.account_id}/?tab=commerce")
    panel = page.locator('[data-panel="commerce"]')
    expect(panel).to_contain_text("3,040.00")
    expect(panel).to_contain_text(quote.number)
    screenshot(page, "commerce-account-tab-en")
    page.goto("/commerce/receivables/")
    body = page.locator("body")
    expect(body).to_contain_text("北京远航科技有限公司")
    expect(body).to_contain_text("3,040.00")
    screenshot(page, "commerce-receivables-en")

    # The same pages in Chinese, for the screenshots.
    zh = new_page("zh-hans")
    login(zh, "rep1")
    use_language(zh, "zh-hans")  # back to the preference the demo user had
    for url, name in (
        (f"/commerce/quotes/{quote.pk}/", "commerce-quote-accepted-zh-hans"),
        (f"/commerce/contracts/{contract.pk}/", "commerce-contract-plan-zh-hans"),
        (f"/customers/accounts/{deal.account_id}/?tab=commerce", "commerce-account-tab-zh-hans"),
        ("/commerce/receivables/", "commerce-receivables-zh-hans"),
    ):
        zh.goto(url)
        # Django's zh-Hans number format has no thousands grouping: 3040.00 there.
        expect(zh.locator("body")).to_contain_text(
            quote.number if "quote" in name else re.compile(r"3,?040\.00")
        )
        screenshot(zh, name)
