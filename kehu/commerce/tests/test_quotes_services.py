"""Quote services: creation and numbering, lines and totals (discounts, taxes, rounding), bad
input, editing rules, status moves and versions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from kehu.audit.models import TimelineEvent
from kehu.core.errors import DomainError, PermissionDeniedError

from ..choices import QuoteStatus
from ..models import Quote, QuoteLine
from ..services import quotes as svc
from ..services.approvals import QuoteError, QuoteStateError
from .quote_fixtures import make_quote, world  # noqa: F401

# ruff: noqa: F811

pytestmark = pytest.mark.django_db
D = Decimal


def _snapshot(quote: Quote) -> tuple[Any, ...]:
    quote.refresh_from_db()
    lines = list(quote.lines.values_list("id", "quantity", "unit_price", "discount", "total"))
    return (quote.status, quote.total, quote.version, quote.name, lines)


# --- create, number -----------------------------------------------------------------------------


def test_create_from_account_gets_a_number_and_defaults(world: Any) -> None:
    quote = svc.quote_create(by=world.rep1, account=world.account)
    assert quote.number.startswith("QT")
    assert quote.status == QuoteStatus.DRAFT and quote.is_latest and quote.revision == 1
    assert quote.owner == world.rep1 and quote.department == world.north
    assert quote.currency == "CNY" and quote.valid_until == quote.quote_date + dt.timedelta(days=30)
    second = svc.quote_create(by=world.rep1, account=world.account)
    assert second.number != quote.number
    assert TimelineEvent.objects.filter(
        event="quote.created", object_id=quote.pk, account_id=world.account.pk
    ).exists()


def test_create_refuses_an_account_out_of_sight_and_unknown_currency(world: Any) -> None:
    with pytest.raises(PermissionDeniedError):
        svc.quote_create(by=world.nobody, account=world.account)
    with pytest.raises(QuoteError) as exc:
        svc.quote_create(by=world.rep1, account=world.account, currency="XYZ")
    assert "currency" in exc.value.fields
    assert Quote.objects.count() == 0


def test_create_from_opportunity_copies_header_and_lines(world: Any) -> None:
    from kehu.sales.tests.factories import OpportunityFactory

    opp = OpportunityFactory.create(owner=world.rep1, account=world.account, currency="CNY", name="大单")
    if hasattr(opp, "lines"):
        from kehu.sales.models import OpportunityLine

        OpportunityLine.objects.create(
            opportunity=opp,
            product=world.product,
            description="从商机",
            quantity=D("3"),
            unit_price=D("100"),
            discount_percent=D("10"),
            tax_rate=D("13"),
        )
    quote = svc.quote_create(by=world.rep1, opportunity=opp)
    assert quote.account == world.account and quote.opportunity == opp and quote.name == "大单"
    if hasattr(opp, "lines"):
        line = quote.lines.get()
        assert (line.quantity, line.discount, line.net, line.tax) == (
            D("3"),
            D("30.00"),
            D("270.00"),
            D("35.10"),
        )
        assert quote.total == D("305.10") and line.unit_cost == D("60")


def _project_priced_opportunity(world: Any, **kwargs: Any) -> Any:
    """An opportunity whose line was priced from 项目价 (80.00; a list `price_for` would not pick
    for this account: it is for VIP customers), next to the standard list (100.00)."""
    from kehu.catalog.tests.factories import PriceListFactory, PriceListItemFactory
    from kehu.sales.models import OpportunityLine
    from kehu.sales.tests.factories import OpportunityFactory

    project = PriceListFactory.create(name="项目价", currency=world.cny, customer_level="VIP")
    PriceListItemFactory.create(price_list=project, product=world.product, unit_price=D("80"))
    PriceListItemFactory.create(price_list=project, product=world.cheap, unit_price=D("7"))
    opp = OpportunityFactory.create(owner=world.rep1, account=world.account, currency="CNY", name="项目")
    OpportunityLine.objects.create(
        opportunity=opp,
        product=world.product,
        quantity=D("3"),
        unit_price=D("80"),
        price_list=project,
        price_source="From price list 项目价",
        tax_rate=D("13"),
        **kwargs,
    )
    return opp, project


def test_create_from_opportunity_takes_its_price_list(world: Any) -> None:
    opp, project = _project_priced_opportunity(world)
    quote = svc.quote_create(by=world.rep1, opportunity=opp)
    assert quote.price_list == project and quote.currency == "CNY"
    line = quote.lines.get()
    # re-priced lines resolve from the opportunity's list, not from the one `price_for` picks
    changed = svc.quote_line_update(line=line, by=world.rep1, data={"quantity": "5"})
    assert changed.unit_price == D("80") and changed.price_source == "@pricelist:项目价|"
    added = svc.quote_line_add(quote=quote, by=world.rep1, data={"product": world.cheap, "quantity": "1"})
    assert added.unit_price == D("7") and added.price_source == "@pricelist:项目价|"


def test_create_from_opportunity_price_list_rules(world: Any) -> None:
    opp, project = _project_priced_opportunity(world)
    # a list chosen wins; "none" from a form that offered the opportunity's stays none
    assert svc.quote_create(by=world.rep1, opportunity=opp, price_list=world.price_list).price_list == (
        world.price_list
    )
    assert (
        svc.quote_create(by=world.rep1, opportunity=opp, price_list_from_opportunity=False).price_list is None
    )
    # a quote in another currency than the lines' is refused (their prices are not converted);
    # an inactive list is not taken
    with pytest.raises(QuoteError) as refused:
        svc.quote_create(by=world.rep1, opportunity=opp, currency="USD")
    assert "currency" in refused.value.fields
    project.is_active = False
    project.save(update_fields=["is_active"])
    assert svc.quote_create(by=world.rep1, opportunity=opp).price_list is None


# --- lines and totals -----------------------------------------------------------------------------


def test_line_price_from_price_list_with_explanation_and_tier(world: Any) -> None:
    quote = svc.quote_create(by=world.rep1, account=world.account)
    line = svc.quote_line_add(quote=quote, by=world.rep1, data={"product": world.product, "quantity": "2"})
    assert line.unit_price == D("100") and line.price_source == "@pricelist:标准价|"
    assert line.unit_cost == D("60") and line.tax_rate == D("13") and line.product_code == world.product.code
    tier = svc.quote_line_add(quote=quote, by=world.rep1, data={"product": world.product, "quantity": "100"})
    assert tier.unit_price == D("90") and tier.price_source.endswith("|100")


def test_totals_with_discounts_and_taxes(world: Any) -> None:
    quote = svc.quote_create(by=world.rep1, account=world.account)
    # 3 × 33.333 = 99.999 → 100.00; 15 % → 15.00; net 85.00; 13 % → 11.05; total 96.05
    svc.quote_line_add(
        quote=quote,
        by=world.rep1,
        data={"product": world.product, "quantity": "3", "unit_price": "33.333", "discount_percent": "15"},
    )
    # 7 × 10 = 70.00; − 5.555 → 5.56; net 64.44; 6 % → 3.8664 → 3.87; total 68.31
    svc.quote_line_add(
        quote=quote, by=world.rep1, data={"product": world.cheap, "quantity": "7", "discount_amount": "5.555"}
    )
    quote.refresh_from_db()
    assert (quote.subtotal, quote.discount_total, quote.net_total) == (D("170.00"), D("20.56"), D("149.44"))
    assert (quote.tax_total, quote.total) == (D("14.92"), D("164.36"))
    assert quote.total_company == D("164.36") and quote.exchange_rate == D("1")
    lines = list(quote.lines.all())
    assert sum(line.total for line in lines) == quote.total
    assert lines[0].price_source == "@hand"


def test_half_up_rounding_per_line(world: Any) -> None:
    quote = svc.quote_create(by=world.rep1, account=world.account)
    # 0.125 → 0.13 (half-up), tax 13 % of 0.13 = 0.0169 → 0.02
    line = svc.quote_line_add(
        quote=quote, by=world.rep1, data={"product": world.product, "quantity": "1", "unit_price": "0.125"}
    )
    assert (line.gross, line.tax, line.total) == (D("0.13"), D("0.02"), D("0.15"))


def test_usd_quote_company_equivalent(world: Any) -> None:
    quote = svc.quote_create(by=world.rep1, account=world.account, currency="USD", price_list=world.usd_list)
    svc.quote_line_add(quote=quote, by=world.rep1, data={"product": world.product, "quantity": "2"})
    quote.refresh_from_db()
    assert quote.total == D("33.90") and quote.total_company == D("244.08")


def test_update_delete_and_reorder_lines(world: Any) -> None:
    quote = make_quote(world, lines=2)
    first, second = list(quote.lines.all())
    svc.quote_line_update(line=first, by=world.rep1, data={"quantity": "1", "discount_percent": "50"})
    first.refresh_from_db()
    assert (first.unit_price, first.discount, first.total) == (D("100"), D("50.00"), D("56.50"))
    svc.quote_lines_reorder(quote=quote, by=world.rep1, order=[second.pk, first.pk])
    assert list(quote.lines.values_list("pk", flat=True)) == [second.pk, first.pk]
    svc.quote_line_delete(line=second, by=world.rep1)
    quote.refresh_from_db()
    assert quote.total == D("56.50") and quote.lines.count() == 1


def test_stale_version_is_refused(world: Any) -> None:
    quote = make_quote(world)
    before = _snapshot(quote)
    with pytest.raises(DomainError):
        svc.quote_line_add(
            quote=quote, by=world.rep1, data={"product": world.product, "quantity": "1"}, version=1
        )
    assert _snapshot(quote) == before


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"quantity": "1", "discount_percent": "101"}, "discount_percent"),
        ({"quantity": "1", "discount_percent": "-5"}, "discount_percent"),
        ({"quantity": "1", "discount_amount": "100.01"}, "discount_amount"),
        ({"quantity": "1", "discount_amount": "-1"}, "discount_amount"),
        ({"quantity": "1", "discount_amount": "1", "discount_percent": "1"}, "discount_percent"),
        ({"quantity": "1", "unit_price": "-3"}, "unit_price"),
        ({"quantity": "1", "tax_rate": "120"}, "tax_rate"),
    ],
)
def test_bad_line_input_changes_nothing(world: Any, data: dict[str, str], field: str) -> None:
    quote = make_quote(world)
    before = _snapshot(quote)
    with pytest.raises(QuoteError) as exc:
        svc.quote_line_add(quote=quote, by=world.rep1, data={"product": world.product, **data})
    assert field in exc.value.fields and exc.value.fields[field][0]
    assert _snapshot(quote) == before


def test_price_list_currency_mismatch(world: Any) -> None:
    quote = make_quote(world)
    before = _snapshot(quote)
    with pytest.raises(QuoteError) as exc:
        svc.quote_line_add(
            quote=quote,
            by=world.rep1,
            data={"product": world.product, "quantity": "1", "price_list": world.usd_list},
        )
    assert exc.value.fields["price_list"] == ["The price list is in USD, the quote in CNY."]
    with pytest.raises(QuoteError):
        svc.quote_update(quote=quote, by=world.rep1, data={"price_list": world.usd_list})
    with pytest.raises(QuoteError):
        svc.quote_create(by=world.rep1, account=world.account, price_list=world.usd_list)
    assert _snapshot(quote) == before


def test_no_price_needs_a_typed_price(world: Any) -> None:
    from kehu.catalog.tests.factories import ProductFactory

    unpriced = ProductFactory.create()
    quote = make_quote(world)
    with pytest.raises(QuoteError) as exc:
        svc.quote_line_add(quote=quote, by=world.rep1, data={"product": unpriced, "quantity": "1"})
    assert "unit_price" in exc.value.fields


@pytest.mark.parametrize(
    "status", [QuoteStatus.APPROVED, QuoteStatus.ACCEPTED, QuoteStatus.PENDING, QuoteStatus.SENT]
)
def test_editing_a_non_draft_quote_is_refused(world: Any, status: str) -> None:
    quote = make_quote(world)
    Quote.objects.filter(pk=quote.pk).update(status=status)
    line = quote.lines.get()
    before = _snapshot(quote)
    calls = [
        lambda: svc.quote_update(quote=quote, by=world.rep1, data={"name": "x"}),
        lambda: svc.quote_line_add(
            quote=quote, by=world.rep1, data={"product": world.product, "quantity": "1"}
        ),
        lambda: svc.quote_line_update(line=line, by=world.rep1, data={"quantity": "5"}),
        lambda: svc.quote_line_delete(line=line, by=world.rep1),
        lambda: svc.quote_lines_reorder(quote=quote, by=world.rep1, order=[line.pk]),
        lambda: svc.quote_delete(quote=quote, by=world.rep1),
    ]
    for call in calls:
        with pytest.raises(QuoteStateError) as exc:
            call()
        message = str(exc.value.message)
        assert exc.value.status == 409
        assert "only a draft can be changed" in message or "cannot be deleted" in message, message
    assert _snapshot(quote) == before


def test_validity_before_quote_date_refused(world: Any) -> None:
    quote = make_quote(world)
    with pytest.raises(QuoteError) as exc:
        svc.quote_update(
            quote=quote, by=world.rep1, data={"valid_until": quote.quote_date - dt.timedelta(days=1)}
        )
    assert "valid_until" in exc.value.fields


# --- status flow -------------------------------------------------------------------------------------


def test_submit_without_rules_approves_directly_then_send_accept(world: Any) -> None:
    quote = make_quote(world)
    svc.quote_submit(quote=quote, by=world.rep1)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED and quote.approved_at is not None
    svc.quote_mark_sent(quote=quote, by=world.rep1, channel="email")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT and quote.sent_at
    svc.quote_accept(quote=quote, by=world.rep1, note="签了")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED and quote.decision_note == "签了"
    events = list(
        TimelineEvent.objects.filter(object_id=quote.pk, model="commerce.quote").values_list(
            "event", "account_id"
        )
    )
    assert ("quote.approved", world.account.pk) in events and ("quote.sent", world.account.pk) in events
    assert ("quote.accepted", world.account.pk) in events


def test_submit_empty_quote_refused(world: Any) -> None:
    quote = make_quote(world, lines=0)
    with pytest.raises(QuoteError) as exc:
        svc.quote_submit(quote=quote, by=world.rep1)
    assert "lines" in exc.value.fields
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT


def test_customer_decline_needs_a_reason(world: Any) -> None:
    quote = make_quote(world)
    svc.quote_submit(quote=quote, by=world.rep1)
    with pytest.raises(QuoteError):
        svc.quote_reject_by_customer(quote=quote, by=world.rep1, reason="  ")
    svc.quote_reject_by_customer(quote=quote, by=world.rep1, reason="太贵")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.REJECTED and quote.decision_note == "太贵"


@pytest.mark.parametrize(
    ("status", "move"),
    [
        (QuoteStatus.DRAFT, "mark_sent"),
        (QuoteStatus.DRAFT, "accept"),
        (QuoteStatus.DRAFT, "recall"),
        (QuoteStatus.DRAFT, "revise"),
        (QuoteStatus.PENDING, "accept"),
        (QuoteStatus.PENDING, "submit"),
        (QuoteStatus.ACCEPTED, "decline"),
        (QuoteStatus.ACCEPTED, "revise"),
        (QuoteStatus.ACCEPTED, "mark_sent"),
        (QuoteStatus.EXPIRED, "accept"),
        (QuoteStatus.REJECTED, "mark_sent"),
    ],
)
def test_refused_moves(world: Any, status: str, move: str) -> None:
    quote = make_quote(world)
    Quote.objects.filter(pk=quote.pk).update(status=status)
    calls = {
        "mark_sent": lambda: svc.quote_mark_sent(quote=quote, by=world.rep1),
        "accept": lambda: svc.quote_accept(quote=quote, by=world.rep1),
        "decline": lambda: svc.quote_reject_by_customer(quote=quote, by=world.rep1, reason="x"),
        "recall": lambda: svc.quote_recall(quote=quote, by=world.rep1),
        "revise": lambda: svc.quote_revise(quote=quote, by=world.rep1),
        "submit": lambda: svc.quote_submit(quote=quote, by=world.rep1),
    }
    with pytest.raises(QuoteStateError):
        calls[move]()
    quote.refresh_from_db()
    assert quote.status == status and Quote.objects.count() == 1


def test_expire_due(world: Any) -> None:
    quote = make_quote(world)
    svc.quote_submit(quote=quote, by=world.rep1)
    fresh = make_quote(world)
    svc.quote_submit(quote=fresh, by=world.rep1)
    Quote.objects.filter(pk=quote.pk).update(valid_until=dt.date.today() - dt.timedelta(days=1))
    assert svc.quote_expire_due() == 1
    quote.refresh_from_db()
    fresh.refresh_from_db()
    assert quote.status == QuoteStatus.EXPIRED and fresh.status == QuoteStatus.APPROVED
    assert svc.quote_expire_due() == 0


# --- versions ----------------------------------------------------------------------------------------


def test_revise_makes_a_new_draft_version_and_keeps_the_old_read_only(world: Any) -> None:
    quote = make_quote(world, lines=2)
    svc.quote_submit(quote=quote, by=world.rep1)
    new = svc.quote_revise(quote=quote, by=world.rep1)
    quote.refresh_from_db()
    assert (new.number, new.revision, new.status, new.is_latest) == (quote.number, 2, QuoteStatus.DRAFT, True)
    assert new.previous == quote and not quote.is_latest and quote.status == QuoteStatus.APPROVED
    assert new.lines.count() == 2 and new.total == quote.total
    assert str(new) == f"{quote.number} v2"
    with pytest.raises(QuoteStateError) as exc:
        svc.quote_line_add(quote=quote, by=world.rep1, data={"product": world.product, "quantity": "1"})
    assert "earlier version" in str(exc.value.message)
    svc.quote_line_update(line=new.lines.all()[0], by=world.rep1, data={"quantity": "9"})
    assert QuoteLine.objects.filter(quote=quote, quantity=D("9")).count() == 0
    # deleting the draft version makes the previous the latest again
    svc.quote_delete(quote=new, by=world.rep1)
    quote.refresh_from_db()
    assert quote.is_latest


def test_delete_only_drafts_within_scope(world: Any) -> None:
    quote = make_quote(world)
    with pytest.raises(PermissionDeniedError):
        svc.quote_delete(quote=quote, by=world.rep2)
    svc.quote_delete(quote=quote, by=world.rep1)
    assert not Quote.objects.filter(pk=quote.pk).exists()
