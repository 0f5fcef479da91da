"""The journeys of the sales module (issue 5) in a real browser, each checked in the page and in the
database: a rep claims a lead from a pool (a colleague who tries a moment later is told it was just
claimed), logs a call on it and marks it qualified on its page, converts it with an opportunity
and drags the deal to 赢单 on the kanban; a manager reads the funnel and the forecast of their
department.

An administrator adds a stage that needs the next step: a rep's drag into it is refused with
the reason until the field is filled in the dialog.

Data: the demo organisation and roles (with their sales grants), a pool and deals made through
the sales services.
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

from kehu.activities.models import Interaction
from kehu.customers.services import account_create
from kehu.sales.models import Pool, PoolItem, Stage
from kehu.sales.services.leads import lead_create
from kehu.sales.services.opportunities import opportunity_create, opportunity_move_stage
from kehu.sales.services.pools import pool_create, pool_put
from kehu.users.models import Department, User

from .conftest import login, screenshot, wait_for_record


@pytest.fixture
def org(transactional_db: Any) -> dict[str, User]:
    from kehu.demo.loader import load_demo

    load_demo(only=["org"])
    # A transactional test database starts without the data migrations' rows: the default
    # pipeline and the sales picklists are seeded again (both seeds skip what exists).
    for name in ("0002_default_pipeline", "0003_lead_picklists"):
        importlib.import_module(f"kehu.sales.migrations.{name}").__dict__[
            "create_default" if name.startswith("0002") else "seed"
        ](apps, None)
    return {u.username: u for u in User.objects.all()}


@pytest.fixture
def north_pool(org: dict[str, User]) -> Pool:
    north = Department.objects.get(name="华北区")
    return pool_create(
        by=org["admin"],
        data={
            "name": "华北线索池",
            "kind": "lead",
            "member_departments": [north],
            "max_claims_per_day": 20,
            "protection_days": 7,
        },
    )


def test_rep_claims_a_lead_and_converts_it_while_a_colleague_is_too_late(
    new_page: Any, org: dict[str, User], north_pool: Pool
) -> None:
    rep1, rep2 = org["rep1"], org["rep2"]
    lead = lead_create(
        by=org["admin"],
        data={
            "name": "周杰",
            "company": "北京远航科技有限公司",
            "mobile": "13911112222",
            "source": "website",
        },
    )
    pool_put(pool=north_pool, records=[lead], by=org["admin"])

    # Both reps open the pool (in Chinese); rep1 claims first.
    page1, page2 = new_page("zh-hans"), new_page("zh-hans")
    for page, user in ((page1, "rep1"), (page2, "rep2")):
        login(page, user)
        page.goto(f"/sales/pools/{north_pool.pk}/")
        expect(page.locator(f'[data-claim="{lead.pk}"]')).to_be_visible()
    screenshot(page1, "sales-pool-before-claim-zh-hans")
    page1.click(f'[data-claim="{lead.pk}"]')
    expect(page1.locator("body")).to_contain_text("您已领取")
    lead.refresh_from_db()
    assert lead.owner_id == rep1.pk and lead.department_id == rep1.department_id
    assert not PoolItem.objects.get(lead=lead).in_pool

    # rep2's page still shows the lead: the claim is refused with the reason, nothing changes.
    page2.click(f'[data-claim="{lead.pk}"]')
    expect(page2.locator("body")).to_contain_text("刚刚已被其他人领取")
    screenshot(page2, "sales-pool-claimed-meanwhile-zh-hans")
    lead.refresh_from_db()
    assert lead.owner_id == rep1.pk != rep2.pk

    # On the lead's page rep1 logs the call (the activity form in the dialog) …
    page1.goto(f"/sales/leads/{lead.pk}/")
    expect(page1.locator('[data-fact="last_follow_up"]')).to_contain_text("从未跟进")
    page1.click('[data-action="log-interaction"]')
    call = page1.locator("#kehu-modal form").first
    expect(call).to_be_visible()
    call.locator("select[name=kind]").select_option("call")
    call.locator("input[name=subject]").fill("首次电话沟通")
    call.locator("textarea[name=body]").fill("客户计划上线客户管理系统，预算约 18 万元。")
    screenshot(page1, "sales-lead-log-call-zh-hans")
    page1.locator("#kehu-modal [type=submit]").first.click()
    expect(page1.locator("#kehu-modal form")).to_be_hidden()
    expect(page1.locator('[data-fact="last_follow_up"]')).not_to_contain_text("从未跟进")
    interaction = Interaction.objects.get(lead=lead)
    assert (interaction.kind, interaction.subject) == ("call", "首次电话沟通")
    lead.refresh_from_db()
    assert lead.last_activity_at is not None

    # … marks it qualified with the header button, and converts it, with an opportunity.
    page1.click('[data-action="qualify"]')
    expect(page1.locator('[data-status="qualified"]')).to_be_visible()
    lead.refresh_from_db()
    assert lead.status == "qualified"
    page1.goto(f"/sales/leads/{lead.pk}/convert/")
    form = page1.locator("#kehu-convert-form")
    expect(form).to_be_visible()
    form.locator("input[name=account_choice][value=new]").check()
    form.locator("input[name=create_opportunity]").check()
    form.locator("input[name=opportunity_name]").fill("远航科技 - 客户管理系统")
    form.locator("input[name=amount]").fill("180000")
    screenshot(page1, "sales-lead-convert-zh-hans")
    form.locator("[data-action=convert]").click()
    expect(page1).not_to_have_url(re.compile(r"/convert/$"))
    lead.refresh_from_db()
    assert lead.status == "converted"
    opp = lead.converted_opportunity
    assert opp is not None
    assert (opp.name, opp.amount, opp.owner_id) == ("远航科技 - 客户管理系统", Decimal("180000"), rep1.pk)
    assert opp.account_id == lead.converted_account_id and opp.lead_id == lead.pk
    assert opp.stage_history.count() == 1

    # On the kanban, rep1 drags the deal to 赢单.
    won = Stage.objects.get(pipeline=opp.pipeline, kind="won")
    page1.goto(f"/sales/opportunities/kanban/?pipeline={opp.pipeline_id}")
    card = page1.locator(f'.kehu-kanban-card[data-pk="{opp.pk}"]')
    target = page1.locator(f'.kehu-kanban-list[data-stage="{won.pk}"]')
    expect(card).to_be_visible()
    card.drag_to(target)
    expect(page1.locator(f'.kehu-kanban-list[data-stage="{won.pk}"] [data-pk="{opp.pk}"]')).to_be_visible()
    screenshot(page1, "sales-kanban-won-zh-hans")
    wait_for_record(page1, opp, lambda o: o.status == "won")
    assert (opp.status, opp.stage_id, opp.probability) == ("won", won.pk, 100)
    assert opp.closed_at is not None and opp.stage_history.count() == 2


def _deals(org: dict[str, User]) -> None:
    """Three deals of rep1 (华北区) — won, lost, open — and one of rep3 (华东区)."""
    stages = {s.name: s for s in Stage.objects.filter(pipeline__is_default=True)}
    close = timezone.localdate() + dt.timedelta(days=10)
    for rep, name, amount, outcome in (
        ("rep1", "北京华信 - ERP 实施", "500000", "赢单"),
        ("rep1", "天津港务 - 设备采购", "260000", "输单"),
        ("rep1", "河北钢联 - 年度运维", "120000", "商务洽谈"),
        ("rep3", "上海申美 - 咨询项目", "900000", "赢单"),
    ):
        user = org[rep]
        account = account_create(by=user, data={"name": name.split(" - ")[0] + "有限公司"})
        opp = opportunity_create(
            by=user,
            account=account,
            name=name,
            amount=Decimal(amount),
            data={"expected_close_date": close},
        )
        opportunity_move_stage(opportunity=opp, stage=stages["确定意向"], by=user)
        values = {"loss_reason": "price"} if outcome == "输单" else {}
        opportunity_move_stage(opportunity=opp, stage=stages[outcome], by=user, values=values)


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_manager_reads_funnel_and_forecast_of_their_department(
    new_page: Any, org: dict[str, User], lang: str
) -> None:
    _deals(org)
    north = Department.objects.get(name="华北区")
    page = new_page(lang)
    login(page, "manager1")
    page.goto(f"/sales/reports/funnel/?department={north.pk}")
    body = page.locator("body")
    expect(body).to_contain_text("500,000.00")  # the won deal's amount
    expect(body).not_to_contain_text("900,000")  # 华东区's deal is not in 华北区's funnel
    screenshot(page, f"sales-funnel-north-{lang}")
    page.goto(f"/sales/forecast/?department={north.pk}")
    body = page.locator("body")
    expect(body).to_contain_text("120,000")  # the open deal
    expect(body).not_to_contain_text("900,000")
    screenshot(page, f"sales-forecast-north-{lang}")


def test_a_stage_with_a_required_field_refuses_a_drag_until_it_is_filled(
    new_page: Any, org: dict[str, User]
) -> None:
    rep1 = org["rep1"]
    account = account_create(by=rep1, data={"name": "北京云帆科技有限公司"})
    opp = opportunity_create(by=rep1, account=account, name="云帆科技 - 培训服务", amount=Decimal("50000"))
    pipeline = opp.pipeline

    # The administrator adds a stage that needs the next step.
    admin = new_page("en")
    login(admin, "admin")
    admin.goto(f"/sales/pipelines/{pipeline.pk}/")
    admin.click(f'a[href="/sales/pipelines/{pipeline.pk}/stages/add/"]')
    form = admin.locator("#kehu-modal form").first
    expect(form).to_be_visible()
    form.locator("[name=name]").fill("技术验证")
    form.locator("[name=name_en]").fill("Technical validation")
    form.locator("[name=probability]").fill("45")
    form.locator("select[name=required_fields]").evaluate(
        "el => { for (const o of el.options) o.selected = o.value === 'next_step'; }"
    )
    screenshot(admin, "sales-stage-required-field-en")
    form.locator("[type=submit]").click()
    expect(admin.locator("#kehu-modal")).to_be_hidden()
    stage = Stage.objects.get(pipeline=pipeline, name="技术验证")
    assert stage.required_fields == ["next_step"]

    # rep1's drag into the new (last) column is refused with the reason; filled in, it moves.
    page = new_page("en", viewport={"width": 2200, "height": 900})  # every column on screen
    login(page, "rep1")
    page.goto(f"/sales/opportunities/kanban/?pipeline={pipeline.pk}")
    card = page.locator(f'.kehu-kanban-card[data-pk="{opp.pk}"]')
    card.drag_to(page.locator(f'.kehu-kanban-list[data-stage="{stage.pk}"]'))
    refusal = card.locator('[data-role="refusal"]')
    expect(refusal).to_contain_text("技术验证")
    screenshot(page, "sales-kanban-refused-en")
    opp.refresh_from_db()
    assert opp.stage_id != stage.pk
    refusal.locator('[data-role="fill"]').click()
    dialog = page.locator("#kehu-modal form").first
    expect(dialog).to_be_visible()
    dialog.locator("[name=next_step]").fill("安排技术交流会")
    dialog.locator("[type=submit]").click()
    wait_for_record(page, opp, lambda o: o.stage_id == stage.pk)
    assert (opp.stage_id, opp.next_step) == (stage.pk, "安排技术交流会")
