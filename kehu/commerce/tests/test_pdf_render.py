"""The quote PDF: its text (customer, 大写金额, every line), embedded fonts, both languages,
pagination of a 200-line quote, the letterhead and logo, and the per-process font cache."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.commerce import pdf as pdf_module
from kehu.commerce.pdf import amount_in_words, number, quote_pdf, quote_pdf_filename
from kehu.commerce.services.company import CompanyProfileError, check_logo, company_profile_update
from kehu.core.money import chinese_uppercase

from .pdf_fixtures import (
    letterhead,
    pdf_fonts,
    pdf_pages,
    pdf_text,
    png_bytes,
    poppler_available,
    priced_quote,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not poppler_available(), reason="poppler-utils (pdftotext, pdffonts) not installed"),
]

UPPERCASE = "壹万贰仟叁佰肆拾伍元陆角柒分"


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_pdf_text_has_customer_uppercase_total_and_every_line(language: str) -> None:
    letterhead()
    quote = priced_quote(lines=4)
    data = quote_pdf(quote, language=language)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "北京星辰科技有限公司" in text
    assert chinese_uppercase(Decimal("12345.67")) == UPPERCASE
    assert f"人民币{UPPERCASE}" in _compact(text)  # in both languages
    assert len(re.findall(r"SKU-\d{4}", text)) == 4
    assert "12,345.67" in text
    assert quote.number in text
    assert "付款方式" in text
    assert "91310115MA1K4ABC12" in text  # letterhead: tax ID
    if language == "en":
        assert "Shanghai Kehu Software Co., Ltd." in text
        assert "Quotation" in text
        assert "Page 1 of 1" in text
    else:
        assert "上海客户软件有限公司" in text
        assert "大写金额" in text


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_font_is_embedded_as_a_subset(language: str) -> None:
    data = quote_pdf(priced_quote(lines=2), language=language)
    rows = pdf_fonts(data)
    assert rows, "the PDF names no font"
    for row in rows:
        name, emb, sub = row[0], row[-5], row[-4]
        assert (emb, sub) == ("yes", "yes"), row
        assert "NotoSansSC" in name
    assert len(data) < 200_000  # a subset, not the 10 MB font


def test_quote_language_is_the_default_and_override_wins() -> None:
    quote = priced_quote(lines=1, language="en")
    assert "Quotation" in pdf_text(quote_pdf(quote))
    assert quote_pdf_filename(quote) == f"{quote.number}-en.pdf"
    assert quote_pdf_filename(quote, "zh-hans") == f"{quote.number}-zh.pdf"


def test_two_hundred_lines_paginate_with_repeated_heading_and_page_numbers() -> None:
    quote = priced_quote(lines=210)
    data = quote_pdf(quote, language="en")
    pages = pdf_pages(data)
    assert pages >= 5
    text = pdf_text(data)
    assert len(re.findall(r"SKU-\d{4}", text)) == 210
    assert text.count("Unit price") == pages  # the table heading on every page
    assert f"Page {pages} of {pages}" in text
    assert f"人民币{UPPERCASE}" in _compact(text)


def test_letterhead_logo_is_drawn() -> None:
    letterhead()
    from kehu.users.tests.factories import UserFactory

    admin = UserFactory(is_superuser=True)
    company_profile_update(
        by=admin, data={}, logo=SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")
    )
    data = quote_pdf(priced_quote(lines=1), language="en")
    assert b"/Subtype /Image" in data


def test_logo_checks_type_and_size() -> None:
    with pytest.raises(CompanyProfileError) as bad_type:
        check_logo(SimpleUploadedFile("logo.gif", b"GIF89a" + b"\0" * 20, content_type="image/gif"))
    assert "logo" in bad_type.value.fields
    big = SimpleUploadedFile("logo.png", b"\0" * (1024 * 1024 + 1), content_type="image/png")
    with pytest.raises(CompanyProfileError):
        check_logo(big)
    assert check_logo(SimpleUploadedFile("l.jpg", png_bytes(kind="JPEG"), content_type="image/jpeg")) == "jpg"


def test_usd_quote_shows_code_in_words_and_numbers_without_trailing_zeros() -> None:
    quote = priced_quote(lines=1, currency="USD")
    assert amount_in_words(quote) == f"USD{UPPERCASE}"
    assert number(Decimal("3.5000")) == "3.5"
    assert number(Decimal("10.0000")) == "10"


def test_fonts_are_parsed_once_per_process(monkeypatch: Any) -> None:
    pdf_module.load_fonts()
    calls: list[str] = []
    original = pdf_module._load_font

    def counting(*args: Any) -> Any:
        calls.append("load")
        return original(*args)

    monkeypatch.setattr(pdf_module, "_load_font", counting)
    quote = priced_quote(lines=1)
    quote_pdf(quote, language="en")
    quote_pdf(quote, language="zh-hans")
    assert calls == []


def test_missing_font_folder_says_how_to_fix(monkeypatch: Any, settings: Any, tmp_path: Any) -> None:
    monkeypatch.setattr(pdf_module, "_font_cache", {})
    settings.KEHU_PDF_FONT_DIR = str(tmp_path)
    with pytest.raises(pdf_module.FontsMissingError, match="make assets"):
        pdf_module.load_fonts()
