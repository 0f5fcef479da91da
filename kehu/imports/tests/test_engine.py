"""The import engine: rows prepared (converted, checked with the shared rules, matched) and the
dry run end to end (counts, first errors, error file); nothing but the import changes."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.base import ContentFile

from kehu.core.choices import Action, Scope
from kehu.customers.models import Account, Contact
from kehu.imports.choices import ImportStatus
from kehu.imports.engine import ImportRunError, Preparer
from kehu.imports.models import ImportJob
from kehu.imports.parsing import iter_rows, sniff
from kehu.imports.running import import_dry_run_start
from kehu.users.tests.factories import UserFactory, grant

HEADERS = ["姓名", "公司", "手机", "邮箱", "职位", "外部ID"]
MAPPING = {
    "姓名": "name",
    "公司": "account",
    "手机": "mobile",
    "邮箱": "email",
    "职位": "title",
    "外部ID": "external_id",
}


def importer(company: Any = None) -> Any:
    """A user who may import (and add) accounts and contacts."""
    from kehu.users.tests.factories import RoleFactory

    role: Any = RoleFactory(name="Importer", code="importer")
    for label in ("customers.account", "customers.contact"):
        grant(
            role, label, Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.IMPORT, scope=Scope.ALL
        )
    user = UserFactory(username="importer")
    user.roles.add(role)
    return user


def csv_bytes(rows: list[list[str]], headers: list[str] = HEADERS) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def make_job(
    user: Any,
    content: bytes,
    *,
    mapping: dict[str, str] | None = None,
    target: str = "customers.contact",
    **extra: Any,
) -> ImportJob:
    """An uploaded and mapped import of `content` (as the wizard leaves it)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.csv"
        path.write_bytes(content)
        sniffed = sniff(path, filename="upload.csv")
    job = ImportJob(
        owner=user,
        department_id=getattr(user, "department_id", None),
        target=target,
        original_name="upload.csv",
        options=sniffed.options,
        headers=sniffed.headers,
        row_estimate=sniffed.row_estimate,
        mapping=mapping or MAPPING,
        status=ImportStatus.MAPPED,
        **extra,
    )
    job.file.save("upload.csv", ContentFile(content), save=False)
    job.save()
    return job


def prepare_all(job: ImportJob, user: Any) -> list[Any]:
    from pathlib import Path

    sniffed = sniff(Path(job.file.path), filename=job.original_name, **job.options)
    return Preparer(job, by=user).prepare(list(iter_rows(Path(job.file.path), sniffed)))


@pytest.fixture
def user(db: Any) -> Any:
    return importer()


@pytest.fixture
def acme(user: Any) -> Account:
    from kehu.customers.tests.factories import AccountFactory

    account: Account = AccountFactory(name="北京星辰科技有限公司", external_id="SF-ACC-1", owner=user)  # type: ignore[assignment]
    return account


def test_rows_are_converted_checked_and_matched(user: Any, acme: Account) -> None:
    from kehu.customers.services import contact_create

    existing = contact_create(by=user, data={"account": acme, "name": "老客户", "email": "old@example.com"})
    content = csv_bytes(
        [
            ["张伟", "北京星辰科技有限公司", "138 1234 5678", " Zhang.Wei@Example.com ", "经理", "C-1"],
            ["李娜", "SF-ACC-1", "", "not-an-email", "", ""],
            ["王芳", "不存在的公司", "13900000000", "", "", ""],
            ["张伟二", "北京星辰科技有限公司", "", "zhang.wei@example.com", "", ""],
            ["老客户", "北京星辰科技有限公司", "", "OLD@example.com", "", ""],
            ["", "北京星辰科技有限公司", "13700000000", "", "", ""],
        ]
    )
    job = make_job(user, content)
    rows = prepare_all(job, user)
    assert [(r.line, r.action, r.reason) for r in rows] == [
        (2, "create", ""),
        (3, "error", "invalid_value"),
        (4, "error", "unknown_account"),
        (5, "skip", "duplicate_in_file"),
        (6, "skip", "matches_existing"),
        (7, "error", "invalid_value"),
    ]
    first = rows[0]
    assert first.values["mobile"] == "+8613812345678"
    assert first.values["phone"] == "+8613812345678"  # the only number is the primary one
    assert first.values["email"] == "zhang.wei@example.com"
    assert first.values["account_id"] == acme.pk
    assert first.values["owner_id"] == user.pk
    assert first.phones == [("mobile", "+8613812345678", True)]
    assert first.keys == {("phone", "+8613812345678"), ("email", "zhang.wei@example.com")}
    assert "E-mail" in rows[1].message or "e-mail" in rows[1].message.lower()
    assert "不存在的公司" in rows[2].message
    assert "row 2" in rows[3].message
    assert f"#{existing.pk}" in rows[4].message
    assert "required" in rows[5].message


def test_upsert_on_external_id_updates_and_creates(user: Any, acme: Account) -> None:
    from kehu.customers.services import contact_create

    old = contact_create(by=user, data={"account": acme, "name": "甲"})
    Contact.objects.filter(pk=old.pk).update(external_id="C-9")
    job = make_job(
        user,
        csv_bytes([["甲二", "SF-ACC-1", "", "", "总监", "C-9"], ["乙", "SF-ACC-1", "", "", "", "C-10"]]),
        mode="upsert",
        match_key="external_id",
    )
    rows = prepare_all(job, user)
    assert [(r.action, r.existing_id) for r in rows] == [("update", old.pk), ("create", None)]
    job.mode, job.match_key = "update", "external_id"
    assert [r.action for r in prepare_all(job, user)] == ["update", "skip"]


def test_a_bad_set_up_is_refused_with_a_code(user: Any) -> None:
    job = make_job(user, csv_bytes([["a", "b", "", "", "", ""]]), mode="update", match_key="")
    with pytest.raises(ImportRunError) as caught:
        Preparer(job, by=user)
    assert caught.value.code == ImportRunError.BAD_MATCH_KEY
    job = make_job(user, csv_bytes([["a", "b", "", "", "", ""]]), owner_mode="pool")
    with pytest.raises(ImportRunError) as caught:
        Preparer(job, by=user)
    assert caught.value.code == ImportRunError.POOL_UNSUPPORTED


def test_dry_run_end_to_end(user: Any, acme: Account, django_capture_on_commit_callbacks: Any) -> None:
    content = csv_bytes(
        [
            ["张伟", "北京星辰科技有限公司", "13812345678", "a@example.com", "", ""],
            ["李娜", "北京星辰科技有限公司", "12", "", "", ""],
            ["王芳", "北京星辰科技有限公司", "", "a@example.com", "", ""],
        ]
    )
    job = make_job(user, content)
    with django_capture_on_commit_callbacks(execute=True):
        core = import_dry_run_start(job=job, by=user)
    core.refresh_from_db()
    job.refresh_from_db()
    assert core.status == "succeeded", core.error
    assert job.status == ImportStatus.CHECKED
    assert {k: job.dry_run[k] for k in ("rows", "create", "update", "skip", "errors")} == {
        "rows": 3,
        "create": 1,
        "update": 0,
        "skip": 1,
        "errors": 1,
    }
    assert job.dry_run["reasons"] == {"invalid_value": 1, "duplicate_in_file": 1}
    assert [e["row"] for e in job.dry_run["first_errors"]] == [3]
    assert Contact.objects.count() == 0
    text = job.error_file.read().decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["Error", *HEADERS]
    assert lines[1][1:] == ["李娜", "北京星辰科技有限公司", "12", "", "", ""]
    assert "12" in lines[1][0]


def test_dry_run_needs_the_import_permission(user: Any) -> None:
    other = UserFactory(username="noimport")
    job = make_job(user, csv_bytes([["a", "b", "", "", "", ""]]))
    with pytest.raises(ImportRunError) as caught:
        import_dry_run_start(job=job, by=other)
    assert caught.value.code == ImportRunError.NO_PERMISSION
    job.refresh_from_db()
    assert job.status == ImportStatus.MAPPED


def test_an_external_id_twice_in_the_file_is_an_error_not_a_failed_batch(user: Any, acme: Account) -> None:
    content = csv_bytes(
        [
            ["甲", "SF-ACC-1", "", "a@example.com", "", "X-1"],
            ["乙", "SF-ACC-1", "", "b@example.com", "", "X-1"],
        ]
    )
    job = make_job(user, content, mode="upsert", match_key="email")
    rows = prepare_all(job, user)
    assert [(r.action, r.reason) for r in rows] == [("create", ""), ("error", "external_id_repeated")]
    assert "Row 2" in rows[1].message
