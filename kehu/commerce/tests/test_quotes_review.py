"""Issue 7 review findings on quotes: amounts the money columns cannot hold are field errors (service,
API, line modal; never a 500), a quote from an opportunity keeps the lines' currency, the edit page
of a quote that is no draft explains why, one whole sentence per refused move, translated API
messages, list amounts with the currency's decimals, approval reasons over the API in the reader's
language."""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import translation

from ..choices import ApprovalRuleKind, QuoteStatus
from ..models import Quote, QuoteApproval
from ..services import quotes as svc
from ..services.approvals import QuoteError, QuoteStateError
from ..tables_contracts import MoneyColumn as ContractMoneyColumn
from ..tables_payments import MoneyColumn as PaymentMoneyColumn
from ..tables_quotes import TotalColumn
from .factories import ApprovalRuleFactory
from .quote_fixtures import make_quote, world  # noqa: F401

# ruff: noqa: F811

pytestmark = pytest.mark.django_db
D = Decimal
API = "/api/v1/commerce/"
HTMX = {"HX-Request": "true"}
HUGE = {"description": "巨大", "quantity": "10000000000000", "unit_price": "10000000"}  # 1e13 × 1e7


def _post(client: Any, url: str, data: Any = None, **kwargs: Any) -> Any:
    return client.post(url, data or {}, content_type="application/json", **kwargs)


# --- 1. amounts too large for the money columns ---------------------------------------------------


def test_line_amount_too_large_is_a_field_error_in_the_service(world: Any) -> None:
    quote = make_quote(world)
    before = (quote.lines.count(), Quote.objects.get(pk=quote.pk).total)
    with pytest.raises(QuoteError) as exc:
        svc.quote_line_add(quote=quote, by=world.rep1, data=HUGE)
    assert set(exc.value.fields) == {"quantity", "unit_price"}
    assert "too large" in exc.value.fields["quantity"][0]
    line = quote.lines.get()
    with pytest.raises(QuoteError) as exc:
        svc.quote_line_update(line=line, by=world.rep1, data={"quantity": "10000000000000"})
    assert "quantity" in exc.value.fields
    with pytest.raises(QuoteError) as exc:
        svc.quote_line_add(quote=quote, by=world.rep1, data={**HUGE, "quantity": "1", "unit_price": "1e15"})
    assert list(exc.value.fields) == ["unit_price"]
    assert (quote.lines.count(), Quote.objects.get(pk=quote.pk).total) == before


def test_quote_total_too_large_is_a_field_error(world: Any) -> None:
    """Lines that each fit may not add up past the quote's total column either."""
    quote = svc.quote_create(by=world.rep1, account=world.account)
    # 99,999,999,999,999 × 1 + 13 % tax does not fit 14 integer digits
    with pytest.raises(QuoteError) as exc:
        svc.quote_line_add(
            quote=quote, by=world.rep1, data={"product": world.product, "quantity": "99999999999999"}
        )
    assert "quantity" in exc.value.fields
    assert not quote.lines.exists()


def test_line_amount_too_large_over_the_api_is_400_with_fields(world: Any, client: Any) -> None:
    quote = make_quote(world)
    client.force_login(world.rep1)
    response = _post(client, f"{API}quotes/{quote.pk}/lines/", HUGE)
    assert response.status_code == 400, response.content
    assert {"quantity", "unit_price"} <= set(response.json()["fields"])
    line = quote.lines.get()
    response = client.patch(
        f"{API}quote-lines/{line.pk}/",
        {"quantity": "10000000000000", "unit_price": "10000000"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "quantity" in response.json()["fields"]
    assert quote.lines.count() == 1


def test_line_amount_too_large_in_the_modal_is_a_form_error(world: Any, client: Any) -> None:
    quote = make_quote(world)
    client.force_login(world.rep1)
    response = client.post(f"/commerce/quotes/{quote.pk}/lines/add/", HUGE, headers=HTMX)
    assert response.status_code == 200 and "too large" in response.content.decode()
    assert quote.lines.count() == 1


def test_price_preview_caps_a_huge_quantity(world: Any, client: Any) -> None:
    quote = make_quote(world)
    client.force_login(world.rep1)
    response = client.get(
        f"/commerce/quotes/{quote.pk}/lines/price/",
        {"product": world.product.pk, "quantity": "1e999999"},
        headers=HTMX,
    )
    assert response.status_code == 200
    toast = json.loads(response["HX-Trigger"])["kehu:toast"]
    assert toast["level"] == "warning" and "99,999,999,999,999" in toast["message"]
    assert 'value="90"' in response.content.decode()  # the ≥ 100 tier, for the capped quantity


# --- 2. a quote from an opportunity in another currency ---------------------------------------------


def _opportunity_with_lines(world: Any) -> Any:
    from kehu.sales.models import OpportunityLine
    from kehu.sales.tests.factories import OpportunityFactory

    opp = OpportunityFactory.create(owner=world.rep1, account=world.account, currency="CNY")
    OpportunityLine.objects.create(
        opportunity=opp, product=world.product, quantity=D("3"), unit_price=D("100"), tax_rate=D("13")
    )
    return opp


def test_quote_from_opportunity_in_another_currency_is_refused(world: Any, client: Any) -> None:
    opp = _opportunity_with_lines(world)
    with pytest.raises(QuoteError) as exc:
        svc.quote_create(by=world.rep1, opportunity=opp, currency="USD")
    assert exc.value.fields["currency"] == [
        "The opportunity's lines are in CNY: quote in CNY, or start the quote from the account."
    ]
    client.force_login(world.rep1)
    response = _post(client, f"{API}quotes/", {"opportunity": opp.pk, "currency": "USD"})
    assert response.status_code == 400 and "currency" in response.json()["fields"]
    assert not Quote.objects.exists()
    # the opportunity's own currency (given or not) copies the lines
    quote = svc.quote_create(by=world.rep1, opportunity=opp, currency="cny")
    assert quote.currency == "CNY" and quote.lines.get().gross == D("300.00")


def test_quote_from_opportunity_without_lines_may_take_another_currency(world: Any) -> None:
    from kehu.sales.tests.factories import OpportunityFactory

    opp = OpportunityFactory.create(owner=world.rep1, account=world.account, currency="CNY")
    assert svc.quote_create(by=world.rep1, opportunity=opp, currency="USD").currency == "USD"


# --- 3. the edit page of a quote that is no draft ---------------------------------------------------


def _approved(world: Any) -> Quote:
    quote = make_quote(world)
    return svc.quote_submit(quote=quote, by=world.rep1)  # no rule: approved at once


def test_edit_page_of_an_approved_quote_explains(world: Any, client: Any) -> None:
    quote = _approved(world)
    assert quote.status == QuoteStatus.APPROVED
    client.force_login(world.rep1)
    response = client.get(
        f"/commerce/quotes/{quote.pk}/edit/", follow=True, headers={"Accept-Language": "en"}
    )
    assert response.redirect_chain == [(quote.get_absolute_url(), 302)]
    assert "only a draft can be changed" in response.content.decode()
    htmx = client.get(f"/commerce/quotes/{quote.pk}/edit/", headers=HTMX)
    assert htmx.status_code == 200 and htmx["HX-Reswap"] == "none"
    toast = json.loads(htmx["HX-Trigger"])["kehu:toast"]
    assert toast["level"] == "error" and "only a draft can be changed" in toast["message"]
    posted = client.post(f"/commerce/quotes/{quote.pk}/edit/", {"name": "改"})
    assert posted.status_code == 302
    assert Quote.objects.get(pk=quote.pk).name == quote.name


def test_edit_page_of_an_accepted_quote_explains(world: Any, client: Any) -> None:
    quote = svc.quote_accept(quote=_approved(world), by=world.rep1)
    client.force_login(world.rep1)
    response = client.get(f"/commerce/quotes/{quote.pk}/edit/", follow=True)
    assert response.status_code == 200 and response.redirect_chain[0][1] == 302


def test_edit_page_out_of_scope_is_still_404(world: Any, client: Any) -> None:
    quote = _approved(world)
    client.force_login(world.rep2)
    assert client.get(f"/commerce/quotes/{quote.pk}/edit/").status_code == 404


# --- 4. one whole sentence per refused move -----------------------------------------------------------


def test_each_refused_move_has_its_own_sentence(world: Any) -> None:
    quote = svc.quote_accept(quote=_approved(world), by=world.rep1)
    calls = {
        "submitted": lambda: svc.quote_submit(quote=quote, by=world.rep1),
        "recalled": lambda: svc.quote_recall(quote=quote, by=world.rep1),
        "sent": lambda: svc.quote_mark_sent(quote=quote, by=world.rep1),
        "accepted": lambda: svc.quote_accept(quote=quote, by=world.rep1),
        "declined": lambda: svc.quote_reject_by_customer(quote=quote, by=world.rep1, reason="x"),
        "revised": lambda: svc.quote_revise(quote=quote, by=world.rep1),
        "approved or rejected": lambda: svc.quote_approve(quote=quote, by=world.manager1),
    }
    with translation.override("en"):
        for verb, call in calls.items():
            with pytest.raises(QuoteStateError) as exc:
                call()
            assert str(exc.value.message) == f"A quote that is “Accepted” cannot be {verb}.", verb
    # the sentences are whole message ids (a translator never sees a lone "submitted")
    for move in ("submit", "decide", "recall", "send", "accept", "decline", "revise", "delete"):
        assert svc._state_message(move).startswith("A quote that is “%(status)s” cannot be ")


# --- 5. API messages are translated ------------------------------------------------------------------


def test_api_messages_are_translated(world: Any, client: Any) -> None:
    client.force_login(world.rep1)
    zh = {"Accept-Language": "zh-hans"}
    with translation.override("zh-hans"):
        required = translation.gettext("This field is required.")
        expected = translation.gettext("Choose an opportunity you can see.")
    assert required != "This field is required." and expected != "Choose an opportunity you can see."
    response = _post(client, f"{API}quotes/", {"name": "x"}, headers=zh)
    assert response.status_code == 400
    assert response.json()["fields"]["account"] == [required]
    response = _post(client, f"{API}quotes/", {"opportunity": 999999}, headers=zh)
    assert response.json()["fields"]["opportunity"] == [expected]


# --- 6. list amounts with the currency's decimals --------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "shown"), [("JPY", "JPY 1,235"), ("KWD", "KWD 1,234.500"), ("CNY", "CNY 1,234.50")]
)
def test_list_amounts_use_the_currency_decimals(world: Any, currency: str, shown: str) -> None:
    record = SimpleNamespace(currency=currency, total=D("1234.5"), value=D("1234.5"), amount=D("1234.5"))
    for column in (
        TotalColumn("total", "Total"),
        ContractMoneyColumn("value", "Value"),
        PaymentMoneyColumn("amount", "Amount"),
    ):
        prepared = column.prepare([record])
        assert shown in str(prepared.render(record)), column
        assert shown in str(column.render(record)), column  # unprepared: read on the spot


def test_quote_list_shows_yen_without_decimals(world: Any, client: Any) -> None:
    from kehu.catalog.models import Currency

    Currency.objects.update_or_create(
        code="JPY", defaults={"name": "日元", "is_active": True, "minor_unit": 0}
    )
    quote = svc.quote_create(by=world.rep1, account=world.account, currency="JPY")
    svc.quote_line_add(
        quote=quote, by=world.rep1, data={"description": "x", "quantity": "3", "unit_price": "12500"}
    )
    client.force_login(world.rep1)
    page = client.get("/commerce/quotes/").content.decode()
    assert "JPY 37,500" in page and "JPY 37,500.00" not in page


# --- 7. approval reasons over the API ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Discount 20 % is above 10 %"), ("zh-hans", "折扣 20 % 超过 10 %")],
)
def test_api_approval_reason_in_the_readers_language(
    world: Any, client: Any, language: str, expected: str
) -> None:
    ApprovalRuleFactory.create(kind=ApprovalRuleKind.DISCOUNT_ABOVE, threshold=D("10"))
    quote = svc.quote_create(by=world.rep1, account=world.account)
    svc.quote_line_add(
        quote=quote, by=world.rep1, data={"product": world.product, "quantity": "1", "discount_percent": "20"}
    )
    other = "en" if language == "zh-hans" else "zh-hans"
    with translation.override(other):  # the submitter reads the other language
        svc.quote_submit(quote=quote, by=world.rep1)
    step = QuoteApproval.objects.get(quote=quote)
    assert step.reason != expected  # stored in the submitter's language
    client.force_login(world.manager1)
    inbox = client.get(f"{API}approvals/", headers={"Accept-Language": language}).json()
    rows = inbox.get("results", inbox)
    assert [(r["reason"], r["reason_data"]) for r in rows] == [
        (expected, {"rule": "discount_above", "limit": "10", "actual": "20"})
    ]
    body = client.get(f"{API}quotes/{quote.pk}/", headers={"Accept-Language": language}).json()
    assert [a["reason"] for a in body["approvals"]] == [expected]
