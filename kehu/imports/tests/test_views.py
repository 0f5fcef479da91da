"""The wizard's pages: each step renders, posts call the services, refusals show their message,
and an import the user may not see answers 404."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kehu.imports import services
from kehu.imports.choices import ImportStatus
from kehu.imports.models import ImportJob, ImportPreset
from kehu.imports.parsing.text import binary_error
from kehu.users.tests.factories import grant

CONTACT = "customers.contact"
CSV = "姓名,手机,邮箱,公司名称\n张三,13800138000,zhang@example.com,北京科技有限公司\n李四,139,li@x,上海\n"
CSV_BYTES = CSV.encode()
STEPS = ("file", "preview", "mapping", "options", "check", "run", "result")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def importer(company: Any) -> Any:
    grant(company.role_rep, CONTACT, "view", "add", "change", "import", scope="own")
    return company.rep1


def _create(user: Any, data: bytes = CSV_BYTES, name: str = "c.csv") -> ImportJob:
    upload = SimpleUploadedFile(name, data)
    return services.import_create(by=user, target=CONTACT, upload=upload, filename=name)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_upload_creates_the_import_and_opens_step_one(importer: Any) -> None:
    client = _client(importer)
    page = client.get("/imports/new/")
    assert page.status_code == 200
    assert b'name="file"' in page.content and b'value="customers.contact"' in page.content
    response = client.post(
        "/imports/new/", {"target": CONTACT, "file": SimpleUploadedFile("c.csv", CSV_BYTES)}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/file/"
    page = client.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "data-format>csv<" in text and "UTF-8" in text and "data-header-row>1<" in text


def test_unreadable_upload_shows_the_parser_message_at_the_field(importer: Any) -> None:
    response = _client(importer).post(
        "/imports/new/", {"target": CONTACT, "file": SimpleUploadedFile("e.csv", b"%PDF-1.4")}
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["file"] == [str(binary_error().message)]
    assert not ImportJob.objects.exists()


def test_every_step_renders(importer: Any) -> None:
    job = _create(importer)
    client = _client(importer)
    for step in STEPS:
        response = client.get(f"/imports/{job.pk}/{step}/")
        assert response.status_code == 200, step
        assert f'data-step="{step}"' in response.content.decode()
    preview = client.get(f"/imports/{job.pk}/preview/").content.decode()
    assert "张三" in preview and "北京科技有限公司" in preview
    mapping = client.get(f"/imports/{job.pk}/mapping/").content.decode()
    assert '<option value="mobile" selected>' in mapping
    assert "Outlook" in mapping  # built-in presets offered
    assert client.get(f"/imports/{job.pk}/").status_code == 302


def test_reread_form(importer: Any) -> None:
    job = _create(importer)
    client = _client(importer)
    response = client.post(
        f"/imports/{job.pk}/file/", {"encoding": "utf-8", "delimiter": ",", "header_row": "99"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["header_row"]
    response = client.post(
        f"/imports/{job.pk}/file/", {"encoding": "cp1252", "delimiter": ";", "header_row": "1"}
    )
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/preview/"
    job.refresh_from_db()
    assert job.options == {"header_row": 1, "encoding": "cp1252", "delimiter": ";"}


def test_mapping_errors_at_the_columns_and_save_as_preset(importer: Any) -> None:
    job = _create(importer)
    client = _client(importer)
    data = {"action": "save", "col_0": "email", "col_1": "mobile", "col_2": "email", "col_3": "account"}
    response = client.post(f"/imports/{job.pk}/mapping/", data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["col_2"] == ["Only one column can go to “e-mail”."]
    assert form.non_field_errors() == ["No column goes to “name”, which is required."]
    data["col_0"] = "name"
    response = client.post(f"/imports/{job.pk}/mapping/", {**data, "preset-name": "Mine"})
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/options/"
    job.refresh_from_db()
    assert job.status == ImportStatus.MAPPED
    assert job.mapping == {"姓名": "name", "手机": "mobile", "邮箱": "email", "公司名称": "account"}
    assert ImportPreset.objects.get().name == "Mine"
    # a built-in preset applied from the picker
    response = client.post(
        f"/imports/{job.pk}/mapping/", {"action": "preset", "preset": "builtin:outlook_contacts"}
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED


def test_options_step(importer: Any, company: Any) -> None:
    job = _create(importer)
    client = _client(importer)
    base = {
        "date_order": "DMY",
        "phone_region": "CN",
        "unknown_choices": "map",
        "picklists": "gender: 男 = male",
        "separators": ";",
        "mode": "upsert",
        "match_key": "",
        "on_duplicate": "skip",
        "owner_mode": "rules",
    }
    response = client.post(f"/imports/{job.pk}/options/", base)
    assert response.status_code == 400
    assert response.context["form"].errors["match_key"] == ["Choose the field that finds existing records."]
    response = client.post(
        f"/imports/{job.pk}/options/",
        {**base, "owner_mode": "owner", "assign_to": company.rep2.pk, "match_key": "email"},
    )
    assert response.context["form"].errors["assign_to"] == ["You may only give the new records to yourself."]
    response = client.post(f"/imports/{job.pk}/options/", {**base, "picklists": "nonsense"})
    assert response.context["form"].errors["picklists"]
    response = client.post(f"/imports/{job.pk}/options/", {**base, "match_key": "email"})
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/check/"
    job.refresh_from_db()
    assert (job.status, job.mode, job.match_key, job.transforms["date_order"]) == (
        "mapped",
        "upsert",
        "email",
        "DMY",
    )
    assert job.transforms["picklists"] == {"gender": {"男": "male"}}


def test_list_shows_imports_with_status(importer: Any, company: Any) -> None:
    mine = _create(importer)
    theirs = _create(company.admin, name="admin.csv")
    page = _client(importer).get("/imports/")
    text = page.content.decode()
    assert page.status_code == 200
    assert f'data-import-id="{mine.pk}"' in text and f'data-import-id="{theirs.pk}"' not in text
    assert "data-new-import" in text
    admin_page = _client(company.admin).get("/imports/").content.decode()
    assert f'data-import-id="{mine.pk}"' in admin_page and f'data-import-id="{theirs.pk}"' in admin_page


def test_permission_matrix(importer: Any, company: Any) -> None:
    """Anonymous: sign-in page; no permission: refused with the message (403) and every import 404;
    own: every page; someone else's import: 404 (no existence leak); refused posts change nothing."""
    job = _create(importer)
    urls = [f"/imports/{job.pk}/{s}/" for s in (*STEPS, "errors")]
    anonymous = Client()
    for url in ["/imports/", "/imports/new/", *urls]:
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    nobody = _client(company.nobody)
    response = nobody.get("/imports/new/")
    assert response.status_code == 403 and "You may not import any records." in response.content.decode()
    assert "data-new-import" not in nobody.get("/imports/").content.decode()
    grant(
        company.role_rep, CONTACT, "import", scope="own"
    )  # rep2 shares the role: may import, not see rep1's
    for client in (nobody, _client(company.rep2)):
        for url in urls:
            assert client.get(url).status_code == 404, url
        for url in ("mapping", "options", "check/start", "run/start", "undo"):
            assert client.post(f"/imports/{job.pk}/{url}/", {"col_0": "name"}).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED
    own = _client(importer)
    for url in urls[:-1]:
        assert own.get(url).status_code == 200, url
    assert own.get(urls[-1]).status_code == 404  # no error file yet


def test_refused_action_shows_the_service_message(importer: Any) -> None:
    job = _create(importer)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE)
    client = _client(importer)
    data = {"encoding": "utf-8", "delimiter": ",", "header_row": "1"}
    response = client.post(f"/imports/{job.pk}/file/", data)
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/file/"
    page = client.get(response["Location"]).content.decode()
    assert "This import has already run (status: Imported); start a new import to change it." in page


def test_dry_run_run_and_undo_through_the_pages(
    importer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Steps 5–7 with the engine (tasks run eagerly in tests): the dry run's counts and first
    errors, the run's counts and error file, then undo."""
    from kehu.customers.models import Contact
    from kehu.customers.tests.factories import AccountFactory

    AccountFactory(owner=importer, name="北京科技有限公司")
    job = _create(importer)
    client = _client(importer)
    mapping = {"action": "save", "col_0": "name", "col_1": "mobile", "col_2": "email", "col_3": "account"}
    assert client.post(f"/imports/{job.pk}/mapping/", mapping).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/{job.pk}/check/start/").status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED
    assert (job.dry_run["create"], job.dry_run["errors"]) == (1, 1)
    page = client.get(f"/imports/{job.pk}/check/").content.decode()
    assert 'data-count="create">1<' in page and 'data-count="errors">1<' in page
    assert "data-first-errors" in page and "data-error-file" in page
    assert client.get(f"/imports/{job.pk}/errors/").status_code == 200
    assert not Contact.objects.filter(name="张三").exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/{job.pk}/run/start/").status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert Contact.objects.filter(name="张三", account__name="北京科技有限公司").count() == 1
    page = client.get(f"/imports/{job.pk}/result/").content.decode()
    assert 'data-count="created">1<' in page and "data-undo" in page
    download = client.get(f"/imports/{job.pk}/errors/")
    errors = b"".join(download.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert "李四" in errors and "张三" not in errors

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/{job.pk}/undo/").status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.UNDONE
    assert not Contact.objects.filter(name="张三").exists()
    assert "data-undo" not in client.get(f"/imports/{job.pk}/result/").content.decode()


def test_progress_polls_while_running_and_reloads_when_done(importer: Any) -> None:
    from kehu.core.models import Job

    job = _create(importer)
    core = Job.objects.create(
        kind="import", owner=importer, status="running", progress_done=40, progress_total=100
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, job=core)
    client = _client(importer)
    response = client.get(f"/imports/{job.pk}/progress/")
    assert response.status_code == 200 and "HX-Refresh" not in response
    assert f'hx-get="/imports/{job.pk}/progress/"' in response.content.decode()
    page = client.get(f"/imports/{job.pk}/run/").content.decode()
    assert "data-import-progress" in page and "data-start-run" not in page
    # the worker died and the heartbeat sweep failed the job: no endless polling, start again
    Job.objects.filter(pk=core.pk).update(status="failed")
    response = client.get(f"/imports/{job.pk}/progress/")
    assert response["HX-Refresh"] == "true" and "hx-get" not in response.content.decode()
    page = client.get(f"/imports/{job.pk}/run/").content.decode()
    assert "data-stalled" in page and "data-start-run" in page and "data-import-progress" not in page
    assert _client(importer).get(f"/imports/{job.pk + 1}/progress/").status_code == 404


def test_leads_into_a_pool_through_the_pages(company: Any, django_capture_on_commit_callbacks: Any) -> None:
    """A lead import walks the same pages: mapping, options with a lead pool, dry run, run, undo."""
    from kehu.sales.models import Lead, Pool, PoolItem

    grant(company.role_rep, "sales.lead", "view", "add", "change", "delete", "import", scope="all")
    user = company.rep1
    pool = Pool.objects.create(name="华东公海", kind="lead")
    data = "姓名,公司,手机\n王五,星辰科技,13800001111\n赵六,云帆,12\n".encode()
    job = services.import_create(
        by=user, target="sales.lead", upload=SimpleUploadedFile("l.csv", data), filename="l.csv"
    )
    client = _client(user)
    assert client.get(f"/imports/{job.pk}/mapping/").status_code == 200
    mapping = {"action": "save", "col_0": "name", "col_1": "company", "col_2": "mobile"}
    assert client.post(f"/imports/{job.pk}/mapping/", mapping).status_code == 302
    options = {
        "date_order": "YMD",
        "phone_region": "CN",
        "unknown_choices": "reject",
        "picklists": "",
        "separators": ";",
        "mode": "create",
        "match_key": "",
        "on_duplicate": "skip",
        "owner_mode": "pool",
        "pool_id": pool.pk,
    }
    response = client.post(f"/imports/{job.pk}/options/", options)
    assert response.status_code == 302, response.context["form"].errors
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/{job.pk}/check/start/").status_code == 302
    job.refresh_from_db()
    assert (job.dry_run["create"], job.dry_run["errors"]) == (1, 1)
    assert not Lead.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/{job.pk}/run/start/").status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    lead = Lead.objects.get()
    assert (lead.name, lead.company, lead.owner_id) == ("王五", "星辰科技", None)
    assert PoolItem.objects.filter(lead=lead, pool=pool, in_pool=True).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/imports/{job.pk}/undo/").status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.UNDONE and not Lead.objects.exists()
