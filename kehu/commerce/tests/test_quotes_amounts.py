"""What the quote page and the approvals inbox show of amounts: every amount, unit prices included,
with the quote currency's decimal places (CNY 2, JPY 0; a unit price priced finer keeps its
decimals), thousands grouped in English and in 简体中文; and the quote form's "Terms" field."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from kehu.catalog.models import Currency

from ..choices import ApprovalRuleKind
from ..forms_quotes import QuoteForm
from ..services import quotes as svc
from .factories import ApprovalRuleFactory
from .quote_fixtures import world  # noqa: F401

# ruff: noqa: F811

pytestmark = pytest.mark.django_db
D = Decimal


def _cells(page: str) -> list[str]:
    """The text of the lines table's cells, tags stripped."""
    table = page[page.index("data-quote-lines") : page.index("</table>", page.index("data-quote-lines"))]
    return [re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", table, re.S)]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_unit_prices_and_amounts_show_the_currency_decimals(world: Any, client: Any, language: str) -> None:
    quote = svc.quote_create(by=world.rep1, account=world.account)
    svc.quote_line_add(
        quote=quote, by=world.rep1, data={"product": world.product, "quantity": "5", "unit_price": "18000"}
    )
    svc.quote_line_add(
        quote=quote, by=world.rep1, data={"product": world.cheap, "quantity": "8", "unit_price": "0.125"}
    )
    world.rep1.language = language
    world.rep1.save(update_fields=["language"])
    client.force_login(world.rep1)
    page = client.get(f"/commerce/quotes/{quote.pk}/").content.decode()
    cells = _cells(page)
    assert "18,000.00" in cells  # the unit price, as the line totals are shown
    assert "0.125" in cells  # priced finer than the currency: its decimals are kept
    assert "90,000.00" in cells  # the line's net amount
    assert "CNY 101,701.06" in page  # 90,000 + 13 % = 101,700.00; 1.00 + 6 % = 1.06


def test_amounts_of_a_currency_without_decimals(world: Any, client: Any) -> None:
    Currency.objects.update_or_create(
        code="JPY", defaults={"name": "日元", "is_active": True, "minor_unit": 0}
    )
    quote = svc.quote_create(by=world.rep1, account=world.account, currency="JPY")
    svc.quote_line_add(
        quote=quote, by=world.rep1, data={"product": world.product, "quantity": "3", "unit_price": "12500"}
    )
    client.force_login(world.rep1)
    with translation.override("en"):
        page = client.get(f"/commerce/quotes/{quote.pk}/").content.decode()
    cells = _cells(page)
    assert "12,500" in cells and "37,500" in cells
    assert "12,500.00" not in page and "JPY 42,375" in page  # 37,500 + 13 % tax, no decimals


def test_inbox_total_uses_the_quote_currency_decimals(world: Any, client: Any) -> None:
    Currency.objects.update_or_create(
        code="JPY", defaults={"name": "日元", "is_active": True, "minor_unit": 0}
    )
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=D("5"))
    quote = svc.quote_create(by=world.rep1, account=world.account, currency="JPY")
    svc.quote_line_add(
        quote=quote,
        by=world.rep1,
        data={"product": world.product, "quantity": "10", "unit_price": "1000", "discount_percent": "10"},
    )
    svc.quote_submit(quote=quote, by=world.rep1)
    client.force_login(world.manager1)
    page = client.get("/commerce/approvals/").content.decode()
    assert "JPY 10,170" in page and "10,170.00" not in page  # 9,000 + 13 %


def test_terms_field_has_a_translatable_label_and_help_text(world: Any) -> None:
    field = QuoteForm(user=world.rep1).fields["terms"]
    assert str(field.label) == "Terms"
    assert "validity, payment and delivery" in str(field.help_text)
    # the model's strings are lazy (translated when shown), the label with a context
    from ..models import Quote

    terms = Quote._meta.get_field("terms")
    assert type(terms.verbose_name).__name__ == "__proxy__"
    assert type(terms.help_text).__name__ == "__proxy__"
