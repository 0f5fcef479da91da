"""Quote PDF pages and API: the permission matrix (404 outside scope), languages, the company
profile settings page with its logo upload."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.commerce.choices import QuoteStatus
from kehu.commerce.models import CompanyProfile
from kehu.core.choices import Action
from kehu.core.testing import Endpoint, PermissionMatrix
from kehu.users.tests.factories import grant

from .pdf_fixtures import pdf_text, png_bytes, poppler_available, priced_quote

pytestmark = pytest.mark.django_db


def _endpoints() -> list[Endpoint]:
    send = {"to": "buyer@example.com", "cc": "", "subject": "报价单", "message": "", "language": "zh-hans"}
    return [
        Endpoint("pdf download", "get", lambda o: f"/commerce/quotes/{o.pk}/pdf/?lang=en", Action.VIEW),
        Endpoint("api pdf", "get", lambda o: f"/api/v1/commerce/quotes/{o.pk}/pdf/", Action.VIEW, api=True),
        Endpoint("send dialog", "get", lambda o: f"/commerce/quotes/{o.pk}/send/", Action.CHANGE, htmx=True),
        Endpoint(
            "send",
            "post",
            lambda o: f"/commerce/quotes/{o.pk}/send/",
            Action.CHANGE,
            data=lambda o: send,
            ok=(204,),
            htmx=True,
        ),
    ]


def test_quote_pdf_permission_matrix(company: Any, client: Any) -> None:
    PermissionMatrix(
        model="commerce.quote",
        make=lambda owner: priced_quote(owner=owner, lines=1, status=QuoteStatus.APPROVED),
        endpoints=_endpoints(),
        extra_grants={"customers.account": ["view"], "customers.contact": ["view"]},
        grant=grant,
    ).run(company, client)


def test_download_is_an_attachment_in_the_language_asked(admin_client: Any) -> None:
    quote = priced_quote(lines=2, language="zh-hans")
    response = admin_client.get(f"/commerce/quotes/{quote.pk}/pdf/?lang=en")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{quote.number}-en.pdf"'
    default = admin_client.get(f"/commerce/quotes/{quote.pk}/pdf/")
    assert f"{quote.number}-zh.pdf" in default["Content-Disposition"]
    if poppler_available():
        assert "Quotation" in pdf_text(response.content)


def test_api_pdf_language_and_errors(admin_client: Any) -> None:
    quote = priced_quote(lines=1)
    ok = admin_client.get(f"/api/v1/commerce/quotes/{quote.pk}/pdf/?lang=zh")
    assert ok.status_code == 200
    assert ok["Content-Type"] == "application/pdf"
    assert ok.content.startswith(b"%PDF-")
    bad = admin_client.get(f"/api/v1/commerce/quotes/{quote.pk}/pdf/?lang=fr")
    assert bad.status_code == 400
    assert "lang" in bad.content.decode()
    missing = admin_client.get("/api/v1/commerce/quotes/999999/pdf/")
    assert missing.status_code == 404


def test_pdf_actions_include_renders_buttons(admin_client: Any) -> None:
    from django.template.loader import render_to_string

    approved = priced_quote(lines=1, status=QuoteStatus.APPROVED)
    html = render_to_string("commerce/quotes/_pdf_actions.html", {"quote": approved})
    assert f"/commerce/quotes/{approved.pk}/pdf/?lang=zh" in html
    assert f"/commerce/quotes/{approved.pk}/pdf/?lang=en" in html
    assert f"/commerce/quotes/{approved.pk}/send/" in html
    draft = priced_quote(lines=1, status=QuoteStatus.DRAFT)
    assert "/send/" not in render_to_string("commerce/quotes/_pdf_actions.html", {"quote": draft})
    # the quote detail page passes the quote as `object`
    page = admin_client.get(approved.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert f"/commerce/quotes/{approved.pk}/pdf/?lang=en" in body
    assert f"/commerce/quotes/{approved.pk}/send/" in body


def test_company_profile_page_saves_fields_and_logo(admin_client: Any) -> None:
    url = "/commerce/settings/company-profile/"
    assert admin_client.get(url).status_code == 200
    data = {"name": "客户软件", "name_en": "Kehu Software", "tax_id": "91310115MA1K4ABC12", "phone": "021"}
    logo = SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")
    response = admin_client.post(url, {**data, "logo": logo})
    assert response.status_code == 302, response.content.decode()[:2000]
    profile = CompanyProfile.objects.get()
    assert (profile.name, profile.name_en, profile.tax_id) == (
        "客户软件",
        "Kehu Software",
        "91310115MA1K4ABC12",
    )
    assert profile.logo.name.endswith(".png")
    assert profile.logo.storage.exists(profile.logo.name)


def test_company_profile_refuses_a_bad_logo_and_changes_nothing(admin_client: Any) -> None:
    url = "/commerce/settings/company-profile/"
    fake = SimpleUploadedFile("logo.png", b"not an image", content_type="image/png")
    response = admin_client.post(url, {"name": "改了", "logo": fake})
    assert response.status_code == 400
    body = response.content.decode()
    assert "PNG or JPEG" in body or "valid image" in body
    assert not CompanyProfile.objects.filter(name="改了").exists()


def test_company_profile_needs_the_permission(company: Any, client: Any) -> None:
    client.force_login(company.rep1)
    assert client.get("/commerce/settings/company-profile/").status_code == 403
    client.logout()
    assert client.get("/commerce/settings/company-profile/").status_code == 302
