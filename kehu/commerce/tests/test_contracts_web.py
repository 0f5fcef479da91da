"""Contract pages and API beyond the permission matrix: uploads (refused → a clear error and nothing
stored), downloads restricted by the contract's scope, status actions, the quote → contract
conversion, and what the detail page shows."""

# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import RequestFactory
from rest_framework.test import APIClient

from ..choices import ContractStatus, QuoteStatus
from ..models import Contract, ContractAttachment
from ..services.contracts import contract_attachment_add
from . import contract_fixtures as cf
from .contract_fixtures import media, sellers  # noqa: F401
from .factories import ContractFactory, QuoteFactory

pytestmark = pytest.mark.django_db
HTML = "/commerce/contracts/"
API = "/api/v1/commerce/contracts/"


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_upload_page_refused_and_accepted(sellers: Any, media: Any, client: Any) -> None:
    contract = ContractFactory.create(owner=sellers.rep1)
    client.force_login(sellers.rep1)
    bad = SimpleUploadedFile("合同.pdf", b"MZ not a pdf at all")
    r = client.post(f"{HTML}{contract.pk}/attachments/", {"kind": "signed", "file": bad})
    assert r.status_code == 400
    assert "content is not a PDF file" in r.content.decode()
    assert not ContractAttachment.objects.exists() and cf.stored_files(media) == []
    exe = SimpleUploadedFile("setup.exe", b"MZ\x90\x00")
    r = client.post(
        f"{HTML}{contract.pk}/attachments/", {"kind": "signed", "file": exe}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200 and "not accepted" in r.content.decode()
    assert not ContractAttachment.objects.exists()
    good = SimpleUploadedFile("合同.pdf", cf.PDF)
    r = client.post(f"{HTML}{contract.pk}/attachments/", {"kind": "appendix", "file": good})
    assert r.status_code == 302
    attachment = ContractAttachment.objects.get()
    assert attachment.kind == "appendix" and attachment.name == "合同.pdf"
    page = client.get(f"{HTML}{contract.pk}/").content.decode()
    assert "data-contract-attachments" in page and "合同.pdf" in page


def test_upload_too_big_page(sellers: Any, media: Any, client: Any, settings: Any) -> None:
    settings.KEHU_ATTACHMENT_MAX_BYTES = 64
    contract = ContractFactory.create(owner=sellers.rep1)
    client.force_login(sellers.rep1)
    r = client.post(
        f"{HTML}{contract.pk}/attachments/", {"file": SimpleUploadedFile("a.pdf", cf.PDF + b"x" * 64)}
    )
    assert r.status_code == 400 and "too big" in r.content.decode()
    assert cf.stored_files(media) == []


def test_download_scope(sellers: Any, media: Any, client: Any) -> None:
    contract = ContractFactory.create(owner=sellers.rep1)
    attachment = contract_attachment_add(
        contract=contract, by=sellers.rep1, upload=SimpleUploadedFile("scan.png", cf.PNG)
    )
    url = f"{HTML}{contract.pk}/attachments/{attachment.pk}/"
    client.force_login(sellers.rep1)
    r = client.get(url)
    assert r.status_code == 200 and b"".join(r.streaming_content) == cf.PNG
    assert "attachment" in r["Content-Disposition"]
    client.force_login(sellers.manager1)  # same department
    assert client.get(url).status_code == 200
    client.force_login(sellers.rep2)  # another rep: out of scope
    assert client.get(url).status_code == 404
    other = ContractFactory.create(owner=sellers.rep2)
    client.force_login(sellers.rep2)
    assert client.get(f"{HTML}{other.pk}/attachments/{attachment.pk}/").status_code == 404
    api_url = f"{API}{contract.pk}/attachments/{attachment.pk}/download/"
    assert _api(sellers.rep1).get(api_url).status_code == 200
    assert _api(sellers.rep3).get(api_url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_api_upload_list_delete(sellers: Any, media: Any) -> None:
    contract = ContractFactory.create(owner=sellers.rep1)
    api = _api(sellers.rep1)
    r = api.post(
        f"{API}{contract.pk}/attachments/", {"file": SimpleUploadedFile("x.docx", cf.PDF)}, format="multipart"
    )
    assert r.status_code == 400 and r.json()["code"] == "attachment_refused" and "file" in r.json()["fields"]
    assert cf.stored_files(media) == []
    r = api.post(
        f"{API}{contract.pk}/attachments/",
        {"file": SimpleUploadedFile("x.docx", cf.office_zip()), "kind": "appendix"},
        format="multipart",
    )
    assert r.status_code == 201, r.content
    listed = api.get(f"{API}{contract.pk}/attachments/").json()
    assert [a["name"] for a in listed] == ["x.docx"]
    assert _api(sellers.rep2).get(f"{API}{contract.pk}/attachments/").status_code == 404
    assert api.delete(f"{API}{contract.pk}/attachments/{r.json()['id']}/").status_code == 204
    assert not ContractAttachment.objects.exists()


def test_api_status_actions(sellers: Any) -> None:
    contract = ContractFactory.create(owner=sellers.rep1, signed_on=None)
    api = _api(sellers.rep1)
    r = api.post(f"{API}{contract.pk}/activate/", {}, format="json")
    assert r.status_code == 400 and "signed_on" in r.json()["fields"]
    r = api.post(
        f"{API}{contract.pk}/terminate/", {"terminated_on": "2026-01-01", "reason": "x"}, format="json"
    )
    assert r.status_code == 409
    r = api.post(f"{API}{contract.pk}/activate/", {"signed_on": dt.date.today().isoformat()}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "active"
    r = api.post(
        f"{API}{contract.pk}/terminate/",
        {"terminated_on": dt.date.today().isoformat(), "reason": "违约"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["status"] == "terminated"
    assert api.delete(f"{API}{contract.pk}/").status_code == 409
    r = api.patch(f"{API}{contract.pk}/", {"start_on": "2026-02-01", "end_on": "2026-01-01"}, format="json")
    assert r.status_code == 409  # terminated: read-only


def test_api_dates_validated(sellers: Any) -> None:
    account = ContractFactory.create(owner=sellers.rep1).account
    r = _api(sellers.rep1).post(
        API,
        {"name": "x", "account": account.pk, "start_on": "2026-02-01", "end_on": "2026-01-31"},
        format="json",
    )
    assert r.status_code == 400 and "end_on" in r.json()["fields"]
    assert Contract.objects.count() == 1


def test_api_filters(sellers: Any) -> None:
    active = ContractFactory.create(owner=sellers.rep1, status=ContractStatus.ACTIVE, number="HT-A-1")
    ContractFactory.create(owner=sellers.rep1)
    rows = _api(sellers.rep1).get(API, {"status": "active"}).json()["results"]
    assert [r["id"] for r in rows] == [active.pk]
    rows = _api(sellers.rep1).get(API, {"q": "HT-A"}).json()["results"]
    assert [r["id"] for r in rows] == [active.pk]


def test_quote_conversion_api(sellers: Any) -> None:
    quote = cf.accepted_quote(sellers.rep1)
    r = _api(sellers.rep1).post(f"/api/v1/commerce/quotes/{quote.pk}/contract/")
    assert r.status_code == 201, r.content
    body = r.json()
    assert (
        body["quote"] == quote.pk
        and Decimal(body["value"]) == quote.total
        and body["number"].startswith("HT")
    )
    draft = QuoteFactory.create(owner=sellers.rep1, status=QuoteStatus.SENT)
    r = _api(sellers.rep1).post(f"/api/v1/commerce/quotes/{draft.pk}/contract/")
    assert r.status_code == 409 and r.json()["code"] == "quote_not_accepted"
    assert _api(sellers.rep2).post(f"/api/v1/commerce/quotes/{quote.pk}/contract/").status_code == 404
    assert _api(sellers.nobody).post(f"/api/v1/commerce/quotes/{quote.pk}/contract/").status_code == 404
    assert Contract.objects.count() == 1


def test_quote_conversion_page(sellers: Any, client: Any) -> None:
    quote = cf.accepted_quote(sellers.rep1)
    client.force_login(sellers.rep1)
    r = client.post(f"/commerce/quotes/{quote.pk}/contract/")
    contract = Contract.objects.get()
    assert r.status_code == 302 and r["Location"] == contract.get_absolute_url()
    page = client.get(contract.get_absolute_url()).content.decode()
    assert "data-related-quote" in page and contract.number in page


def test_conversion_actions_include(sellers: Any) -> None:
    request = RequestFactory().get("/")
    request.user = sellers.rep1
    accepted = cf.accepted_quote(sellers.rep1)
    html = render_to_string("commerce/quotes/_conversion_actions.html", {"quote": accepted}, request=request)
    assert 'data-action="create-contract"' in html and 'data-action="create-order"' in html
    sent = QuoteFactory.create(owner=sellers.rep1, status=QuoteStatus.SENT)
    assert "data-action" not in render_to_string(
        "commerce/quotes/_conversion_actions.html", {"quote": sent}, request=request
    )
    request.user = sellers.nobody
    assert "data-action" not in render_to_string(
        "commerce/quotes/_conversion_actions.html", {"quote": accepted}, request=request
    )


def test_detail_buttons_follow_status(sellers: Any, client: Any) -> None:
    contract = ContractFactory.create(owner=sellers.rep1)
    client.force_login(sellers.rep1)
    page = client.get(contract.get_absolute_url()).content.decode()
    assert 'data-action="activate"' in page and 'data-action="terminate"' not in page
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.ACTIVE)
    page = client.get(contract.get_absolute_url()).content.decode()
    assert 'data-action="terminate"' in page and 'data-action="delete"' not in page
    client.force_login(sellers.manager1)  # sees it, may change it
    assert 'data-action="terminate"' in client.get(contract.get_absolute_url()).content.decode()


def test_terminate_page_errors(sellers: Any, client: Any) -> None:
    contract = ContractFactory.create(owner=sellers.rep1, status=ContractStatus.ACTIVE)
    client.force_login(sellers.rep1)
    r = client.post(f"{HTML}{contract.pk}/terminate/", {"terminated_on": "", "termination_reason": ""})
    assert r.status_code == 400
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE


def test_upload_hint_keeps_its_own_column_beside_the_button(sellers: Any, client: Any) -> None:
    contract = ContractFactory.create(owner=sellers.rep1)
    client.force_login(sellers.rep1)
    page = client.get(f"{HTML}{contract.pk}/").content.decode()
    form = page[
        page.index("data-attachment-upload") : page.index("</form>", page.index("data-attachment-upload"))
    ]
    row = form[form.index("data-upload-row") :]
    hint_tag = re.search(r"<div [^>]*data-upload-hint[^>]*>", row)
    button_tag = re.search(r'<button type="submit"[^>]*>', row)
    assert hint_tag and button_tag and hint_tag.start() < button_tag.start()
    # one flex row: the hint grows and wraps in its own column, the button is never shrunk
    assert "flex-grow-1" in hint_tag.group() and "flex-shrink-0" in button_tag.group()
    assert 'aria-describedby="attachment-upload-hint"' in form and 'id="attachment-upload-hint"' in form
    assert "Accepted: .pdf" in row and " MB." in row
