"""The operation log's exporter on the core export service, and the export audit hook."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.http import QueryDict

from kehu.audit.models import ObjectChange
from kehu.core import exports
from kehu.core.choices import JobStatus
from kehu.core.context import acting_as
from kehu.users.models import FieldPermission, User
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db


def run_export(user: Any, query: str, capture: Any, fmt: str = "csv") -> Any:
    with capture(execute=True):
        job = exports.export_start(user=user, exporter="audit.objectchange", params=QueryDict(query), fmt=fmt)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def read_csv(job: Any) -> list[list[str]]:
    with job.result_file.open("rb") as fh:
        return list(csv.reader(io.StringIO(fh.read().decode("utf-8-sig"))))


def test_export_writes_the_filtered_log_and_is_itself_audited(
    company: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with acting_as(company.manager1.pk, request_id="req-export-src"):
        rep1 = User.objects.get(pk=company.rep1.pk)
        rep1.title = "=HYPERLINK(1)"
        rep1.save()
    job = run_export(
        company.admin, "request_id=req-export-src&cursor=abc", django_capture_on_commit_callbacks
    )
    rows = read_csv(job)
    assert rows[0] == [
        "Time",
        "User",
        "Action",
        "Model",
        "Object ID",
        "Object",
        "Changes",
        "Source",
        "IP address",
        "Request ID",
        "Bulk",
    ]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["User"], row["Action"], row["Model"], row["Object"]) == (
        "manager1",
        "Updated",
        "User",
        "rep1",
    )
    assert row["Changes"] == "Job title: — → =HYPERLINK(1)"  # inside the text, not at its start
    assert row["Request ID"] == "req-export-src"
    audit = ObjectChange.objects.get(action="export")
    assert (audit.model, audit.object_id, audit.user_id, audit.source) == (
        "audit.objectchange",
        None,
        company.admin.pk,
        "task",
    )
    assert audit.changes == {
        "rows": 1,
        "format": "csv",
        "params": {"request_id": "req-export-src"},
        "exporter": "audit.objectchange",
        "job": job.pk,
    }


def test_export_masks_and_scopes_like_the_page(company: Any, django_capture_on_commit_callbacks: Any) -> None:
    grant(company.role_rep, "audit.objectchange", "view", "export", scope="own")
    FieldPermission.objects.create(role=company.role_rep, model="users.user", field="phone", mode="masked")
    with acting_as(company.rep1.pk, request_id="req-export-mine"):
        rep1 = User.objects.get(pk=company.rep1.pk)
        rep1.phone = "13812345678"
        rep1.save()
    with acting_as(company.rep2.pk, request_id="req-export-theirs"):
        rep2 = User.objects.get(pk=company.rep2.pk)
        rep2.title = "经理"
        rep2.save()
    rows = read_csv(run_export(company.rep1, "", django_capture_on_commit_callbacks))
    assert len(rows) == 2
    assert rows[1][6] == "Phone: — → 138****5678"
    assert rows[1][9] == "req-export-mine"


def test_export_needs_the_export_permission(company: Any) -> None:
    from kehu.core.errors import PermissionDeniedError

    grant(company.role_rep, "audit.objectchange", "view", scope="all")
    with pytest.raises(PermissionDeniedError):
        exports.export_start(
            user=company.rep1, exporter="audit.objectchange", params=QueryDict(""), fmt="csv"
        )


def test_other_exports_are_audited_on_their_own_model(
    company: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        exports._exporters,
        "test.users",
        exports.Exporter(
            name="test.users",
            model=User,
            title="Users",
            columns=lambda user: [exports.Column("username", "Username")],
            queryset=lambda user, params: User.objects.restrict(user, "export").order_by("pk"),
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = exports.export_start(
            user=company.admin, exporter="test.users", params=QueryDict("q=x"), fmt="xlsx"
        )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    audit = ObjectChange.objects.get(action="export")
    assert (audit.model, audit.object_repr) == ("users.user", "users")
    assert audit.changes["rows"] == User.objects.count()
    assert audit.changes["format"] == "xlsx"
    assert audit.changes["params"] == {"q": "x"}
