"""A line's price source is kept as a language-neutral token (`ResolvedPrice.stored_source`) and
written out in the reader's language (`price_source_text`, the ``price_source`` filter); sentences
stored before the tokens, in English or in Chinese, show in the reader's language too; a note typed
by hand shows as stored."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from kehu.catalog.models import PriceList
from kehu.catalog.selectors import (
    PRICE_SOURCE_HAND,
    ResolvedPrice,
    price_for,
    price_source_text,
    price_source_token,
)

from .factories import PriceListFactory, PriceListItemFactory, ProductFactory

D = Decimal
EN, ZH = "en", "zh-hans"


def _text(stored: str, language: str) -> str:
    with translation.override(language):
        return price_source_text(stored)


@pytest.mark.django_db
def test_a_resolved_price_stores_a_token_and_still_explains_itself() -> None:
    product = ProductFactory.create()
    price_list = PriceListFactory.create(name="标准价 2026")
    PriceListItemFactory.create(price_list=price_list, product=product, unit_price=D("100"))
    PriceListItemFactory.create(
        price_list=price_list, product=product, unit_price=D("90"), min_quantity=D("100")
    )
    base = price_for(product=product, currency="CNY", quantity=D("10"))
    tier = price_for(product=product, currency="CNY", quantity=D("150"))
    assert base is not None and tier is not None
    assert base.stored_source == "@pricelist:标准价 2026|"
    assert tier.stored_source == "@pricelist:标准价 2026|100"
    with translation.override(ZH):
        assert tier.explanation == "来自价目表 标准价 2026，数量 ≥ 100 档"  # live previews keep it
    assert _text(base.stored_source, EN) == "From price list 标准价 2026"
    assert _text(base.stored_source, ZH) == "来自价目表 标准价 2026"
    assert _text(tier.stored_source, EN) == "From price list 标准价 2026, tier ≥ 100"
    assert _text(tier.stored_source, ZH) == "来自价目表 标准价 2026，数量 ≥ 100 档"


@pytest.mark.parametrize(
    ("name", "tier", "stored"),
    [
        ("Standard", D("1"), "@pricelist:Standard|"),
        ("Standard", None, "@pricelist:Standard|"),
        ("A|B list", D("2.50"), "@pricelist:A|B list|2.5"),
        ("Bulk", D("1E+3"), "@pricelist:Bulk|1000"),
    ],
)
def test_tokens_round_trip(name: str, tier: Decimal | None, stored: str) -> None:
    token = price_source_token(name=name, min_quantity=tier)
    assert token == stored
    tier_text = stored.rpartition("|")[2]
    expected = f"From price list {name}" + (f", tier ≥ {tier_text}" if tier_text else "")
    assert _text(token, EN) == expected


def test_a_resolved_price_without_a_database_row_gives_the_same_token() -> None:
    price_list = PriceList(name="VIP")
    resolved = ResolvedPrice(unit_price=D("9"), price_list=price_list, min_quantity=D("50"), specificity=0)
    assert resolved.stored_source == "@pricelist:VIP|50"


@pytest.mark.parametrize(
    ("stored", "english", "chinese"),
    [
        # English sentences written by an English reader, read in Chinese (and back)
        ("From price list 标准价 2026", "From price list 标准价 2026", "来自价目表 标准价 2026"),
        (
            "From price list 标准价, tier ≥ 100",
            "From price list 标准价, tier ≥ 100",
            "来自价目表 标准价，数量 ≥ 100 档",
        ),
        ("From price list Export, EU", "From price list Export, EU", "来自价目表 Export, EU"),
        # Chinese sentences written by a Chinese reader, read in English
        ("来自价目表 标准价 2026", "From price list 标准价 2026", "来自价目表 标准价 2026"),
        (
            "来自价目表 大客户价，数量 ≥ 2.5 档",
            "From price list 大客户价, tier ≥ 2.5",
            "来自价目表 大客户价，数量 ≥ 2.5 档",
        ),
        # a price typed by hand, stored either way
        (PRICE_SOURCE_HAND, "Entered by hand", "手动输入"),
        ("Entered by hand", "Entered by hand", "手动输入"),
        ("手动输入", "Entered by hand", "手动输入"),
    ],
)
def test_stored_sentences_show_in_the_readers_language(stored: str, english: str, chinese: str) -> None:
    assert _text(stored, EN) == english
    assert _text(stored, ZH) == chinese


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "Special price agreed with 王经理",
        "按合同价 2026-03",
        "from price list lowercase",
        "From price list",
    ],
)
def test_other_text_shows_as_stored(stored: str) -> None:
    assert _text(stored, EN) == stored
    assert _text(stored, ZH) == stored


def test_price_source_text_takes_none() -> None:
    assert price_source_text(None) == ""


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (EN, "From price list 标准价 &lt;A&gt;, tier ≥ 100"),
        (ZH, "来自价目表 标准价 &lt;A&gt;，数量 ≥ 100 档"),
    ],
)
def test_the_filter_writes_the_source_in_the_readers_language_escaped(language: str, expected: str) -> None:
    template = Template("{% load kehu_catalog %}<p>{{ source|price_source }}</p>")
    with translation.override(language):
        html = template.render(Context({"source": "@pricelist:标准价 <A>|100"}))
    assert html == f"<p>{expected}</p>"
