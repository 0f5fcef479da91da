"""Where a line's price came from is stored language-neutral and shown in the reader's language:
order lines priced from a price list keep the token (`ResolvedPrice.stored_source`); the quote,
order and opportunity pages and line forms show tokens and the sentences stored before them (in
English or in Chinese) in the reader's language, and a note typed by hand as it is."""

# ruff: noqa: F811

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kehu.core.choices import Action, Scope
from kehu.sales.tests.factories import OpportunityFactory
from kehu.sales.tests.opportunity_line_fixtures import OpportunityLineFactory
from kehu.users.tests.factories import grant

from ..models import OrderLine
from ..services.orders import order_line_add, order_line_update
from .factories import OrderFactory, OrderLineFactory, QuoteFactory, QuoteLineFactory
from .quote_fixtures import world  # noqa: F401

pytestmark = pytest.mark.django_db
D = Decimal
HTMX = {"HX-Request": "true"}
EN, ZH = "en", "zh-hans"
# (stored, what an English reader sees, what a Chinese reader sees)
SOURCES = [
    ("@pricelist:标准价|100", "From price list 标准价, tier ≥ 100", "来自价目表 标准价，数量 ≥ 100 档"),
    ("From price list 标准价 2026", "From price list 标准价 2026", "来自价目表 标准价 2026"),
    (
        "来自价目表 大客户价，数量 ≥ 50 档",
        "From price list 大客户价, tier ≥ 50",
        "来自价目表 大客户价，数量 ≥ 50 档",
    ),
    ("按框架合同 2026 定价", "按框架合同 2026 定价", "按框架合同 2026 定价"),
]


def _reader(world: Any, language: str) -> Any:
    """rep1, reading `language`, who may view and change orders and opportunities."""
    for label in ("commerce.order", "sales.opportunity"):
        grant(world.role_rep, label, Action.VIEW, Action.ADD, Action.CHANGE, scope=Scope.ALL)
    user = world.rep1
    user.language = language
    user.save(update_fields=["language"])
    return user


def _get(client: Any, user: Any, url: str, **kwargs: Any) -> str:
    client.force_login(user)
    response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return response.content.decode()


def test_an_order_line_priced_from_a_price_list_keeps_the_token(world: Any) -> None:
    _reader(world, ZH)
    order = OrderFactory.create(owner=world.rep1, account=world.account, currency="CNY")
    line = order_line_add(order=order, by=world.rep1, data={"product": world.product, "quantity": "2"})
    assert (line.unit_price, line.price_source) == (D("100"), f"@pricelist:{world.price_list.name}|")
    line = order_line_update(line=line, by=world.rep1, data={"quantity": "150"})
    assert (line.unit_price, line.price_source) == (D("90"), f"@pricelist:{world.price_list.name}|100")
    line = order_line_update(line=line, by=world.rep1, data={"unit_price": "85"})
    assert OrderLine.objects.get(pk=line.pk).price_source == ""  # typed by hand


@pytest.mark.parametrize("language", [EN, ZH])
def test_order_page_shows_the_source_in_the_readers_language(world: Any, client: Any, language: str) -> None:
    order = OrderFactory.create(owner=world.rep1, account=world.account)
    for stored, *_ in SOURCES:
        OrderLineFactory.create(order=order, price_source=stored)
    page = _get(client, _reader(world, language), order.get_absolute_url())
    for stored, english, chinese in SOURCES:
        assert (english if language == EN else chinese) in page, stored
    if language == EN:
        assert "来自价目表" not in page
    else:
        assert "From price list" not in page


@pytest.mark.parametrize("language", [EN, ZH])
def test_quote_page_and_line_form_show_the_source_in_the_readers_language(
    world: Any, client: Any, language: str
) -> None:
    quote = QuoteFactory.create(owner=world.rep1, account=world.account)
    lines = [QuoteLineFactory.create(quote=quote, price_source=stored) for stored, *_ in SOURCES]
    user = _reader(world, language)
    page = _get(client, user, quote.get_absolute_url())
    for stored, english, chinese in SOURCES:
        assert (english if language == EN else chinese) in page, stored
    for line, (_stored, english, chinese) in zip(lines, SOURCES, strict=True):
        form = _get(client, user, f"/commerce/quotes/{quote.pk}/lines/{line.pk}/edit/", headers=HTMX)
        assert (english if language == EN else chinese) in form


@pytest.mark.parametrize("language", [EN, ZH])
def test_quote_line_price_preview_in_the_readers_language(world: Any, client: Any, language: str) -> None:
    quote = QuoteFactory.create(owner=world.rep1, account=world.account)
    url = f"/commerce/quotes/{quote.pk}/lines/price/?product={world.product.pk}&quantity=150"
    page = _get(client, _reader(world, language), url, headers=HTMX)
    name = world.price_list.name
    expected = (
        f"From price list {name}, tier ≥ 100" if language == EN else f"来自价目表 {name}，数量 ≥ 100 档"
    )
    assert expected in page and 'value="90"' in page


@pytest.mark.parametrize("language", [EN, ZH])
def test_opportunity_lines_show_the_source_in_the_readers_language(
    world: Any, client: Any, language: str
) -> None:
    opp = OpportunityFactory.create(owner=world.rep1, account=world.account)
    lines = [OpportunityLineFactory.create(opportunity=opp, price_source=stored) for stored, *_ in SOURCES]
    user = _reader(world, language)
    page = _get(client, user, f"/sales/opportunities/{opp.pk}/")
    for stored, english, chinese in SOURCES:
        assert (english if language == EN else chinese) in page, stored
    for line, (_stored, english, chinese) in zip(lines, SOURCES, strict=True):
        form = _get(client, user, f"/sales/opportunities/{opp.pk}/lines/{line.pk}/edit/", headers=HTMX)
        assert (english if language == EN else chinese) in form
