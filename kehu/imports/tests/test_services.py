"""The wizard's services: a file becomes an import (CSV, GBK CSV, XLSX), is read again with the
user's overrides, and gets a checked mapping; presets are saved, applied and deleted."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.core.errors import PermissionDeniedError
from kehu.imports import selectors, services
from kehu.imports.choices import ImportStatus, OwnerMode
from kehu.imports.errors import ImportFileError
from kehu.imports.models import ImportJob, ImportPreset
from kehu.users.tests.factories import grant

CONTACT = "customers.contact"
CSV = (
    "姓名,手机,邮箱,公司名称,备注\n"
    "张三,13800138000,zhang@example.com,北京科技有限公司,VIP\n"
    "李四,13900139000,li@example.com,上海贸易有限公司,\n"
)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def importer(company: Any) -> Any:
    """rep1 with every customer action, import included (own scope)."""
    for model in ("customers.account", "customers.contact"):
        grant(company.role_rep, model, "view", "add", "change", "import", scope="own")
    return company.rep1


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def xlsx_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    wb = openpyxl.Workbook()
    first = True
    for title, rows in sheets.items():
        ws = wb.active if first else wb.create_sheet(title)
        assert ws is not None
        ws.title = title
        first = False
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_create_from_utf8_csv_detects_and_maps(importer: Any) -> None:
    job = services.import_create(
        by=importer, target=CONTACT, upload=upload("c.csv", CSV.encode()), filename="c.csv"
    )
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED
    assert (job.target, job.original_name, job.owner_id, job.size) == (
        CONTACT,
        "c.csv",
        importer.pk,
        len(CSV.encode()),
    )
    assert job.options == {"header_row": 1, "encoding": "utf-8", "delimiter": ","}
    assert job.headers == ["姓名", "手机", "邮箱", "公司名称", "备注"]
    assert job.mapping == {
        "姓名": "name",
        "手机": "mobile",
        "邮箱": "email",
        "公司名称": "account",
        "备注": "notes",
    }
    assert job.file.read() == CSV.encode()
    assert len(job.sha256) == 64


def test_create_from_gbk_csv(importer: Any) -> None:
    data = CSV.replace(",", ";").encode("gbk")
    job = services.import_create(
        by=importer, target=CONTACT, upload=upload("gbk.csv", data), filename="gbk.csv"
    )
    assert job.options == {"header_row": 1, "encoding": "gb18030", "delimiter": ";"}
    assert job.headers[0] == "姓名"
    assert job.mapping["手机"] == "mobile"
    preview = selectors.import_preview(job=job)
    assert [r["values"]["name"] for r in preview] == ["张三", "李四"]
    assert preview[0]["values"]["mobile"] == "+8613800138000"


def test_create_from_xlsx_and_reread_another_sheet(importer: Any) -> None:
    data = xlsx_bytes(
        {
            "Contacts": [["Full Name", "Email", "Company"], ["Ann Lee", "ann@example.com", "Acme"]],
            "Other": [["标题行"], ["姓名", "手机", "公司"], ["王五", "13700137000", "某公司"]],
        }
    )
    job = services.import_create(
        by=importer, target=CONTACT, upload=upload("c.xlsx", data), filename="c.xlsx"
    )
    assert job.options == {"header_row": 1, "sheet": "Contacts"}
    assert job.mapping == {"Full Name": "name", "Email": "email", "Company": "account"}
    job = services.import_reread(job=job, by=importer, sheet="Other")
    job.refresh_from_db()
    assert job.options == {"header_row": 2, "sheet": "Other"}
    assert job.headers == ["姓名", "手机", "公司"]
    assert job.mapping == {"姓名": "name", "手机": "mobile", "公司": "account"}


def test_reread_with_overrides(importer: Any) -> None:
    data = b"Report\n\nname;mobile;company\nZhang;13800138000;Acme\n"
    job = services.import_create(by=importer, target=CONTACT, upload=upload("r.csv", data), filename="r.csv")
    assert job.options["header_row"] == 3
    job = services.import_reread(job=job, by=importer, header_row=1, delimiter=",")
    assert job.options == {"header_row": 1, "encoding": "utf-8", "delimiter": ","}
    assert job.headers == ["Report"]
    job = services.import_reread(job=job, by=importer, header_row=3, delimiter=";", encoding="cp1252")
    assert job.options == {"header_row": 3, "encoding": "cp1252", "delimiter": ";"}
    assert job.headers == ["name", "mobile", "company"]
    with pytest.raises(ImportFileError) as exc:
        services.import_reread(job=job, by=importer, header_row=99)
    assert exc.value.code == ImportFileError.HEADER_ROW_OUT_OF_RANGE
    assert list(exc.value.fields) == ["header_row"]
    with pytest.raises(ImportFileError) as exc:
        services.import_reread(job=job, by=importer, delimiter="ab")
    assert exc.value.fields and "delimiter" in exc.value.fields
    job.refresh_from_db()
    assert job.options["header_row"] == 3  # refused overrides change nothing


def test_unreadable_file_keeps_nothing(importer: Any, tmp_path: Path) -> None:
    for name, data, code in (
        ("e.csv", b"", ImportFileError.EMPTY_FILE),
        ("p.csv", b"%PDF-1.4 binary", ImportFileError.BINARY_FILE),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ImportFileError.OLD_EXCEL),
    ):
        with pytest.raises(ImportFileError) as exc:
            services.import_create(by=importer, target=CONTACT, upload=upload(name, data), filename=name)
        assert exc.value.code == code
        assert exc.value.fields["file"] == [str(exc.value.message)]
    assert ImportJob.objects.count() == 0
    assert not list((tmp_path / "media").rglob("*.*"))


def test_create_needs_the_import_permission(company: Any) -> None:
    grant(company.role_rep, CONTACT, "view", "add", scope="own")
    with pytest.raises(PermissionDeniedError) as exc:
        services.import_create(
            by=company.rep1, target=CONTACT, upload=upload("c.csv", CSV.encode()), filename="c.csv"
        )
    assert exc.value.code == services.ImportError_.PERMISSION
    with pytest.raises(services.ImportError_) as bad:
        services.import_create(
            by=company.rep1, target="users.user", upload=upload("c.csv", CSV.encode()), filename="c.csv"
        )
    assert bad.value.code == services.ImportError_.UNKNOWN_TARGET
    assert ImportJob.objects.count() == 0
    assert selectors.import_targets(user=company.rep1) == []


def test_targets_are_the_permitted_record_types(importer: Any, company: Any) -> None:
    assert [label for label, _name in selectors.import_targets(user=importer)] == [
        "customers.account",
        CONTACT,
    ]
    assert [label for label, _name in selectors.import_targets(user=company.admin)][:2] == [
        "customers.account",
        CONTACT,
    ]
    assert selectors.import_targets(user=company.nobody) == []


def _job(importer: Any) -> ImportJob:
    return services.import_create(
        by=importer, target=CONTACT, upload=upload("c.csv", CSV.encode()), filename="c.csv"
    )


def test_mapping_validation_errors_name_the_fields(importer: Any) -> None:
    job = _job(importer)
    bad = {"姓名": "email", "手机": "mobile", "邮箱": "email", "公司名称": "nope", "备注": ""}
    with pytest.raises(services.ImportError_) as exc:
        services.import_set_mapping(
            job=job,
            by=importer,
            mapping=bad,
            transforms={"date_order": "XYZ", "phone_region": "China"},
            mode="upsert",
            match_key="",
            owner_mode=OwnerMode.OWNER,
        )
    fields = exc.value.fields
    assert exc.value.code == services.ImportError_.INVALID_MAPPING
    assert fields["mapping.邮箱"] == ["Only one column can go to “e-mail”."]
    assert fields["mapping.公司名称"] == ["“nope” is not a field you can import."]
    assert sorted(fields["mapping"]) == sorted(
        ["No column goes to “name”, which is required.", "No column goes to “account”, which is required."]
    )
    assert set(fields) == {
        "mapping.邮箱",
        "mapping.公司名称",
        "mapping",
        "date_order",
        "phone_region",
        "match_key",
        "assign_to",
    }
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED


def test_mapping_saved_with_options(importer: Any, company: Any) -> None:
    job = _job(importer)
    mapping = dict(job.mapping)
    job = services.import_set_mapping(
        job=job,
        by=importer,
        mapping=mapping,
        transforms={
            "date_order": "DMY",
            "phone_region": "hk",
            "unknown_choices": "create",
            "separators": ";",
        },
        mode="upsert",
        match_key="email",
        on_duplicate="update",
        owner_mode=OwnerMode.OWNER,
        assign_to=importer.pk,
    )
    job.refresh_from_db()
    assert job.status == ImportStatus.MAPPED
    assert (job.mode, job.match_key, job.on_duplicate, job.owner_mode, job.assign_to_id) == (
        "upsert",
        "email",
        "update",
        "owner",
        importer.pk,
    )
    assert job.transforms == {
        "date_order": "DMY",
        "phone_region": "HK",
        "unknown_choices": "create",
        "picklists": {},
        "separators": ";",
    }
    # the match key must be mapped; someone else as owner needs the assign permission
    mapping["邮箱"] = ""
    with pytest.raises(services.ImportError_) as exc:
        services.import_set_mapping(job=job, by=importer, mapping=mapping, mode="update", match_key="email")
    assert list(exc.value.fields) == ["match_key"]
    with pytest.raises(services.ImportError_) as exc:
        services.import_set_mapping(
            job=job,
            by=importer,
            mapping=dict(job.mapping),
            owner_mode=OwnerMode.OWNER,
            assign_to=company.rep2.pk,
        )
    assert exc.value.fields == {"assign_to": ["You may only give the new records to yourself."]}
    with pytest.raises(services.ImportError_) as exc:
        services.import_set_mapping(
            job=job, by=importer, mapping=dict(job.mapping), owner_mode=OwnerMode.MAPPED
        )
    assert list(exc.value.fields) == ["owner_mode"]


def test_no_changes_once_running(importer: Any) -> None:
    job = _job(importer)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    job.refresh_from_db()
    with pytest.raises(services.ImportError_) as exc:
        services.import_set_mapping(job=job, by=importer, mapping=dict(job.mapping))
    assert (exc.value.code, exc.value.status) == (services.ImportError_.NOT_EDITABLE, 409)
    with pytest.raises(services.ImportError_):
        services.import_reread(job=job, by=importer, header_row=1)
    # nor after a failed run (its resume reads the rows as the committed batches did)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED)
    job.refresh_from_db()
    with pytest.raises(services.ImportError_) as exc:
        services.import_set_mapping(job=job, by=importer, mapping=dict(job.mapping))
    assert exc.value.code == services.ImportError_.NOT_EDITABLE


def test_presets_saved_found_for_the_same_columns_and_deleted(importer: Any, company: Any) -> None:
    job = _job(importer)
    mapping = {**job.mapping, "备注": ""}
    job = services.import_set_mapping(job=job, by=importer, mapping=mapping, transforms={"date_order": "MDY"})
    preset = services.import_preset_save(by=importer, job=job, name="Fair contacts")
    assert (preset.owner_id, preset.target, preset.data["columns"]["备注"], preset.data["date_order"]) == (
        importer.pk,
        CONTACT,
        None,
        "MDY",
    )
    with pytest.raises(services.ImportError_) as exc:
        services.import_preset_save(by=importer, job=job, name="Fair contacts")
    assert exc.value.code == services.ImportError_.PRESET_EXISTS
    with pytest.raises(PermissionDeniedError):
        services.import_preset_save(by=importer, job=job, name="Shared", shared=True)
    assert [p.name for p in selectors.presets_for(user=importer, target=CONTACT)] == ["Fair contacts"]
    # the next file with the same columns (any order) gets the preset's mapping
    other = services.import_create(
        by=importer,
        target=CONTACT,
        upload=upload("n.csv", "备注,姓名,手机,邮箱,公司名称\nx,王五,13700137000,w@example.com,A\n".encode()),
        filename="n.csv",
    )
    assert other.preset_id == preset.pk
    assert other.mapping["备注"] == ""
    assert other.transforms["date_order"] == "MDY"
    # a built-in preset by key
    other = services.import_preset_apply(by=importer, job=other, preset="outlook_contacts")
    assert other.preset_id is None and other.transforms["date_order"] == "MDY"
    with pytest.raises(PermissionDeniedError):
        grant(company.role_rep, CONTACT, "import", scope="own")
        services.import_preset_delete(by=company.rep2, preset=preset)
    services.import_preset_delete(by=importer, preset=preset)
    assert not ImportPreset.objects.exists()


def test_import_list_shows_own_and_scoped(importer: Any, company: Any) -> None:
    job = _job(importer)
    assert list(selectors.import_list(user=importer)) == [job]
    assert selectors.import_get(user=company.rep2, pk=job.pk) is None
    assert selectors.import_get(user=company.admin, pk=job.pk) == job
    grant(company.role_manager, "imports.importjob", "view", scope="department")
    assert selectors.import_get(user=company.manager1, pk=job.pk) == job
    assert selectors.import_get(user=company.rep3, pk="x") is None


def test_uploads_and_mapping_changes_are_in_the_change_log(importer: Any) -> None:
    from kehu.audit.models import ObjectChange

    job = _job(importer)
    services.import_set_mapping(job=job, by=importer, mapping={**job.mapping, "备注": ""}, mode="create")
    rows = list(
        ObjectChange.objects.filter(model="imports.importjob", object_id=job.pk)
        .order_by("id")
        .values_list("action", "object_repr", "changes")
    )
    assert [(a, r) for a, r, _c in rows] == [("create", "c.csv"), ("update", "c.csv")]
    assert rows[0][2]["file"][1].endswith("c.csv") and rows[0][2]["mapping.手机"] == [None, "mobile"]
    assert rows[1][2] == {"status": ["uploaded", "mapped"], "mapping.备注": ["notes", ""]}


def test_a_vendor_export_gets_its_built_in_preset(importer: Any) -> None:
    from kehu.imports.presets import get_preset

    path = Path(__file__).parent / "fixtures" / "presets" / "outlook_contacts.csv"
    job = services.import_create(by=importer, target=CONTACT, upload=path, filename="contacts.csv")
    preset = get_preset("outlook_contacts")
    assert job.preset_id is None
    assert job.mapping == {h: (f or "") for h, f in preset.mapping(job.headers).items()}
    assert (job.mapping["E-mail Address"], job.mapping["Mobile Phone"]) == ("email", "mobile")
    assert job.transforms["date_order"] == preset.date_order


def test_a_preset_brings_its_vendor_values(company: Any) -> None:
    """A Salesforce lead export: its lead statuses become the value mapping of the status field."""
    grant(company.role_rep, "sales.lead", "view", "add", "import", scope="own")
    path = Path(__file__).parent / "fixtures" / "presets" / "salesforce_leads.csv"
    job = services.import_create(by=company.rep1, target="sales.lead", upload=path, filename="leads.csv")
    assert job.transforms["picklists"] == {
        "status": {
            "opennotcontacted": "new",
            "workingcontacted": "contacting",
            "closedconverted": "qualified",
            "closednotconverted": "unqualified",
        }
    }
    statuses = [r["values"].get("status") for r in selectors.import_preview(job=job)]
    assert statuses and set(statuses) <= {"new", "contacting", "qualified", "unqualified", None}
    assert any(statuses)
