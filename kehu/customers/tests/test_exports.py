"""Account and contact exports: the list's scope, filters and sort; masked stays masked."""

from __future__ import annotations

import csv
import io

import pytest

from kehu.core import exports
from kehu.core.choices import FieldMode, JobStatus
from kehu.users.models import FieldPermission

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def run(user, exporter: str, params: dict, capture) -> list[list[str]]:
    with capture(execute=True):
        job = exports.export_start(user=user, exporter=exporter, params=params, fmt="csv")
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return list(csv.reader(io.StringIO(job.result_file.read().decode("utf-8-sig"))))


def test_account_export_follows_scope_filters_sort_and_masking(
    sales, django_capture_on_commit_callbacks
) -> None:
    FieldPermission.objects.create(
        role=sales.role_manager, model="customers.account", field="phone", mode=FieldMode.MASKED
    )
    FieldPermission.objects.create(
        role=sales.role_manager, model="customers.account", field="notes", mode=FieldMode.HIDDEN
    )
    AccountFactory.create(owner=sales.rep1, name="乙公司", phone="13812345678", kind="company", notes="内部")
    AccountFactory.create(owner=sales.rep2, name="甲公司", phone="13900001111", kind="company")
    AccountFactory.create(owner=sales.rep2, name="个人", kind="person")
    AccountFactory.create(owner=sales.rep3, name="华东公司", kind="company")  # outside manager1's scope
    rows = run(
        sales.manager1,
        "customers.account",
        {"kind": "company", "sort": "name"},
        django_capture_on_commit_callbacks,
    )
    header = rows[0]
    assert "Notes" not in header
    name, phone = header.index("Name"), header.index("Phone")
    assert [(r[name], r[phone]) for r in rows[1:]] == [
        ("乙公司", "'+86 138****5678"),
        ("甲公司", "'+86 139****1111"),
    ]
    # (a leading "+" is neutralised against formula injection, the masked value stays masked)


def test_contact_export_needs_the_export_permission(company, django_capture_on_commit_callbacks) -> None:
    from kehu.core.errors import PermissionDeniedError
    from kehu.users.tests.factories import grant

    grant(company.role_rep, "customers.contact", "view", scope="own")
    ContactFactory.create(owner=company.rep1)
    with pytest.raises(PermissionDeniedError):
        exports.export_start(user=company.rep1, exporter="customers.contact", params={}, fmt="csv")
    grant(company.role_rep, "customers.contact", "export", scope="own")
    rep1 = type(company.rep1).objects.get(pk=company.rep1.pk)  # grants are cached per user object
    rows = run(rep1, "customers.contact", {}, django_capture_on_commit_callbacks)
    assert len(rows) == 2


def test_the_list_shows_the_export_button_only_with_the_permission(sales, client) -> None:
    client.force_login(sales.rep1)
    assert 'data-exporter="customers.account"' in client.get("/customers/accounts/").content.decode()
    client.force_login(sales.nobody)
    assert client.get("/customers/accounts/").status_code == 403
