"""What the wizard's pages say for each state of an import: the run step names why the import
cannot start (not mapped yet, dry run going on, undoing, undone, done) instead of "has ended" for
all of them; the mapping step lists the required fields with the language's separator."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kehu.imports import services
from kehu.imports.choices import ImportStatus
from kehu.imports.models import ImportJob
from kehu.users.tests.factories import grant

CONTACT = "customers.contact"
CSV = "姓名,手机\n张三,13800138000\n".encode()


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def importer(company: Any) -> Any:
    grant(company.role_rep, CONTACT, "view", "add", "change", "import", scope="own")
    return company.rep1


def _job(user: Any) -> ImportJob:
    return services.import_create(
        by=user, target=CONTACT, upload=SimpleUploadedFile("c.csv", CSV), filename="c.csv"
    )


def _client(user: Any, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def _state(html: str) -> tuple[str | None, str]:
    found = re.search(r'data-run-state="([^"]*)"[^>]*>(.*?)</(?:p|div)>', html, re.S)
    return (found.group(1), re.sub(r"<[^>]+>", "", found.group(2)).strip()) if found else (None, "")


@pytest.mark.parametrize(
    ("status", "state", "text", "link"),
    [
        (ImportStatus.UPLOADED, "uploaded", "Map the columns and choose the options first.", "mapping"),
        (ImportStatus.CHECKING, "checking", "The dry run is still going on", "check"),
        (ImportStatus.UNDOING, "undoing", "This import is being undone.", "result"),
        (ImportStatus.UNDONE, "undone", "This import was undone.", "result"),
        (ImportStatus.DONE, "done", "This import has ended.", "result"),
    ],
)
def test_run_step_says_what_state_the_import_is_in(
    importer: Any, status: str, state: str, text: str, link: str
) -> None:
    job = _job(importer)
    ImportJob.objects.filter(pk=job.pk).update(status=status)
    html = _client(importer).get(f"/imports/{job.pk}/run/").content.decode()
    got_state, got_text = _state(html)
    assert (got_state, got_text.startswith(text)) == (state, True), got_text
    assert f'href="/imports/{job.pk}/{link}/"' in html
    assert "data-start-run" not in html


def test_an_uploaded_import_is_not_said_to_have_ended(importer: Any) -> None:
    job = _job(importer)
    assert job.status == ImportStatus.UPLOADED
    html = _client(importer).get(f"/imports/{job.pk}/run/").content.decode()
    assert "This import has ended." not in html


def test_mapping_step_lists_required_fields(importer: Any) -> None:
    from kehu.customfields.tests.factories import CustomFieldFactory

    CustomFieldFactory.create(model=CONTACT, name="badge", label="工牌", label_en="Badge", required=True)
    job = _job(importer)
    html = _client(importer).get(f"/imports/{job.pk}/mapping/").content.decode()
    found = re.search(r"Required: ([^<]*)\.</p>", html)
    assert found is not None
    assert found.group(1).split(", ")[-1] == "Badge" and len(found.group(1).split(", ")) >= 2
