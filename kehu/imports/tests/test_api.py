"""/api/v1/imports/: upload (multipart), read again, mapping, errors as {code, message, fields},
and imports out of reach answering 404."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from kehu.imports.choices import ImportStatus
from kehu.imports.models import ImportJob
from kehu.users.tests.factories import grant

CONTACT = "customers.contact"
CSV = "姓名,手机,邮箱,公司名称\n张三,13800138000,zhang@example.com,北京科技有限公司\n".encode("gbk")
URL = "/api/v1/imports/"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def importer(company: Any) -> Any:
    grant(company.role_rep, CONTACT, "view", "add", "change", "import", scope="own")
    return company.rep1


def api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def upload(client: APIClient, data: bytes = CSV, name: str = "c.csv", target: str = CONTACT) -> Any:
    return client.post(URL, {"target": target, "file": SimpleUploadedFile(name, data)}, format="multipart")


def test_upload_multipart_detects_and_proposes_a_mapping(importer: Any) -> None:
    response = upload(api(importer))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["target"], body["status"], body["original_name"]) == (CONTACT, "uploaded", "c.csv")
    assert body["options"] == {"header_row": 1, "encoding": "gb18030", "delimiter": ","}
    assert body["headers"] == ["姓名", "手机", "邮箱", "公司名称"]
    assert body["mapping"] == {"姓名": "name", "手机": "mobile", "邮箱": "email", "公司名称": "account"}
    assert body["job"] is None and body["error_file_url"] is None
    job = ImportJob.objects.get(pk=body["id"])
    assert job.owner_id == importer.pk
    listed = api(importer).get(URL).json()
    assert [r["id"] for r in listed["results"]] == [job.pk]
    targets = api(importer).get(f"{URL}targets/").json()
    assert [t["target"] for t in targets] == [CONTACT]


def test_upload_errors(importer: Any, company: Any) -> None:
    from kehu.imports.parsing.text import binary_error

    response = upload(api(importer), data=b"%PDF-1.4 ...")
    assert response.status_code == 400
    message = str(binary_error().message)
    assert response.json() == {"code": "binary_file", "message": message, "fields": {"file": [message]}}
    response = api(importer).post(URL, {"target": CONTACT}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and list(response.json()["fields"]) == ["file"]
    response = upload(api(company.nobody))
    assert response.status_code == 403
    assert response.json() == {
        "code": "import_permission_denied",
        "message": "You may not import contacts.",
        "fields": {},
    }
    assert upload(api()).status_code in (401, 403)
    assert not ImportJob.objects.exists()


def test_reread_and_mapping(importer: Any) -> None:
    client = api(importer)
    pk = upload(client).json()["id"]
    response = client.post(f"{URL}{pk}/reread/", {"header_row": 5}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "header_row_out_of_range" and list(body["fields"]) == ["header_row"]
    response = client.post(
        f"{URL}{pk}/reread/", {"encoding": "gb18030", "delimiter": ",", "header_row": 1}, format="json"
    )
    assert response.status_code == 200 and response.json()["options"]["encoding"] == "gb18030"

    bad = {"mapping": {"姓名": "email", "邮箱": "email", "手机": "nope"}, "mode": "upsert"}
    response = client.post(f"{URL}{pk}/mapping/", bad, format="json")
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["message"]) == ("import_invalid_mapping", "Check the mapping and the options.")
    assert body["fields"] == {
        "mapping.邮箱": ["Only one column can go to “e-mail”."],
        "mapping.手机": ["“nope” is not a field you can import."],
        "mapping": [
            "No column goes to “name”, which is required.",
            "No column goes to “account”, which is required.",
        ],
        "match_key": ["Choose the field that finds existing records."],
    }
    good = {
        "mapping": {"姓名": "name", "手机": "mobile", "邮箱": "email", "公司名称": "account"},
        "transforms": {"date_order": "DMY"},
        "mode": "upsert",
        "match_key": "mobile",
        "on_duplicate": "update",
    }
    response = client.post(f"{URL}{pk}/mapping/", good, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["mode"], body["match_key"], body["transforms"]["date_order"]) == (
        "mapped",
        "upsert",
        "mobile",
        "DMY",
    )
    preview = client.get(f"{URL}{pk}/preview/").json()
    assert preview[0]["values"]["mobile"] == "+8613800138000" and preview[0]["errors"] == {}


def test_out_of_reach_answers_404_and_changes_nothing(importer: Any, company: Any) -> None:
    pk = upload(api(importer)).json()["id"]
    grant(company.role_rep, CONTACT, "import", scope="own")
    for user in (company.rep2, company.nobody):
        client = api(user)
        assert client.get(f"{URL}{pk}/").status_code == 404
        for action in ("reread", "mapping", "dry-run", "run", "undo"):
            response = client.post(f"{URL}{pk}/{action}/", {"mapping": {}}, format="json")
            assert response.status_code == 404, action
            assert response.json()["code"] == "not_found"
    assert ImportJob.objects.get(pk=pk).status == ImportStatus.UPLOADED
    assert api(company.admin).get(f"{URL}{pk}/").status_code == 200


def test_run_refused_before_mapping(importer: Any) -> None:
    pk = upload(api(importer)).json()["id"]
    response = api(importer).post(f"{URL}{pk}/run/")
    assert response.status_code == 409
    assert set(response.json()) == {"code", "message", "fields"}
    assert ImportJob.objects.get(pk=pk).status == ImportStatus.UPLOADED
