"""Order services: creation (direct, from a contract, from an accepted quote: lines copied
exactly), delivery address, lines (prices from price lists, amounts, totals; only in the initial
status), status moves (allowed / refused / final), deletion, and the order statuses' rules."""

# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from kehu.audit.models import TimelineEvent
from kehu.catalog.tests.factories import PriceListFactory, PriceListItemFactory, ProductFactory
from kehu.core.errors import DomainError, PermissionDeniedError, StaleObjectError
from kehu.customers.models import AccountAddress
from kehu.customers.tests.factories import AccountFactory, ContactFactory

from ..choices import ContractStatus, QuoteStatus
from ..models import Order, OrderLine, OrderStatus
from ..services import orders as svc
from ..services.orders import COPIED_LINE_FIELDS
from . import contract_fixtures as cf
from .contract_fixtures import sellers  # noqa: F401
from .factories import ContractFactory, OrderFactory, QuoteFactory

pytestmark = pytest.mark.django_db


def _status(code: str) -> OrderStatus:
    return OrderStatus.objects.get(code=code)


def _order(by: Any, **data: Any) -> Order:
    data.setdefault("account", AccountFactory.create(owner=by))
    return svc.order_create(by=by, data=data)


def test_create_direct(sellers: Any) -> None:
    account = AccountFactory.create(owner=sellers.rep1)
    AccountAddress.objects.create(account=account, kind="office", street="办公楼 1 号", is_primary=True)
    AccountAddress.objects.create(account=account, kind="shipping", street="仓库路 8 号")
    order = svc.order_create(by=sellers.rep1, data={"account": account})
    other = _order(sellers.rep1)
    assert order.number.startswith("SO") and order.number != other.number
    assert order.status == _status("pending") and order.status.is_initial
    assert "仓库路 8 号" in order.delivery_address
    assert order.ordered_on == dt.date.today() and order.currency == "CNY"
    assert TimelineEvent.objects.filter(
        event=svc.CREATED_EVENT, object_id=order.pk, account_id=account.pk
    ).exists()
    typed = _order(sellers.rep1, delivery_address="客户自提")
    assert typed.delivery_address == "客户自提"


def test_create_refusals(sellers: Any) -> None:
    with pytest.raises(DomainError) as exc:
        svc.order_create(by=sellers.rep1, data={"account": None})
    assert "account" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        _order(sellers.rep1, currency="XXX")
    assert "currency" in exc.value.fields
    with pytest.raises(DomainError):
        _order(sellers.rep1, account=AccountFactory.create(owner=sellers.rep2))
    with pytest.raises(PermissionDeniedError):
        _order(sellers.nobody, account=AccountFactory.create(owner=sellers.rep1))
    assert not Order.objects.exists()


def test_from_quote_copies_lines_exactly(sellers: Any) -> None:
    contact = ContactFactory.create(owner=sellers.rep1)
    quote = cf.accepted_quote(sellers.rep1, lines=3, account=contact.account, contact=contact)
    order = svc.order_create_from_quote(by=sellers.rep1, quote=quote)
    assert order.quote == quote and order.account == quote.account and order.contact == contact
    assert order.currency == quote.currency
    quoted = list(quote.lines.order_by("position").values(*COPIED_LINE_FIELDS))
    copied = list(order.lines.order_by("position").values(*COPIED_LINE_FIELDS))
    assert copied == quoted and len(copied) == 3
    for name in ("subtotal", "discount_total", "net_total", "tax_total", "total"):
        assert getattr(order, name) == getattr(quote, name)
    assert order.total == Decimal("610.20")


@pytest.mark.parametrize(
    "status", [QuoteStatus.DRAFT, QuoteStatus.PENDING, QuoteStatus.SENT, QuoteStatus.EXPIRED]
)
def test_from_quote_not_accepted(sellers: Any, status: str) -> None:
    quote = QuoteFactory.create(owner=sellers.rep1, status=status)
    with pytest.raises(DomainError) as exc:
        svc.order_create_from_quote(by=sellers.rep1, quote=quote)
    assert exc.value.status == 409
    assert not Order.objects.exists()


def test_from_quote_old_version(sellers: Any) -> None:
    quote = cf.accepted_quote(sellers.rep1, is_latest=False)
    with pytest.raises(DomainError):
        svc.order_create_from_quote(by=sellers.rep1, quote=quote)
    assert not OrderLine.objects.exists()


def test_from_contract(sellers: Any) -> None:
    quote = cf.accepted_quote(sellers.rep1)
    with_quote = ContractFactory.create(
        owner=sellers.rep1, account=quote.account, quote=quote, status=ContractStatus.ACTIVE
    )
    order = svc.order_create_from_contract(by=sellers.rep1, contract=with_quote)
    assert order.contract == with_quote and order.quote == quote and order.account == quote.account
    assert order.lines.count() == 2 and order.total == quote.total
    bare = ContractFactory.create(owner=sellers.rep1, currency="CNY")
    empty = svc.order_create_from_contract(by=sellers.rep1, contract=bare)
    assert empty.account == bare.account and empty.lines.count() == 0 and empty.total == 0
    ended = ContractFactory.create(owner=sellers.rep1, status=ContractStatus.TERMINATED)
    with pytest.raises(DomainError):
        svc.order_create_from_contract(by=sellers.rep1, contract=ended)
    with pytest.raises(DomainError):
        svc.order_create_from_contract(by=sellers.rep1, contract=ContractFactory.create(owner=sellers.rep2))


# --- lines ------------------------------------------------------------------------------------


def test_lines_priced_and_totalled(sellers: Any) -> None:
    product = ProductFactory.create(tax_rate=Decimal("13"), unit="台", cost=Decimal("50"))
    price_list = PriceListFactory.create(name="标准价")
    PriceListItemFactory.create(price_list=price_list, product=product, unit_price=Decimal("99.99"))
    PriceListItemFactory.create(
        price_list=price_list, product=product, unit_price=Decimal("90"), min_quantity=Decimal("10")
    )
    order = _order(sellers.rep1)
    line = svc.order_line_add(
        order=order, by=sellers.rep1, data={"product": product, "quantity": Decimal("3")}
    )
    assert line.unit_price == Decimal("99.99") and line.price_source == "@pricelist:标准价|"
    assert (line.gross, line.tax, line.total) == (Decimal("299.97"), Decimal("39.00"), Decimal("338.97"))
    assert line.product_code == product.code and line.unit == "台" and line.description == product.name
    tier = svc.order_line_add(
        order=order,
        by=sellers.rep1,
        data={"product": product, "quantity": Decimal("10"), "discount_percent": Decimal("5")},
    )
    assert tier.unit_price == Decimal("90") and tier.price_source.endswith("|10")
    assert (tier.gross, tier.discount, tier.net) == (Decimal("900.00"), Decimal("45.00"), Decimal("855.00"))
    typed = svc.order_line_add(
        order=order,
        by=sellers.rep1,
        data={"description": "安装服务", "quantity": 1, "unit_price": Decimal("0.015")},
    )
    assert typed.total == Decimal("0.02") and typed.product is None
    order.refresh_from_db()
    lines = list(order.lines.all())
    assert order.total == sum((ln.total for ln in lines), Decimal(0))
    assert order.subtotal - order.discount_total + order.tax_total == order.total
    svc.order_line_update(line=line, by=sellers.rep1, data={"quantity": Decimal("12")})
    line.refresh_from_db()
    assert line.unit_price == Decimal("90")  # the tier of the new quantity
    svc.order_line_delete(line=typed, by=sellers.rep1)
    order.refresh_from_db()
    assert order.total == sum((ln.total for ln in order.lines.all()), Decimal(0))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"quantity": "-1", "unit_price": "1", "description": "x"}, "quantity"),
        ({"quantity": "0", "unit_price": "1", "description": "x"}, "quantity"),
        (
            {"quantity": "1", "unit_price": "1", "description": "x", "discount_percent": "120"},
            "discount_percent",
        ),
        (
            {"quantity": "1", "unit_price": "10", "description": "x", "discount_amount": "11"},
            "discount_amount",
        ),
        ({"quantity": "1", "description": "x"}, "unit_price"),
        ({"quantity": "1", "unit_price": "1"}, "description"),
    ],
)
def test_bad_lines_refused(sellers: Any, data: dict[str, Any], field: str) -> None:
    order = _order(sellers.rep1)
    with pytest.raises(DomainError) as exc:
        svc.order_line_add(order=order, by=sellers.rep1, data=data)
    assert field in exc.value.fields
    assert not OrderLine.objects.exists()
    order.refresh_from_db()
    assert order.total == 0


def test_no_price_list_needs_a_price(sellers: Any) -> None:
    product = ProductFactory.create()
    order = _order(sellers.rep1)
    with pytest.raises(DomainError) as exc:
        svc.order_line_add(order=order, by=sellers.rep1, data={"product": product, "quantity": 1})
    assert "unit_price" in exc.value.fields


def test_lines_locked_after_initial_status(sellers: Any) -> None:
    order = _order(sellers.rep1)
    line = svc.order_line_add(
        order=order, by=sellers.rep1, data={"description": "x", "quantity": 1, "unit_price": 5}
    )
    svc.order_move_status(order=order, status=_status("confirmed"), by=sellers.rep1)
    with pytest.raises(DomainError) as exc:
        svc.order_line_add(
            order=order, by=sellers.rep1, data={"description": "y", "quantity": 1, "unit_price": 5}
        )
    assert exc.value.code == "order_lines_locked"
    with pytest.raises(DomainError):
        svc.order_line_update(line=line, by=sellers.rep1, data={"quantity": 2})
    with pytest.raises(DomainError):
        svc.order_line_delete(line=line, by=sellers.rep1)
    assert OrderLine.objects.get().quantity == 1


def test_line_stale_version(sellers: Any) -> None:
    order = _order(sellers.rep1)
    with pytest.raises(StaleObjectError):
        svc.order_line_add(
            order=order,
            by=sellers.rep1,
            data={"description": "x", "quantity": 1, "unit_price": 5},
            version=99,
        )


# --- status moves -----------------------------------------------------------------------------


def test_status_flow(sellers: Any) -> None:
    order = _order(sellers.rep1)
    with pytest.raises(DomainError) as exc:  # pending → shipped is not allowed
        svc.order_move_status(order=order, status=_status("shipped"), by=sellers.rep1)
    assert exc.value.code == "status_move_refused" and exc.value.status == 409
    for code in ("confirmed", "shipped", "completed"):
        order = svc.order_move_status(order=order, status=_status(code), by=sellers.rep1)
        assert order.status.code == code
    with pytest.raises(DomainError) as exc:  # completed is final
        svc.order_move_status(order=order, status=_status("cancelled"), by=sellers.rep1)
    assert exc.value.code == "status_final"
    events = TimelineEvent.objects.filter(event=svc.STATUS_EVENT, object_id=order.pk).order_by("id")
    assert [e.data["to"] for e in events] == ["confirmed", "shipped", "completed"]
    assert all(e.account_id == order.account_id for e in events)
    with pytest.raises(DomainError):
        svc.order_update(order=order, by=sellers.rep1, data={"shipping_notes": "x"})


def test_cancel_is_final(sellers: Any) -> None:
    order = _order(sellers.rep1)
    svc.order_move_status(order=order, status=_status("cancelled"), by=sellers.rep1)
    with pytest.raises(DomainError):
        svc.order_move_status(order=order, status=_status("confirmed"), by=sellers.rep1)
    assert Order.objects.get().status.code == "cancelled"


def test_statuses_are_data(sellers: Any) -> None:
    """An administrator's new status and move apply at once."""
    pending, shipped = _status("pending"), _status("shipped")
    pending.next_statuses.add(shipped)
    order = _order(sellers.rep1)
    assert svc.order_move_status(order=order, status=shipped, by=sellers.rep1).status == shipped


def test_move_stale_and_scope(sellers: Any) -> None:
    order = _order(sellers.rep1)
    with pytest.raises(StaleObjectError):
        svc.order_move_status(
            order=order, status=_status("confirmed"), by=sellers.rep1, version=order.version + 1
        )
    with pytest.raises(PermissionDeniedError):
        svc.order_move_status(order=order, status=_status("confirmed"), by=sellers.rep2)
    assert Order.objects.get().status.code == "pending"


def test_delete_initial_only(sellers: Any) -> None:
    order = OrderFactory.create(owner=sellers.rep1, status=_status("confirmed"))
    with pytest.raises(DomainError):
        svc.order_delete(order=order, by=sellers.rep1)
    fresh = _order(sellers.rep1)
    svc.order_delete(order=fresh, by=sellers.rep1)
    assert list(Order.objects.values_list("pk", flat=True)) == [order.pk]


def test_update_currency_locked_with_lines(sellers: Any) -> None:
    order = _order(sellers.rep1)
    svc.order_line_add(
        order=order, by=sellers.rep1, data={"description": "x", "quantity": 1, "unit_price": 5}
    )
    with pytest.raises(DomainError) as exc:
        svc.order_update(order=order, by=sellers.rep1, data={"currency": "USD"})
    assert "currency" in exc.value.fields


# --- order statuses ---------------------------------------------------------------------------


def test_orderstatus_rules(sellers: Any) -> None:
    admin = sellers.viewer_all
    returned = svc.orderstatus_create(
        by=admin, data={"code": "returned", "name": "已退货", "kind": "cancelled", "position": 60}
    )
    with pytest.raises(DomainError):
        svc.orderstatus_update(status=returned, by=admin, data={"next_statuses": [_status("pending")]})
    with pytest.raises(DomainError):
        svc.orderstatus_create(by=admin, data={"code": "returned", "name": "重复", "kind": "open"})
    with pytest.raises(DomainError):
        svc.orderstatus_delete(status=_status("pending"), by=admin)
    OrderFactory.create(owner=sellers.rep1, status=_status("shipped"))
    with pytest.raises(DomainError):
        svc.orderstatus_delete(status=_status("shipped"), by=admin)
    svc.orderstatus_update(status=_status("confirmed"), by=admin, data={"is_initial": True})
    assert list(OrderStatus.objects.filter(is_initial=True).values_list("code", flat=True)) == ["confirmed"]
    with pytest.raises(DomainError):  # one status must stay initial
        svc.orderstatus_update(status=_status("confirmed"), by=admin, data={"is_initial": False})
    svc.orderstatus_delete(status=returned, by=admin)
    with pytest.raises(PermissionDeniedError):
        svc.orderstatus_create(by=sellers.rep1, data={"code": "x", "name": "x", "kind": "open"})
