"""Leads and opportunities imported row by row through the sales services (issue 6): dry run and
run agreeing (the services' own refusals counted alike), owners, pools, tags, custom fields,
matching and duplicates, opportunity look-ups, undo (exact restore, refusal) and permission."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.forms.models import model_to_dict

from kehu.audit.models import ObjectChange
from kehu.core.choices import Action, Scope
from kehu.customers.models import Account
from kehu.imports import rowwise
from kehu.imports.choices import ImportStatus
from kehu.imports.engine import ImportRunError
from kehu.imports.models import ImportJob
from kehu.imports.running import import_dry_run_start, import_run_start, import_undo_start
from kehu.sales.models import Lead, Opportunity, PoolItem, StageHistory
from kehu.tags.models import TaggedItem
from kehu.users.tests.factories import RoleFactory, UserFactory, grant

from .test_engine import csv_bytes, make_job

LEAD_HEADERS = ["姓名", "公司", "手机", "邮箱", "状态", "标签", "外部ID", "预算"]
LEAD_MAPPING = {
    "姓名": "name",
    "公司": "company",
    "手机": "mobile",
    "邮箱": "email",
    "状态": "status",
    "标签": "tags",
    "外部ID": "external_id",
    "预算": "custom.budget",
}


def test_the_sales_app_registers_its_services() -> None:
    from kehu.sales.services.leads import lead_create, lead_update
    from kehu.sales.services.opportunities import opportunity_create, opportunity_update

    assert rowwise.row_services("sales.lead") == rowwise.RowServices(create=lead_create, update=lead_update)
    assert rowwise.row_services("sales.opportunity") == rowwise.RowServices(
        create=opportunity_create, update=opportunity_update
    )


def sales_importer(username: str = "importer", *, may_import: bool = True) -> Any:
    role: Any = RoleFactory(name=f"Sales importer {username}", code=f"sales-importer-{username}")
    actions = [Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.ASSIGN]
    if may_import:
        actions.append(Action.IMPORT)
    for label in ("sales.lead", "sales.opportunity"):
        grant(role, label, *actions, scope=Scope.ALL)
    grant(role, "customers.account", Action.VIEW, Action.CHANGE, scope=Scope.ALL)
    grant(role, "customers.contact", Action.VIEW, scope=Scope.ALL)
    grant(role, "tags.tag", Action.VIEW, Action.ADD, scope=Scope.ALL)
    user = UserFactory(username=username)
    user.roles.add(role)
    return user


@pytest.fixture
def user(db: Any) -> Any:
    from kehu.customfields.tests.factories import CustomFieldFactory

    CustomFieldFactory(model="sales.lead", name="budget", label="预算", label_en="Budget", type="integer")
    CustomFieldFactory(
        model="sales.opportunity", name="contract_no", label="合同号", label_en="Contract", type="text"
    )
    return sales_importer()


def run(job: ImportJob, user: Any, capture: Any, start: Any = import_run_start) -> Any:
    with capture(execute=True):
        core = start(job=job, by=user)
    core.refresh_from_db()
    job.refresh_from_db()
    return core


def lead_job(user: Any, rows: list[list[str]], **extra: Any) -> ImportJob:
    return make_job(user, csv_bytes(rows, LEAD_HEADERS), mapping=LEAD_MAPPING, target="sales.lead", **extra)


def counts(job: ImportJob) -> tuple[dict[str, int], dict[str, int]]:
    dry = {k: job.dry_run[k] for k in ("create", "update", "skip", "errors")}
    done = {k: job.result[k] for k in ("created", "updated", "skipped", "errors")}
    return dry, done


def tags_of(obj: Any) -> set[str]:
    return set(
        TaggedItem.objects.filter(model=obj._meta.label_lower, object_id=obj.pk).values_list(
            "tag__name", flat=True
        )
    )


LEADS = [
    ["张伟", "星辰科技", "13812345678", "zw@example.com", "", "重点; 展会", "L-1", "5000"],
    ["李娜", "云帆", "13912345678", "ln@example.com", "contacting", "", "L-2", ""],
    ["赵六", "别的公司", "", "ZW@example.com", "", "", "", ""],  # same e-mail as row 2
    ["王芳", "", "", "not-an-email", "", "", "", ""],  # unreadable e-mail
    ["钱七", "", "13700000000", "", "unqualified", "", "", ""],  # refused by the service only
    ["孙八", "", "13600000000", "", "", "", "", "abc"],  # custom value not a number
]


def test_leads_dry_run_and_run_agree(user: Any, django_capture_on_commit_callbacks: Any) -> None:
    job = lead_job(user, LEADS)
    dry = run(job, user, django_capture_on_commit_callbacks, import_dry_run_start)
    assert dry.status == "succeeded", dry.error
    assert Lead.objects.count() == 0  # the dry run wrote nothing
    assert ObjectChange.objects.filter(model="sales.lead").count() == 0
    assert job.dry_run["reasons"] == {"duplicate_in_file": 1, "invalid_value": 2, "refused": 1}
    messages = {e["row"]: e["message"] for e in job.dry_run["first_errors"]}
    assert "unqualified" in messages[6]
    core = run(job, user, django_capture_on_commit_callbacks)
    assert core.status == "succeeded", core.error
    dry_counts, done = counts(job)
    assert dry_counts == {"create": 2, "update": 0, "skip": 1, "errors": 3}
    assert done == {"created": 2, "updated": 0, "skipped": 1, "errors": 3}
    zw = Lead.objects.get(name="张伟")
    assert (zw.mobile, zw.email, zw.company, zw.external_id, zw.custom, zw.owner_id, zw.created_by_id) == (
        "+8613812345678",
        "zw@example.com",
        "星辰科技",
        "L-1",
        {"budget": 5000},
        user.pk,
        user.pk,
    )
    assert tags_of(zw) == {"重点", "展会"}
    assert Lead.objects.get(name="李娜").status == "contacting"
    # the services' change log carries the import's tag (undo and the search phase find it)
    logged = ObjectChange.objects.filter(request_id=job.audit_tag, model="sales.lead")
    assert set(logged.filter(action="create").values_list("object_id", flat=True)) == set(
        Lead.objects.values_list("pk", flat=True)
    )
    assert job.error_file.name
    text = job.error_file.read().decode("utf-8-sig")
    assert "钱七" in text and "王芳" in text and "张伟" not in text


def test_create_anyway_keeps_duplicates_of_the_file(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rows = [[*LEADS[0][:5], "", "", ""], ["赵六", "别的公司", "", "zw@example.com", "", "", "", ""]]
    job = lead_job(user, rows, on_duplicate="create")
    run(job, user, django_capture_on_commit_callbacks, import_dry_run_start)
    run(job, user, django_capture_on_commit_callbacks)
    dry_counts, done = counts(job)
    assert dry_counts["create"] == done["created"] == 2
    assert Lead.objects.filter(email="zw@example.com").count() == 2


def test_leads_owner_column_chosen_owner_and_pool(user: Any, django_capture_on_commit_callbacks: Any) -> None:
    from kehu.sales.models import Pool

    rep: Any = UserFactory(username="Li.Rep", email="li@example.com")
    headers = ["姓名", "手机", "负责人"]
    mapping = {"姓名": "name", "手机": "mobile", "负责人": "owner"}
    content = csv_bytes(
        [["甲", "13800000001", "li.rep"], ["乙", "13800000002", "LI@example.com"], ["丙", "", "nobody"]],
        headers,
    )
    job = make_job(user, content, mapping=mapping, target="sales.lead", owner_mode="mapped")
    run(job, user, django_capture_on_commit_callbacks)
    assert dict(Lead.objects.values_list("name", "owner_id")) == {"甲": rep.pk, "乙": rep.pk}
    assert job.result["errors"] == 1

    chosen = make_job(
        user,
        csv_bytes([["丁", "13800000004"]], ["姓名", "手机"]),
        mapping={"姓名": "name", "手机": "mobile"},
        target="sales.lead",
        owner_mode="owner",
        assign_to=rep,
    )
    run(chosen, user, django_capture_on_commit_callbacks)
    assert Lead.objects.get(name="丁").owner_id == rep.pk

    pool = Pool.objects.create(name="华北公海", kind="lead")
    pooled = make_job(
        user,
        csv_bytes([["戊", "13800000005"]], ["姓名", "手机"]),
        mapping={"姓名": "name", "手机": "mobile"},
        target="sales.lead",
        owner_mode="pool",
        pool_id=pool.pk,
    )
    dry = run(pooled, user, django_capture_on_commit_callbacks, import_dry_run_start)
    assert dry.status == "succeeded", dry.error
    run(pooled, user, django_capture_on_commit_callbacks)
    assert pooled.result["created"] == 1
    lead = Lead.objects.get(name="戊")
    assert lead.owner_id is None
    assert PoolItem.objects.filter(lead=lead, pool=pool, in_pool=True).exists()
    # putting it into the pool raised its version within the import: undo still takes it back
    undo = run(pooled, user, django_capture_on_commit_callbacks, import_undo_start)
    assert undo.status == "succeeded", undo.error
    assert not Lead.objects.filter(name="戊").exists()


def test_opportunities_are_refused_a_pool(user: Any, django_capture_on_commit_callbacks: Any) -> None:
    job = make_job(
        user,
        csv_bytes([["商机"]], ["商机名称"]),
        mapping={"商机名称": "name"},
        target="sales.opportunity",
        owner_mode="pool",
        pool_id=1,
    )
    core = run(job, user, django_capture_on_commit_callbacks, import_dry_run_start)
    assert core.status == "failed"
    assert "pool" in core.message


def test_lead_upsert_and_undo_restore_exactly(user: Any, django_capture_on_commit_callbacks: Any) -> None:
    from kehu.sales.services.leads import lead_create

    old = lead_create(
        by=user,
        data={
            "name": "老张",
            "company": "旧公司",
            "email": "old@example.com",
            "title": "职员",
            "external_id": "L-1",
            "custom": {"budget": 100},
        },
        tags=["老客户"],
    )
    old.refresh_from_db()
    snapshot = model_to_dict(old)
    rows = [
        ["老张", "新公司", "13812345678", "new@example.com", "contacting", "展会", "L-1", "900"],
        ["新人", "", "13912345678", "", "", "", "L-9", ""],
    ]
    job = lead_job(user, rows, mode="upsert", match_key="external_id")
    run(job, user, django_capture_on_commit_callbacks, import_dry_run_start)
    core = run(job, user, django_capture_on_commit_callbacks)
    assert core.status == "succeeded", core.error
    dry_counts, done = counts(job)
    assert dry_counts == {"create": 1, "update": 1, "skip": 0, "errors": 0}
    assert done == {"created": 1, "updated": 1, "skipped": 0, "errors": 0}
    old.refresh_from_db()
    assert (old.company, old.email, old.mobile, old.status, old.title, old.custom, old.version) == (
        "新公司",
        "new@example.com",
        "+8613812345678",
        "contacting",
        "职员",  # an empty cell keeps the stored value
        {"budget": 900},
        2,
    )
    assert tags_of(old) == {"老客户", "展会"}  # tags are added
    change = ObjectChange.objects.get(
        request_id=job.audit_tag, object_id=old.pk, action="update", changes__has_key="email"
    )
    assert change.changes["email"] == ["old@example.com", "new@example.com"]

    undo = run(job, user, django_capture_on_commit_callbacks, import_undo_start)
    assert undo.status == "succeeded", undo.error
    assert job.status == ImportStatus.UNDONE
    assert list(Lead.objects.values_list("pk", flat=True)) == [old.pk]
    old.refresh_from_db()
    after = model_to_dict(old)
    for name in ("version", "updated_at"):
        snapshot.pop(name, None)
        after.pop(name, None)
    assert after == snapshot
    assert tags_of(old) == {"老客户"}
    undo_rows = ObjectChange.objects.filter(request_id=f"{job.audit_tag}-undo", model="sales.lead")
    assert set(undo_rows.values_list("action", flat=True)) == {"delete", "update"}


def test_lead_undo_is_refused_when_a_lead_changed_since(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from kehu.sales.services.leads import lead_update

    job = lead_job(user, LEADS[:2])
    run(job, user, django_capture_on_commit_callbacks)
    lead = Lead.objects.get(name="李娜")
    lead_update(lead=lead, by=user, data={"title": "后来改的"})
    core = run(job, user, django_capture_on_commit_callbacks, import_undo_start)
    assert core.status == "failed"
    assert f"#{lead.pk}" in core.message
    assert job.status == ImportStatus.DONE
    assert Lead.objects.count() == 2


OPP_HEADERS = [
    "商机名称",
    "客户",
    "联系人",
    "金额",
    "销售流程",
    "阶段",
    "预计成交日期",
    "外部ID",
    "标签",
    "合同号",
]
OPP_MAPPING = {
    "商机名称": "name",
    "客户": "account",
    "联系人": "contact",
    "金额": "amount",
    "销售流程": "pipeline",
    "阶段": "stage",
    "预计成交日期": "expected_close_date",
    "外部ID": "external_id",
    "标签": "tags",
    "合同号": "custom.contract_no",
}


def test_opportunities_import_with_look_ups_and_undo(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from kehu.customers.tests.factories import AccountFactory, ContactFactory

    acme: Account = AccountFactory(name="北京星辰科技有限公司", external_id="SF-ACC-1", owner=user)  # type: ignore[assignment]
    contact: Any = ContactFactory(account=acme, name="张伟", email="zw@example.com", owner=user)
    close = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    rows = [
        ["ERP 项目", "SF-ACC-1", "ZW@example.com", "120000", "", "商务洽谈", close, "O-1", "大单", "HT-1"],
        ["CRM 项目", "北京星辰科技有限公司", "张伟", "8000.5", "Default", "", "", "O-2", "", ""],
        ["无客户", "不存在的公司", "", "1", "", "", "", "", "", ""],
        ["坏阶段", "SF-ACC-1", "", "1", "", "不存在", "", "", "", ""],
        ["负金额", "SF-ACC-1", "", "-5", "", "", "", "", "", ""],  # refused by the service
    ]
    from kehu.sales.models import Pipeline

    Pipeline.objects.filter(is_default=True).update(name_en="Default")
    job = make_job(user, csv_bytes(rows, OPP_HEADERS), mapping=OPP_MAPPING, target="sales.opportunity")
    run(job, user, django_capture_on_commit_callbacks, import_dry_run_start)
    core = run(job, user, django_capture_on_commit_callbacks)
    assert core.status == "succeeded", core.error
    dry_counts, done = counts(job)
    assert dry_counts == {"create": 2, "update": 0, "skip": 0, "errors": 3}, job.dry_run["first_errors"]
    assert done == {"created": 2, "updated": 0, "skipped": 0, "errors": 3}
    assert job.dry_run["reasons"] == {"unknown_account": 1, "unknown_stage": 1, "refused": 1}
    erp = Opportunity.objects.get(external_id="O-1")
    assert (erp.account_id, erp.amount, erp.stage.name, erp.probability, erp.owner_id) == (
        acme.pk,
        Decimal("120000.00"),
        "商务洽谈",
        60,
        user.pk,
    )
    assert erp.expected_close_date is not None and erp.expected_close_date.isoformat() == close
    assert erp.custom == {"contract_no": "HT-1"}
    assert tags_of(erp) == {"大单"}
    assert list(erp.contact_roles.values_list("contact_id", "is_primary")) == [(contact.pk, True)]
    crm = Opportunity.objects.get(external_id="O-2")
    assert (crm.stage.name, crm.amount) == ("初步沟通", Decimal("8000.50"))
    assert StageHistory.objects.filter(opportunity__in=[erp, crm]).count() == 2

    undo = run(job, user, django_capture_on_commit_callbacks, import_undo_start)
    assert undo.status == "succeeded", undo.error
    assert Opportunity.objects.count() == 0
    assert StageHistory.objects.count() == 0
    assert TaggedItem.objects.filter(model="sales.opportunity").count() == 0


def test_opportunity_update_by_external_id_and_undo(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from kehu.customers.tests.factories import AccountFactory
    from kehu.sales.services.opportunities import opportunity_create

    acme: Any = AccountFactory(name="星辰", external_id="SF-ACC-1", owner=user)
    opp = opportunity_create(
        by=user,
        account=acme,
        name="ERP",
        amount=Decimal("100"),
        data={"external_id": "O-1", "next_step": "报价"},
    )
    opp.refresh_from_db()
    snapshot = model_to_dict(opp)
    headers = ["外部ID", "金额", "阶段"]
    job = make_job(
        user,
        csv_bytes([["O-1", "250", "赢单"], ["O-404", "1", ""]], headers),
        mapping={"外部ID": "external_id", "金额": "amount", "阶段": "stage"},
        target="sales.opportunity",
        mode="update",
        match_key="external_id",
    )
    run(job, user, django_capture_on_commit_callbacks, import_dry_run_start)
    run(job, user, django_capture_on_commit_callbacks)
    dry_counts, done = counts(job)
    assert dry_counts == {"create": 0, "update": 1, "skip": 1, "errors": 0}, job.dry_run["first_errors"]
    assert done == {"created": 0, "updated": 1, "skipped": 1, "errors": 0}
    opp.refresh_from_db()
    assert (opp.amount, opp.next_step, opp.stage.name) == (Decimal("250.00"), "报价", "初步沟通")
    run(job, user, django_capture_on_commit_callbacks, import_undo_start)
    opp.refresh_from_db()
    after = model_to_dict(opp)
    for name in ("version", "updated_at"):
        snapshot.pop(name, None)
        after.pop(name, None)
    assert after == snapshot


def test_upsert_on_a_unique_custom_field(user: Any, django_capture_on_commit_callbacks: Any) -> None:
    from kehu.customfields.tests.factories import CustomFieldFactory, FieldRuleFactory
    from kehu.sales.services.leads import lead_create

    CustomFieldFactory(model="sales.lead", name="crm_no", label="编号", label_en="CRM no", type="text")
    FieldRuleFactory(model="sales.lead", field="custom.crm_no", required=False, unique=True, weight=0)
    old = lead_create(by=user, data={"name": "老客户", "custom": {"crm_no": "A-1"}})
    headers = ["姓名", "编号", "职位"]
    job = make_job(
        user,
        csv_bytes([["老客户", "a-1", "总监"], ["新客户", "A-2", ""]], headers),
        mapping={"姓名": "name", "编号": "custom.crm_no", "职位": "title"},
        target="sales.lead",
        mode="upsert",
        match_key="custom.crm_no",
    )
    run(job, user, django_capture_on_commit_callbacks, import_dry_run_start)
    assert job.dry_run["errors"] == 0, job.dry_run["first_errors"]
    run(job, user, django_capture_on_commit_callbacks)
    assert (job.result["created"], job.result["updated"], job.result["errors"]) == (1, 1, 0)
    old.refresh_from_db()
    assert old.title == "总监"


def test_no_import_permission_on_leads_is_refused(db: Any, django_capture_on_commit_callbacks: Any) -> None:
    user = sales_importer("no-import", may_import=False)
    job = lead_job(user, LEADS[:1])
    for start in (import_dry_run_start, import_run_start):
        with pytest.raises(ImportRunError) as caught:
            start(job=job, by=user)
        assert caught.value.code == ImportRunError.NO_PERMISSION
    assert Lead.objects.count() == 0
    job.refresh_from_db()
    assert job.status == ImportStatus.MAPPED


def test_unregistered_services_fail_cleanly(
    user: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rowwise, "_services", {})
    job = lead_job(user, LEADS[:1])
    core = run(job, user, django_capture_on_commit_callbacks)
    assert core.status == "failed"
    assert Lead.objects.count() == 0


def test_batches_are_written_once_and_resume_after_the_last(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from kehu.core.services import job_create
    from kehu.imports.models import ImportBatch
    from kehu.imports.running import import_run_execute

    rows = [[f"人{i}", "", f"1380000000{i}", "", "", "", f"L-{i}", ""] for i in range(5)]
    job = lead_job(user, rows)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    core = job_create(kind="import", owner=user, params={"import_id": job.pk, "step": "import_run"})
    import_run_execute(job_id=core.pk, batch_size=2)
    assert list(
        ImportBatch.objects.filter(job=job).values_list("number", "first_row", "last_row", "created")
    ) == [
        (1, 2, 3, 2),
        (2, 4, 5, 2),
        (3, 6, 6, 1),
    ]
    assert Lead.objects.count() == 5
    # a batch already committed is not written again
    writer = rowwise.RowWriter(job, by=user)
    preparer = rowwise.RowPreparer(job, by=user)
    from kehu.imports.parsing import RawRow

    again = preparer.prepare([RawRow(line=2, values=["新人", "", "13900000009", "", "", "", "L-new", ""])])
    assert again[0].action == "create"
    assert writer.write(number=1, first_row=2, last_row=2, rows=again) is None
    assert Lead.objects.count() == 5
