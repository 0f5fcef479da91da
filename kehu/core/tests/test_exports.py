"""Exports end to end: a small exporter over users.User, both formats, permissions, masking."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from kehu.core import exports
from kehu.core.choices import JobStatus, Scope
from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.core.exports import Column, Exporter
from kehu.core.models import Job
from kehu.users.models import FieldPermission, User
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db


def _columns(user: Any) -> list[Column]:
    return [
        Column("username", "Username"),
        Column("email", "E-mail", mask_kind="email"),
        Column("phone", "Phone", mask_kind="phone"),
        Column("department__name", "Department"),
        Column("title", "Job title"),
        Column("is_active", "Active"),
        Column("date_joined", "Joined"),
        Column("score", "Score", value=lambda u: Decimal("-1.50") if u.username == "rep1" else 7),
    ]


def _queryset(user: Any, params: dict[str, Any]) -> Any:
    qs = User.objects.restrict(user, "export").select_related("department").order_by("username")
    if params.get("q"):
        qs = qs.filter(username__icontains=params["q"])
    return qs


@pytest.fixture
def exporter() -> Any:
    exp = Exporter(name="test.users", model=User, title="Users", columns=_columns, queryset=_queryset)
    exports.register_exporter(exp)
    yield exp
    exports._exporters.pop("test.users", None)


@pytest.fixture
def hook_calls() -> Any:
    calls: list[tuple[int, str, str, int]] = []

    def hook(job: Job, user: Any, name: str, rows: int) -> None:
        calls.append((job.pk, user.username, name, rows))

    exports.export_hooks.append(hook)
    yield calls
    exports.export_hooks.remove(hook)


def run_export(user: Any, fmt: str, params: dict[str, Any] | None = None, capture: Any = None) -> Job:
    with capture(execute=True):
        job = exports.export_start(user=user, exporter="test.users", params=params or {}, fmt=fmt)
    job.refresh_from_db()
    return job


def read_csv(job: Job) -> list[list[str]]:
    raw = job.result_file.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens UTF-8 (Chinese) correctly
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def read_xlsx(job: Job) -> list[list[Any]]:
    wb = openpyxl.load_workbook(io.BytesIO(job.result_file.read()))
    return [list(row) for row in wb.active.iter_rows(values_only=True)]


@pytest.fixture
def people(company) -> Any:
    c = company
    User.objects.filter(pk=c.rep1.pk).update(
        phone="13812345678", title='=HYPERLINK("http://evil","x")', email="rep1@example.com"
    )
    User.objects.filter(pk=c.rep2.pk).update(
        phone="+86 139 0000 1111", title="@SUM(A1)", email="rep2@example.com"
    )
    User.objects.filter(pk=c.manager1.pk).update(title="-2+3", phone="")
    User.objects.filter(pk=c.nobody.pk).update(title="华北区 销售 ✓")
    joined = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC)
    User.objects.update(date_joined=joined)
    return c


def test_csv_export_end_to_end(people, exporter, hook_calls, django_capture_on_commit_callbacks) -> None:
    c = people
    grant(c.role_manager, "users.user", "export", scope=Scope.DEPARTMENT)
    job = run_export(c.manager1, "csv", capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.kind == "export"
    assert job.owner == c.manager1
    assert job.title == "Export: Users"
    assert job.params == {"exporter": "test.users", "format": "csv", "filters": {}}
    assert job.result["rows"] == 4
    assert job.result["filename"].startswith("Users-") and job.result["filename"].endswith(".csv")
    assert (job.progress_done, job.progress_total) == (4, 4)
    assert job.message == "4 rows exported."
    rows = read_csv(job)
    assert rows[0] == ["Username", "E-mail", "Phone", "Department", "Job title", "Active", "Joined", "Score"]
    # manager1 sees 华北区 (department scope): rep1, rep2, manager1, nobody; dates in Asia/Shanghai.
    assert rows[1:] == [
        ["manager1", "manager1@example.com", "", "华北区", "'-2+3", "Yes", "2026-03-01 09:30:00", "7"],
        ["nobody", "nobody@example.com", "", "华北区", "华北区 销售 ✓", "Yes", "2026-03-01 09:30:00", "7"],
        [
            "rep1",
            "rep1@example.com",
            "13812345678",
            "华北区",
            '\'=HYPERLINK("http://evil","x")',
            "Yes",
            "2026-03-01 09:30:00",
            "-1.50",
        ],
        [
            "rep2",
            "rep2@example.com",
            "'+86 139 0000 1111",
            "华北区",
            "'@SUM(A1)",
            "Yes",
            "2026-03-01 09:30:00",
            "7",
        ],
    ]
    assert hook_calls == [(job.pk, "manager1", "test.users", 4)]


def test_xlsx_export_reads_back_with_openpyxl(
    people, exporter, hook_calls, django_capture_on_commit_callbacks
) -> None:
    c = people
    grant(c.role_rep, "users.user", "export", scope=Scope.OWN)
    job = run_export(c.rep1, "xlsx", capture=django_capture_on_commit_callbacks)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result_file.name.endswith(".xlsx")
    rows = read_xlsx(job)
    assert rows == [
        ["Username", "E-mail", "Phone", "Department", "Job title", "Active", "Joined", "Score"],
        [
            "rep1",
            "rep1@example.com",
            "13812345678",
            "华北区",
            '\'=HYPERLINK("http://evil","x")',  # text, not a formula
            "Yes",
            dt.datetime(2026, 3, 1, 9, 30),
            -1.5,  # a real negative number stays a number
        ],
    ]
    wb = openpyxl.load_workbook(io.BytesIO(job.result_file.open("rb").read()))
    assert wb.active.title == "Users"
    assert wb.active["E2"].data_type == "s"
    assert hook_calls == [(job.pk, "rep1", "test.users", 1)]


def test_filters_from_the_list_querystring_are_applied(
    people, exporter, django_capture_on_commit_callbacks
) -> None:
    from django.http import QueryDict

    c = people
    grant(c.role_all, "users.user", "export", scope=Scope.ALL)
    params = QueryDict("q=rep&page=3&cursor=abc")
    job = run_export(c.viewer_all, "csv", params, capture=django_capture_on_commit_callbacks)
    assert job.params["filters"] == {"q": "rep"}
    assert [r[0] for r in read_csv(job)[1:]] == ["rep1", "rep2", "rep3"]


def test_masked_and_hidden_columns_follow_field_permissions(
    people, exporter, django_capture_on_commit_callbacks
) -> None:
    c = people
    grant(c.role_manager, "users.user", "export", scope=Scope.DEPARTMENT)
    FieldPermission.objects.create(role=c.role_manager, model="users.user", field="phone", mode="masked")
    FieldPermission.objects.create(role=c.role_manager, model="users.user", field="email", mode="masked")
    FieldPermission.objects.create(role=c.role_manager, model="users.user", field="title", mode="hidden")
    FieldPermission.objects.create(role=c.role_manager, model="users.user", field="department", mode="hidden")
    job = run_export(c.manager1, "xlsx", {"q": "rep1"}, capture=django_capture_on_commit_callbacks)
    rows = read_xlsx(job)
    assert rows == [
        ["Username", "E-mail", "Phone", "Active", "Joined", "Score"],
        ["rep1", "r***@example.com", "138****5678", "Yes", dt.datetime(2026, 3, 1, 9, 30), -1.5],
    ]


def test_read_only_fields_are_exported_in_full(people, exporter, django_capture_on_commit_callbacks) -> None:
    c = people
    grant(c.role_rep, "users.user", "export", scope=Scope.OWN)
    FieldPermission.objects.create(role=c.role_rep, model="users.user", field="phone", mode="read_only")
    rows = read_csv(run_export(c.rep1, "csv", capture=django_capture_on_commit_callbacks))
    assert rows[1][2] == "13812345678"


def test_headers_and_values_in_the_users_language(
    people, exporter, django_capture_on_commit_callbacks
) -> None:
    from django.utils.translation import gettext_lazy

    c = people
    grant(c.role_rep, "users.user", "export", scope=Scope.OWN)
    User.objects.filter(pk=c.rep1.pk).update(language="zh-hans", time_zone="Europe/Berlin")
    c.rep1.refresh_from_db()

    def columns(user: Any) -> list[Column]:
        return [
            Column("username", gettext_lazy("Owner")),
            Column("is_active", gettext_lazy("Status")),
            Column("date_joined", "Joined"),
        ]

    exports.register_exporter(
        Exporter(name="test.users.i18n", model=User, title="U", columns=columns, queryset=_queryset)
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = exports.export_start(user=c.rep1, exporter="test.users.i18n", params={}, fmt="csv")
    finally:
        exports._exporters.pop("test.users.i18n")
    job.refresh_from_db()
    rows = read_csv(job)
    assert rows[0] == ["负责人", "状态", "Joined"]
    assert rows[1] == ["rep1", "是", "2026-03-01 02:30:00"]  # Europe/Berlin
    assert job.message == "已导出 1 行。"


def test_export_without_permission_is_refused_and_creates_nothing(people, exporter) -> None:
    c = people
    grant(c.role_rep, "users.user", "view", scope=Scope.ALL)  # view is not export
    with pytest.raises(PermissionDeniedError):
        exports.export_start(user=c.rep1, exporter="test.users", params={}, fmt="csv")
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDeniedError):
        exports.export_start(user=AnonymousUser(), exporter="test.users", params={}, fmt="csv")
    assert Job.objects.count() == 0


def test_unknown_exporter_and_format_are_refused(people, exporter) -> None:
    c = people
    grant(c.role_rep, "users.user", "export", scope=Scope.OWN)
    with pytest.raises(KeyError):
        exports.get_exporter("nope")
    with pytest.raises(DomainError) as err:
        exports.export_start(user=c.rep1, exporter="nope", params={}, fmt="csv")
    assert err.value.code == "unknown_exporter"
    with pytest.raises(DomainError) as err:
        exports.export_start(user=c.rep1, exporter="test.users", params={}, fmt="pdf")
    assert err.value.code == "invalid_format"
    assert Job.objects.count() == 0


def test_permission_lost_before_the_task_runs_fails_the_job(people, exporter, hook_calls) -> None:
    from kehu.users.models import RolePermission

    c = people
    grant(c.role_rep, "users.user", "export", scope=Scope.OWN)
    job = exports.export_start(user=c.rep1, exporter="test.users", params={}, fmt="csv")  # task not yet run
    RolePermission.objects.filter(role=c.role_rep).delete()
    exports.export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message == "You may no longer export these records."
    assert not job.result_file
    assert hook_calls == []


def test_progress_is_reported_while_writing(
    people, exporter, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    c = people
    grant(c.role_all, "users.user", "export", scope=Scope.ALL)
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 2)
    seen: list[tuple[int, int | None, str]] = []
    original = exports.job_run

    def spy(job_id: int, work: Any, **kwargs: Any) -> Any:
        def wrapped(job: Job, progress: Any) -> Any:
            def recording(done: int, total: int | None = None, message: str = "") -> None:
                progress(done, total=total, message=message)
                row = Job.objects.get(pk=job_id)
                seen.append((row.progress_done, row.progress_total, row.message))

            return work(job, recording)

        return original(job_id, wrapped, **kwargs)

    monkeypatch.setattr(exports, "job_run", spy)
    run_export(c.viewer_all, "csv", capture=django_capture_on_commit_callbacks)
    total = User.objects.count()
    assert seen[0] == (0, total, f"Exporting {total} rows…")
    assert [s[0] for s in seen[1:]] == list(range(2, total + 1, 2))
    assert seen[1][2] == f"Exported 2 of {total} rows"


def test_cancelled_export_stops_and_keeps_no_file(people, exporter, monkeypatch, hook_calls) -> None:
    from kehu.core import services

    c = people
    grant(c.role_all, "users.user", "export", scope=Scope.ALL)
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 1)
    job = exports.export_start(user=c.viewer_all, exporter="test.users", params={}, fmt="xlsx")

    def columns(user: Any) -> list[Column]:
        def cancel_on_third(u: Any) -> str:
            if u.username == "manager1":
                services.job_cancel(job=job, by=c.viewer_all)
            return u.username

        return [Column("username", "Username", value=cancel_on_third)]

    monkeypatch.setattr(exporter, "columns", columns)
    exports.export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert not job.result_file
    assert hook_calls == []


def test_export_task_is_idempotent(people, exporter, hook_calls, django_capture_on_commit_callbacks) -> None:
    from kehu.core.tasks import export_run

    c = people
    grant(c.role_rep, "users.user", "export", scope=Scope.OWN)
    job = run_export(c.rep1, "csv", capture=django_capture_on_commit_callbacks)
    name = job.result_file.name
    export_run.delay(job.pk)  # a redelivered message
    job.refresh_from_db()
    assert job.result_file.name == name
    assert len(hook_calls) == 1


def test_values_are_made_plain(people) -> None:
    tz = dt.UTC
    assert exports._plain(None, tz) is None
    assert exports._plain(True, tz) == "Yes"
    assert exports._plain([1, "a"], tz) == "1, a"
    assert exports._plain({"k": "值"}, tz) == '{"k": "值"}'
    assert exports._plain(
        timezone.make_aware(dt.datetime(2026, 1, 2, 3, 4, 5, 6), dt.UTC), tz
    ) == dt.datetime(2026, 1, 2, 3, 4, 5)
    assert exports._resolve(people.rep1, "department__parent__name") == "销售部"
    assert exports._resolve(people.hq, "parent__name") is None


# --- formula neutralisation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1:A2)", "'+SUM(A1:A2)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.5", "-12.5"),
        ("+8613800138000", "+8613800138000"),
        ("-", "'-"),
        ("a=1", "a=1"),
        (-5, -5),
        (Decimal("-1.5"), Decimal("-1.5")),
        (None, None),
    ],
)
def test_neutralise_examples(value: Any, expected: Any) -> None:
    assert exports.neutralise(value) == expected


@given(st.text())
def test_neutralised_text_never_starts_a_formula(text: str) -> None:
    out = exports.neutralise(text)
    if out != text:
        assert out == "'" + text
    else:
        assert not text.startswith(("=", "+", "-", "@", "\t", "\r")) or exports._PLAIN_NUMBER.fullmatch(text)


@given(
    st.one_of(st.integers(), st.decimals(allow_nan=False, allow_infinity=False), st.floats(allow_nan=False))
)
def test_numbers_are_never_changed(number: Any) -> None:
    assert exports.neutralise(number) is number


def test_streamed_xlsx_writer_values_read_back(tmp_path) -> None:
    path = tmp_path / "out.xlsx"
    rows: list[list[Any]] = [
        [
            "张三 & <Co>",
            3,
            decimal.Decimal("-1.50"),
            2.25,
            dt.date(2026, 3, 1),
            dt.datetime(2026, 3, 1, 9, 30, 15),
        ],
        [None, "", 'a "quoted"\x01 text', None, None, dt.time(8, 15)],
        ["=1+1", "x" * 40000],
    ]
    ticks: list[int] = []
    count = exports.write_xlsx(
        path, "Kontakte: a/b*c", ["名称", "N", "D", "F", "Day", "At"], rows, ticks.append
    )
    assert count == 3 and ticks == [1, 2, 3]
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert ws.title == "Kontakte  a b c"
    assert ws.freeze_panes == "A2" and ws["A1"].font.b
    got = [list(r) for r in ws.iter_rows(values_only=True)]
    assert got[0] == ["名称", "N", "D", "F", "Day", "At"]
    assert got[1] == [
        "张三 & <Co>",
        3,
        -1.5,
        2.25,
        dt.datetime(2026, 3, 1),
        dt.datetime(2026, 3, 1, 9, 30, 15),
    ]
    assert ws["E2"].number_format == "yyyy-mm-dd" and ws["F2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert got[2][:3] == [None, None, 'a "quoted" text'] and got[2][5] == dt.time(8, 15)
    assert ws["A4"].data_type == "s" and got[3][0] == "=1+1"  # text, never a formula
    assert len(got[3][1]) == 32767  # Excel's limit per cell
