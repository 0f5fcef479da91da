"""Running an import: batches with their records, details, match keys and change log; owners;
updates with before-values; dry run and run agreeing; undo restoring exactly or refusing."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.audit.models import ObjectChange
from kehu.core.choices import Action, Scope
from kehu.core.services import job_create
from kehu.customers.models import Account, AccountContactRelation, Contact, ContactEmail, ContactPhone
from kehu.dedup.models import MatchKey
from kehu.imports.choices import ImportStatus
from kehu.imports.engine import ImportRunError
from kehu.imports.models import ImportBatch, ImportJob
from kehu.imports.running import import_dry_run_start, import_run_execute, import_run_start, import_undo_start
from kehu.users.tests.factories import UserFactory

from .test_engine import HEADERS, acme, csv_bytes, importer, make_job

__all__ = ["acme"]


@pytest.fixture
def user(db: Any) -> Any:
    return importer()


def run(job: ImportJob, user: Any, capture: Any, start: Any = import_run_start) -> Any:
    with capture(execute=True):
        core = start(job=job, by=user)
    core.refresh_from_db()
    job.refresh_from_db()
    return core


ROWS = [
    ["张伟", "北京星辰科技有限公司", "13812345678", "zw@example.com", "经理", "C-1"],
    ["李娜", "SF-ACC-1", "13912345678", "", "", "C-2"],
    ["王芳", "不存在的公司", "", "", "", ""],
    ["赵六", "北京星辰科技有限公司", "", "zw@example.com", "", ""],
    ["钱七", "北京星辰科技有限公司", "", "qq@example.com", "", "C-3"],
]


def test_run_creates_whole_records_with_audit_keys_and_batches(
    user: Any, acme: Account, django_capture_on_commit_callbacks: Any
) -> None:
    job = make_job(user, csv_bytes(ROWS))
    dry = run(job, user, django_capture_on_commit_callbacks, import_dry_run_start)
    assert dry.status == "succeeded", dry.error
    expected = {k: job.dry_run[k] for k in ("create", "update", "skip", "errors")}
    core = run(job, user, django_capture_on_commit_callbacks)
    assert core.status == "succeeded", core.error
    assert job.status == ImportStatus.DONE
    assert (
        {k: job.result[k] for k in ("created", "updated", "skipped", "errors")}
        == {
            "created": expected["create"],
            "updated": expected["update"],
            "skipped": expected["skip"],
            "errors": expected["errors"],
        }
        == {"created": 3, "updated": 0, "skipped": 1, "errors": 1}
    )
    contacts = {c.name: c for c in Contact.objects.all()}
    assert sorted(contacts) == ["张伟", "李娜", "钱七"]
    zw = contacts["张伟"]
    assert (zw.account_id, zw.owner_id, zw.department_id, zw.created_by_id) == (
        acme.pk,
        user.pk,
        user.department_id,
        user.pk,
    )
    assert (zw.phone, zw.mobile, zw.email, zw.title, zw.external_id, zw.version) == (
        "+8613812345678",
        "+8613812345678",
        "zw@example.com",
        "经理",
        "C-1",
        1,
    )
    assert list(ContactPhone.objects.filter(contact=zw).values_list("kind", "number", "is_primary")) == [
        ("mobile", "+8613812345678", True)
    ]
    assert list(ContactEmail.objects.filter(contact=zw).values_list("email", "is_primary")) == [
        ("zw@example.com", True)
    ]
    assert AccountContactRelation.objects.filter(contact=zw, account=acme, is_direct=True).count() == 1
    keys = set(
        MatchKey.objects.filter(object_id=zw.pk, content_type__model="contact").values_list("kind", "value")
    )
    assert keys == {("phone", "+8613812345678"), ("email", "zw@example.com")}
    changes = ObjectChange.objects.filter(request_id=job.audit_tag)
    assert changes.count() == 3
    first = changes.get(object_id=zw.pk)
    assert (first.action, first.bulk, first.model, first.user_id, first.parent_id) == (
        "create",
        True,
        "customers.contact",
        user.pk,
        acme.pk,
    )
    assert first.changes["name"] == [None, "张伟"]
    batch = ImportBatch.objects.get(job=job)
    assert (batch.number, batch.first_row, batch.last_row, batch.created, batch.errors) == (1, 2, 6, 3, 1)
    assert job.error_file.name
    # the same file again: every row matches what the first run created
    again = make_job(user, csv_bytes(ROWS))
    run(again, user, django_capture_on_commit_callbacks)
    assert again.result["created"] == 0 and again.result["skipped"] == 4


def test_small_batches_and_a_chosen_owner(
    user: Any, acme: Account, django_capture_on_commit_callbacks: Any
) -> None:
    owner: Any = UserFactory(username="rep")
    job = make_job(user, csv_bytes(ROWS), owner_mode="owner", assign_to=owner)
    with django_capture_on_commit_callbacks(execute=True):
        core = import_run_start(job=job, by=user)
    # a redelivered task for the finished job does nothing
    assert import_run_execute(job_id=core.pk) is not None
    job.refresh_from_db()
    assert set(Contact.objects.values_list("owner_id", flat=True)) == {owner.pk}
    job2 = make_job(user, csv_bytes([[f"人{i}", "SF-ACC-1", "", "", "", f"X-{i}"] for i in range(7)]))
    ImportJob.objects.filter(pk=job2.pk).update(status=ImportStatus.RUNNING)
    from kehu.core.services import job_create

    core2 = job_create(kind="import", owner=user, params={"import_id": job2.pk, "step": "import_run"})
    import_run_execute(job_id=core2.pk, batch_size=3)
    assert list(
        ImportBatch.objects.filter(job=job2).values_list("number", "first_row", "last_row", "created")
    ) == [
        (1, 2, 4, 3),
        (2, 5, 7, 3),
        (3, 8, 8, 1),
    ]


def test_mapped_owner_by_username_or_email(
    user: Any, acme: Account, django_capture_on_commit_callbacks: Any
) -> None:
    rep: Any = UserFactory(username="Li.Rep", email="li@example.com")
    headers = ["姓名", "公司", "负责人"]
    mapping = {"姓名": "name", "公司": "account", "负责人": "owner"}
    content = csv_bytes(
        [["甲", "SF-ACC-1", "li.rep"], ["乙", "SF-ACC-1", "LI@example.com"], ["丙", "SF-ACC-1", "nobody"]],
        headers,
    )
    job = make_job(user, content, mapping=mapping, owner_mode="mapped")
    run(job, user, django_capture_on_commit_callbacks)
    assert dict(Contact.objects.values_list("name", "owner_id")) == {"甲": rep.pk, "乙": rep.pk}
    assert job.result["errors"] == 1


def test_upsert_updates_with_before_values_and_undo_restores(
    user: Any, acme: Account, django_capture_on_commit_callbacks: Any
) -> None:
    from kehu.customers.services import contact_create

    old = contact_create(
        by=user, data={"account": acme, "name": "老张", "title": "职员", "email": "old@example.com"}
    )
    Contact.objects.filter(pk=old.pk).update(external_id="C-1")
    content = csv_bytes(
        [["老张", "SF-ACC-1", "", "new@example.com", "经理", "C-1"], ["新人", "SF-ACC-1", "", "", "", "C-2"]]
    )
    job = make_job(user, content, mode="upsert", match_key="external_id")
    core = run(job, user, django_capture_on_commit_callbacks)
    assert core.status == "succeeded", core.error
    assert (job.result["created"], job.result["updated"]) == (1, 1)
    old.refresh_from_db()
    assert (old.title, old.email, old.version) == ("经理", "new@example.com", 2)
    assert ContactEmail.objects.get(contact=old, is_primary=True).email == "new@example.com"
    change = ObjectChange.objects.get(request_id=job.audit_tag, object_id=old.pk)
    assert change.action == "update"
    assert change.changes["title"] == ["职员", "经理"]
    assert change.changes["email"] == ["old@example.com", "new@example.com"]
    undo = run(job, user, django_capture_on_commit_callbacks, import_undo_start)
    assert undo.status == "succeeded", undo.error
    assert job.status == ImportStatus.UNDONE and job.undone_by_id == user.pk
    assert list(Contact.objects.values_list("pk", flat=True)) == [old.pk]
    old.refresh_from_db()
    assert (old.title, old.email) == ("职员", "old@example.com")
    assert ContactEmail.objects.get(contact=old, is_primary=True).email == "old@example.com"
    assert MatchKey.objects.filter(content_type__model="contact").exclude(object_id=old.pk).count() == 0
    assert ObjectChange.objects.filter(request_id=f"{job.audit_tag}-undo", action="delete").count() == 1


def test_undo_is_refused_when_a_record_changed_since(
    user: Any, acme: Account, django_capture_on_commit_callbacks: Any
) -> None:
    from kehu.customers.services import contact_update

    job = make_job(user, csv_bytes(ROWS[:2]))
    run(job, user, django_capture_on_commit_callbacks)
    contact = Contact.objects.get(name="李娜")
    contact_update(contact=contact, by=user, data={"title": "后来改的"})
    core = run(job, user, django_capture_on_commit_callbacks, import_undo_start)
    assert core.status == "failed"
    assert f"#{contact.pk}" in core.message
    assert job.status == ImportStatus.DONE
    assert Contact.objects.count() == 2


def test_run_refuses_a_finished_import(
    user: Any, acme: Account, django_capture_on_commit_callbacks: Any
) -> None:
    job = make_job(user, csv_bytes(ROWS[:1]))
    run(job, user, django_capture_on_commit_callbacks)
    with pytest.raises(ImportRunError) as caught:
        import_run_start(job=job, by=user)
    assert caught.value.code == ImportRunError.BAD_STATUS


def test_accounts_import(user: Any, django_capture_on_commit_callbacks: Any) -> None:
    headers = ["客户名称", "电话", "统一社会信用代码", "网址"]
    mapping = {"客户名称": "name", "电话": "phone", "统一社会信用代码": "tax_number", "网址": "website"}
    content = csv_bytes(
        [
            ["上海云帆有限公司", "021 6552 9988", "91350100M000100Y43", "https://yunfan.example.com"],
            ["坏税号公司", "", "123", ""],
        ],
        headers,
    )
    job = make_job(user, content, mapping=mapping, target="customers.account")
    core = run(job, user, django_capture_on_commit_callbacks)
    assert core.status == "succeeded", core.error
    assert (job.result["created"], job.result["errors"]) == (1, 1)
    account = Account.objects.get()
    assert (account.name, account.phone, account.tax_number) == (
        "上海云帆有限公司",
        "+862165529988",
        "91350100M000100Y43",
    )
    assert set(
        MatchKey.objects.filter(object_id=account.pk, content_type__model="account").values_list(
            "kind", flat=True
        )
    ) >= {
        "phone",
        "tax_number",
        "company",
    }


def test_accounts_follow_the_assignment_rules(user: Any, django_capture_on_commit_callbacks: Any) -> None:
    from kehu.core import assigners

    rep: Any = UserFactory(username="rule-rep")

    def to_rep(*, record: Any, by: Any) -> bool:
        if "云" not in record.name:
            return False
        Account.objects.filter(pk=record.pk).update(owner=rep, department_id=rep.department_id)
        return True

    before = assigners._assigners.get("customers.account")
    assigners.register_new_record_assigner("customers.account", to_rep)
    try:
        job = make_job(
            user,
            csv_bytes([["云帆公司"], ["星辰公司"]], ["客户名称"]),
            mapping={"客户名称": "name"},
            target="customers.account",
        )
        run(job, user, django_capture_on_commit_callbacks)
    finally:
        if before is None:
            assigners.unregister_new_record_assigner("customers.account")
        else:
            assigners.register_new_record_assigner("customers.account", before)
    assert dict(Account.objects.values_list("name", "owner_id")) == {"云帆公司": rep.pk, "星辰公司": user.pk}


def test_accounts_into_an_account_pool_and_undo(user: Any, django_capture_on_commit_callbacks: Any) -> None:
    from kehu.imports.services import pool_choices
    from kehu.sales.models import Pool, PoolItem

    lead_pool = Pool.objects.create(name="线索池", kind="lead")
    pool = Pool.objects.create(name="华东公海", kind="account")
    assert pool_choices("customers.account") == [(pool.pk, "华东公海")]
    assert pool_choices("customers.contact") == []
    job = make_job(
        user,
        csv_bytes([["云帆公司"], ["星辰公司"]], ["客户名称"]),
        mapping={"客户名称": "name"},
        target="customers.account",
        owner_mode="pool",
        pool_id=pool.pk,
    )
    assert run(job, user, django_capture_on_commit_callbacks, import_dry_run_start).status == "succeeded"
    assert run(job, user, django_capture_on_commit_callbacks).status == "succeeded"
    assert job.result["created"] == 2
    assert dict(Account.objects.values_list("name", "owner_id")) == {"云帆公司": None, "星辰公司": None}
    items = PoolItem.objects.filter(account__name__in=["云帆公司", "星辰公司"])
    assert sorted(items.values_list("pool_id", "in_pool")) == [(pool.pk, True), (pool.pk, True)]
    assert not PoolItem.objects.filter(pool=lead_pool).exists()

    # undo knows the version the pool move left the accounts at, and removes them with their items
    undone = run(job, user, django_capture_on_commit_callbacks, import_undo_start)
    assert undone.status == "succeeded", undone.error
    assert not Account.objects.filter(name__in=["云帆公司", "星辰公司"]).exists()
    assert not PoolItem.objects.exists()


def test_contacts_are_refused_a_pool(user: Any, django_capture_on_commit_callbacks: Any) -> None:
    job = make_job(user, csv_bytes([["张三", "ACME", "", "", "", ""]]), owner_mode="pool", pool_id=1)
    core = run(job, user, django_capture_on_commit_callbacks, import_dry_run_start)
    assert core.status == "failed"
    assert "pool" in core.message


TAGGED_HEADERS = [*HEADERS, "标签", "家庭电话"]
TAGGED_MAPPING = {
    "姓名": "name",
    "公司": "account",
    "手机": "mobile",
    "邮箱": "email",
    "职位": "title",
    "外部ID": "external_id",
    "标签": "tags",
    "家庭电话": "phones.home",
}


def test_tags_and_further_phones_on_create_update_and_undo(
    user: Any, acme: Account, django_capture_on_commit_callbacks: Any
) -> None:
    from kehu.customers.services import contact_create
    from kehu.tags.models import Tag, TaggedItem
    from kehu.users.tests.factories import grant

    for role in user.roles.all():
        grant(role, "tags.tag", Action.VIEW, Action.ADD, scope=Scope.ALL)
    vip = Tag.objects.create(name="VIP")
    Tag.objects.create(name="停用", is_active=False)
    old = contact_create(by=user, data={"account": acme, "name": "老张", "mobile": "13800000001"})
    Contact.objects.filter(pk=old.pk).update(external_id="C-1")
    TaggedItem.objects.create(tag=vip, model="customers.contact", object_id=old.pk)
    content = csv_bytes(
        [
            # an update: a new tag and a further phone join the record's
            ["老张", "SF-ACC-1", "", "", "", "C-1", "vip; 展会2024", "010 6666 8888"],
            # a create: "'=SUM" is how our error files and exports guard a cell starting with "="
            ["新人", "SF-ACC-1", "", "", "'=SUM(A1)", "C-2", "展会2024", ""],
            ["坏人", "SF-ACC-1", "", "", "", "C-3", "停用", ""],
        ],
        headers=TAGGED_HEADERS,
    )
    job = make_job(user, content, mapping=TAGGED_MAPPING, mode="upsert", match_key="external_id")
    core = run(job, user, django_capture_on_commit_callbacks)
    assert core.status == "succeeded", core.error
    assert (job.result["created"], job.result["updated"], job.result["errors"]) == (1, 1, 1)
    fair = Tag.objects.get(name="展会2024")  # created by the import (the importer may add tags)

    def tags(pk: int) -> set[str]:
        return set(
            Tag.objects.filter(items__model="customers.contact", items__object_id=pk).values_list(
                "name", flat=True
            )
        )

    new = Contact.objects.get(external_id="C-2")
    assert new.title == "=SUM(A1)"
    assert tags(new.pk) == {"展会2024"} and tags(old.pk) == {"VIP", "展会2024"}
    assert sorted(ContactPhone.objects.filter(contact=old).values_list("number", "is_primary")) == [
        ("+861066668888", False),
        ("+8613800000001", True),
    ]
    change = ObjectChange.objects.get(request_id=job.audit_tag, object_id=old.pk)
    assert change.changes["tags"] == [["VIP"], ["VIP", "展会2024"]]
    assert change.changes["phones"] == [["+8613800000001"], ["+8613800000001", "+861066668888"]]
    created = ObjectChange.objects.get(request_id=job.audit_tag, object_id=new.pk)
    assert created.changes["tags"] == [None, ["展会2024"]]
    with open(job.error_file.path, encoding="utf-8-sig") as fh:
        assert "停用" in fh.read()

    undo = run(job, user, django_capture_on_commit_callbacks, import_undo_start)
    assert undo.status == "succeeded", undo.error
    assert tags(old.pk) == {"VIP"}
    assert not TaggedItem.objects.filter(object_id=new.pk, model="customers.contact").exists()
    assert list(ContactPhone.objects.filter(contact=old).values_list("number", flat=True)) == [
        "+8613800000001"
    ]
    old.refresh_from_db()
    assert old.version == 3  # created 1, import 2, undo 3
    assert Tag.objects.filter(pk=fair.pk).exists()  # a tag the import created stays (others may use it)


def test_tags_the_importer_may_not_create_are_row_errors(
    user: Any, acme: Account, django_capture_on_commit_callbacks: Any
) -> None:
    from kehu.tags.models import Tag

    content = csv_bytes([["新人", "SF-ACC-1", "", "", "", "C-9", "没有的标签", ""]], headers=TAGGED_HEADERS)
    job = make_job(user, content, mapping=TAGGED_MAPPING)
    dry = run(job, user, django_capture_on_commit_callbacks, import_dry_run_start)
    assert dry.status == "succeeded", dry.error
    assert (job.dry_run["create"], job.dry_run["errors"]) == (0, 1)
    assert not Tag.objects.exists()


def test_accounts_regions_by_name_pinyin_or_code(user: Any, django_capture_on_commit_callbacks: Any) -> None:
    """Files carry names (our own export writes 浙江省 / 杭州市, vendors write Zhejiang): they import
    as the codes the pickers use; a division outside its parent is an error on that field."""
    headers = ["客户名称", "国家", "省份", "城市", "区县"]
    mapping = {"客户名称": "name", "国家": "country", "省份": "province", "城市": "city", "区县": "district"}
    content = csv_bytes(
        [
            ["甲公司", "中国", "浙江省", "杭州市", "西湖区"],
            ["乙公司", "China", "Zhejiang", "Hangzhou", ""],
            ["丙公司", "", "330000", "330100", "330106"],
            ["丁公司", "日本", "", "", ""],
            ["戊公司", "", "北京", "", "海淀区 (Haidian)"],
            ["己公司", "中国", "浙江省", "杭州市", "海淀区"],
        ],
        headers,
    )
    job = make_job(user, content, mapping=mapping, target="customers.account")
    core = run(job, user, django_capture_on_commit_callbacks)
    assert core.status == "succeeded", core.error
    assert (job.result["created"], job.result["errors"]) == (5, 1)
    regions = {a.name: (a.country, a.province, a.city, a.district) for a in Account.objects.all()}
    assert regions == {
        "甲公司": ("CN", "330000", "330100", "330106"),
        "乙公司": ("CN", "330000", "330100", ""),
        "丙公司": ("CN", "330000", "330100", "330106"),
        "丁公司": ("JP", "", "", ""),
        "戊公司": ("CN", "110000", "", "110108"),
    }
    with open(job.error_file.path, encoding="utf-8-sig") as fh:
        text = fh.read()
    assert "己公司" in text and "Choose a district of the chosen city." in text


def test_completeness_of_imported_records_is_the_standards_score(
    user: Any, acme: Account, django_capture_on_commit_callbacks: Any
) -> None:
    """The writer scores new records from their columns; the score is the one the standards give."""
    from kehu.customfields.models import FieldRule
    from kehu.customfields.rules import completeness

    FieldRule.objects.create(model="customers.contact", field="title", weight=5)
    job = make_job(user, csv_bytes(ROWS))
    run(job, user, django_capture_on_commit_callbacks)
    contacts = list(Contact.objects.all())
    assert len(contacts) == 3
    scores = {c.name: c.completeness for c in contacts}
    assert scores == {c.name: completeness(model=Contact, obj=c) for c in contacts}
    assert scores["张伟"] > scores["李娜"]  # 张伟 has an e-mail and a title, 李娜 neither


def test_a_unique_standard_holds_within_the_file(user: Any, django_capture_on_commit_callbacks: Any) -> None:
    """Two rows of one file (one batch or two) with the value of a unique standard: the later
    row is an error, as the database check finds only committed batches."""
    from kehu.customfields.models import FieldRule

    FieldRule.objects.create(model="customers.account", field="website", unique=True)
    headers = ["客户名称", "网址"]
    mapping = {"客户名称": "name", "网址": "website"}
    rows = [
        ["甲公司", "https://a.example.com"],
        ["乙公司", "https://b.example.com"],
        ["丙公司", "https://A.example.com"],  # the same, case aside
        ["丁公司", "https://c.example.com"],
    ]
    job = make_job(user, csv_bytes(rows, headers), mapping=mapping, target="customers.account")
    with django_capture_on_commit_callbacks(execute=True):
        core = import_run_start(job=job, by=user)
    core.refresh_from_db()
    job.refresh_from_db()
    assert core.status == "succeeded", core.error
    assert (job.result["created"], job.result["errors"]) == (3, 1)
    assert sorted(Account.objects.values_list("name", flat=True)) == ["丁公司", "乙公司", "甲公司"]


@pytest.mark.django_db(transaction=True)
def test_big_imports_write_in_a_second_thread_on_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    """From THREAD_FROM_ROWS rows on PostgreSQL a writer thread commits batch n while batch n + 1 is
    prepared; the result is the serial one: every batch once, in order, with its records."""
    from django.db import connection

    from kehu.customers.tests.factories import AccountFactory
    from kehu.imports import running

    user = importer()
    AccountFactory(name="北京星辰科技有限公司", external_id="SF-ACC-1", owner=user)
    monkeypatch.setattr(running, "THREAD_FROM_ROWS", 10)
    rows = [
        [f"联系人{i}", "SF-ACC-1", f"1380000{i:04d}", f"c{i}@example.com", "", f"C-{i}"] for i in range(25)
    ]
    rows[7][2] = "12"  # an error row in the second batch
    rows[12][5] = "C-3"  # external id of an earlier batch's row
    job = make_job(user, csv_bytes(rows))
    ImportJob.objects.filter(pk=job.pk).update(row_estimate=len(rows))
    job.refresh_from_db()
    assert running.use_writer_thread(job) is (connection.vendor == "postgresql")
    core = job_create(kind="import", owner=user, params={"import_id": job.pk, "step": "import_run"})
    finished = import_run_execute(job_id=core.pk, batch_size=5)
    assert finished is not None and finished.status == "succeeded", finished and finished.error
    job.refresh_from_db()
    assert (job.result["created"], job.result["skipped"], job.result["errors"], job.result["batches"]) == (
        23,
        1,
        1,
        5,
    )
    assert list(
        ImportBatch.objects.filter(job=job).order_by("number").values_list("number", "first_row")
    ) == [
        (1, 2),
        (2, 7),
        (3, 12),
        (4, 17),
        (5, 22),
    ]
    assert Contact.objects.count() == 23
    assert ObjectChange.objects.filter(request_id=job.audit_tag, action="create").count() == 23
    # the search index, half of it built by a forked process on PostgreSQL
    from kehu.search.models import SearchEntry

    indexed = set(SearchEntry.objects.filter(model="customers.contact").values_list("object_id", flat=True))
    assert indexed == set(Contact.objects.values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("child_fails", [False, True], ids=["child-indexes", "child-fails"])
def test_the_search_phase_forks_half_and_redoes_a_failed_half(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, child_fails: bool
) -> None:
    """On PostgreSQL the forked process indexes its half (nothing is redone here when it succeeds:
    its entries are its own work); when it fails, this process indexes that half and says so."""
    import logging
    import os

    from django.db import connection

    from kehu.customers.tests.factories import AccountFactory, ContactFactory
    from kehu.imports import running
    from kehu.search.models import SearchEntry

    if connection.vendor != "postgresql":
        pytest.skip("the search phase forks on PostgreSQL only")
    user = importer()
    account = AccountFactory(name="北京星辰科技有限公司", owner=user)
    contacts: list[Any] = [ContactFactory(account=account, name=f"张{i}", owner=user) for i in range(6)]
    ids = [c.pk for c in contacts]
    SearchEntry.objects.filter(model="customers.contact").delete()
    parent, real = os.getpid(), running._reindex

    def reindex(label: str, chunk: Any) -> int:
        if child_fails and os.getpid() != parent:
            raise RuntimeError("the forked half fails")
        return real(label, chunk)

    monkeypatch.setattr(running, "_reindex", reindex)
    with caplog.at_level(logging.WARNING, logger="kehu.imports.running"):
        written = running._reindex_in_two("customers.contact", ids[:3], ids[3:])
    assert written == 6
    indexed = set(SearchEntry.objects.filter(model="customers.contact").values_list("object_id", flat=True))
    assert indexed == set(ids)
    assert ("forked process indexing 3 records failed" in caplog.text) is child_fails
