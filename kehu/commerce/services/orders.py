"""Orders (订单): create (directly, from a contract, from an accepted quote), edit, lines, status
moves; order statuses (settings).

Rules (every path — pages, API — runs them):

* Numbers come from ``sequence_next(key="order", prefix="SO")`` inside the insert's transaction.
  A new order starts in the initial status (``OrderStatus.is_initial``).
* The delivery address defaults to the account's address (its shipping address, else the primary
  one, else the first; else the account's region).
* From an accepted quote (latest version, visible): account, contact, opportunity, currency and
  every line exactly as quoted (product, code, description, quantity, unit, unit price, price
  source, discount, tax rate, cost and the amounts), then the totals as the quote has them.
  From a contract (not expired or terminated): account, contact, opportunity, currency, and the
  lines of its quote when it came from one.
* Lines change only while the order is in its initial status: the unit price, when not given,
  comes from ``kehu.catalog.selectors.price_for`` (order currency, account, quantity); amounts
  follow ``kehu.core.money.line_amounts`` (per line, half-up, to the currency's minor unit) and
  the order's totals are the sums of its lines (``document_totals``).
* Moves follow ``OrderStatus.next_statuses`` (statuses are data); a done or cancelled status is
  final. Every move writes ``order.status_changed`` on the order and its account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.audit.services import timeline_record
from kehu.catalog.models import Product
from kehu.catalog.selectors import company_currency_code, currency_codes, price_for
from kehu.catalog.selectors import rounding_code as _rounding_code
from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import ConflictError, DomainError
from kehu.core.money import LineAmounts, document_totals, line_amounts
from kehu.core.money import parse_decimal as _decimal
from kehu.core.services import sequence_next

from ..choices import ContractStatus, OrderStatusKind
from ..models import Contract, Order, OrderLine, OrderStatus, PaymentPlan, Quote
from .common import check_visible as _visible
from .common import invalid
from .common import set_values as _set_values
from .contracts import check_convertible_quote

CREATED_EVENT = "order.created"
STATUS_EVENT = "order.status_changed"

ORDER_FIELDS = (
    "account",
    "contact",
    "opportunity",
    "currency",
    "ordered_on",
    "delivery_address",
    "shipping_notes",
    "owner",
    "custom",
)
LINE_FIELDS = (
    "product",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "discount_amount",
    "tax_rate",
)
# Everything a line keeps (copied exactly from a quote line).
COPIED_LINE_FIELDS = (
    "position",
    "product_id",
    "product_code",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "price_source",
    "discount_percent",
    "discount_amount",
    "tax_rate",
    "unit_cost",
    "gross",
    "discount",
    "net",
    "tax",
    "total",
)
MAX_QUANTITY = Decimal("99999999999999")


class OrderError(DomainError):
    code = "order_invalid"


class OrderStateError(ConflictError):
    code = "order_state"


def _invalid(fields: dict[str, list[str]], message: str | None = None) -> DomainError:
    return invalid(OrderError, fields, message)


# --- helpers ----------------------------------------------------------------------------------


def initial_status() -> OrderStatus:
    found = OrderStatus.objects.filter(is_initial=True).order_by("position", "id").first()
    if found is None:
        raise OrderError(
            _("No initial order status is set up; ask an administrator."), code="no_initial_status"
        )
    return found


def is_editable(order: Order) -> bool:
    """Lines and amounts change only while the order is in its initial status."""
    return bool(order.status.is_initial) and order.status.kind == OrderStatusKind.OPEN


def allowed_moves(order: Order) -> list[OrderStatus]:
    if order.status.kind != OrderStatusKind.OPEN:
        return []
    return list(order.status.next_statuses.order_by("position", "id"))


def account_delivery_address(account: Any) -> str:
    """The account's shipping address, else its primary one, else the first; else its region."""
    if account is None:
        return ""
    addresses = list(account.addresses.all())
    chosen = next((a for a in addresses if a.kind == "shipping"), None)
    chosen = chosen or next((a for a in addresses if a.is_primary), None)
    chosen = chosen or (addresses[0] if addresses else None)
    if chosen is not None:
        return chosen.one_line()
    return account.region_display or ""


def _apply(order: Order, by: Any, data: Mapping[str, Any], *, current: Order | None) -> list[str]:
    from kehu.customers.models import Account, Contact
    from kehu.sales.models import Opportunity

    unknown = set(data) - set(ORDER_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    values = dict(data)
    errors: dict[str, list[str]] = {}
    for name in ("delivery_address", "shipping_notes"):
        if isinstance(values.get(name), str):
            values[name] = values[name].strip()
        elif name in values and values[name] is None:
            values[name] = ""
    account = values.get("account", order.account if order.account_id else None)
    if "account" in values:
        if account is None:
            errors["account"] = [_("This field is required.")]
        else:
            _visible(by, Account, account, "account", errors)
        changing = current is not None and account is not None and account.pk != current.account_id
        if changing and current is not None and current.lines.exists():
            errors["account"] = [_("An order with lines keeps its account.")]
    contact = values.get("contact")
    if contact is not None:
        _visible(by, Contact, contact, "contact", errors)
        if account is not None and not contact.accounts.filter(pk=account.pk).exists():
            errors["contact"] = [_("Choose a contact of the order's account.")]
    if values.get("opportunity") is not None:
        _visible(by, Opportunity, values["opportunity"], "opportunity", errors)
    if "currency" in values:
        code = str(values["currency"] or "").strip().upper()
        if code not in currency_codes(include=current.currency if current else None):
            errors["currency"] = [_("Choose an active currency.")]
        elif current is not None and code != current.currency and current.lines.exists():
            errors["currency"] = [_("An order with lines keeps its currency.")]
        values["currency"] = code
    if "ordered_on" in values and not values["ordered_on"]:
        errors["ordered_on"] = [_("This field is required.")]
    if errors:
        raise _invalid(errors)
    changed = _set_values(order, values, [n for n in ORDER_FIELDS if n not in ("owner", "custom")])
    if "custom" in data or current is None:
        from kehu.customfields.services import custom_values_clean

        custom = custom_values_clean(
            model=Order,
            values=data.get("custom") or {},
            instance_values=order.custom if current is not None else None,
            partial=current is not None,
        )
        if custom != order.custom:
            order.custom = custom
            changed.append("custom")
    return changed


def _recompute_totals(order: Order) -> None:
    lines = list(order.lines.all())
    totals = document_totals(
        [
            LineAmounts(
                gross=ln.gross,
                discount=ln.discount,
                net=ln.net,
                tax=ln.tax,
                total=ln.total,
                tax_rate=ln.tax_rate,
            )
            for ln in lines
        ],
        _rounding_code(order.currency),
    )
    order.subtotal = totals.subtotal
    order.discount_total = totals.discount
    order.net_total = totals.net
    order.tax_total = totals.tax
    order.total = totals.total


def _save_totals(order: Order) -> None:
    _recompute_totals(order)
    order.version += 1
    order.save(
        update_fields=[
            "subtotal",
            "discount_total",
            "net_total",
            "tax_total",
            "total",
            "version",
            "updated_at",
        ]
    )


# --- create -----------------------------------------------------------------------------------


@transaction.atomic
def order_create(
    *,
    by: Any,
    data: Mapping[str, Any],
    lines: Iterable[Mapping[str, Any]] = (),
    contract: Contract | None = None,
    quote: Quote | None = None,
) -> Order:
    """An order in the initial status from `data` (ORDER_FIELDS) and optional new `lines`
    (LINE_FIELDS each)."""
    owned.check_action(by, Order, Action.ADD)
    owned.check_locked_fields(by, Order, data)
    values = dict(data)
    values.setdefault("account", None)
    values.setdefault("currency", company_currency_code())
    if not values.get("ordered_on"):
        values["ordered_on"] = timezone.localdate()
    order = Order(
        status=initial_status(),
        contract=contract,
        quote=quote,
        created_by=by if getattr(by, "pk", None) else None,
        status_changed_at=timezone.now(),
    )
    _apply(order, by, values, current=None)
    if not values.get("delivery_address"):
        order.delivery_address = account_delivery_address(order.account)
    owner = owned.resolve_owner(by, Order, values.get("owner"))
    owned.set_owner(order, owner)
    order.number = sequence_next(key="order", prefix="SO")
    owned.full_clean_or_raise(order, exclude=["number", "custom", "status"])
    order.save()
    for position, line in enumerate(lines, start=1):
        _line_write(order, by, OrderLine(order=order, position=position * 10), dict(line), new=True)
    if lines:
        _save_totals(order)
    owned.recheck_scope(by, order, Action.VIEW, transfer=owner != by)
    timeline_record(
        event=CREATED_EVENT,
        obj=order,
        by=by,
        account_id=order.account_id,
        data={
            "title": _("Order %(number)s created") % {"number": order.number},
            "contract": str(contract) if contract is not None else "",
            "quote": str(quote) if quote is not None else "",
        },
    )
    return order


def _copy_quote_lines(order: Order, quote: Quote) -> None:
    rows = []
    for line in quote.lines.order_by("position", "id"):
        rows.append(OrderLine(order=order, **{f: getattr(line, f) for f in COPIED_LINE_FIELDS}))
    OrderLine.objects.bulk_create(rows)
    for name in ("subtotal", "discount_total", "net_total", "tax_total", "total"):
        setattr(order, name, getattr(quote, name))
    order.save(update_fields=["subtotal", "discount_total", "net_total", "tax_total", "total"])


@transaction.atomic
def order_create_from_quote(*, by: Any, quote: Quote, data: Mapping[str, Any] | None = None) -> Order:
    """An order from an accepted quote, its lines copied exactly. A quote becomes one order: a
    second conversion is refused (the quote row is locked, so two clicks at once make one order).
    An order per delivery comes from a contract instead."""
    quote = check_convertible_quote(by=by, quote=quote)
    Quote.objects.select_for_update().filter(pk=quote.pk).first()
    existing = Order.objects.filter(quote=quote).order_by("pk").first()
    if existing is not None:
        message = _("Order %(number)s was already created from this quote.") % {"number": existing.number}
        raise OrderStateError(message, code="quote_converted", fields={"quote": [message]})
    values: dict[str, Any] = {
        "account": quote.account,
        "contact": quote.contact,
        "opportunity": quote.opportunity,
        "currency": quote.currency,
    }
    extra = dict(data or {})
    for copied in ("account", "currency"):
        extra.pop(copied, None)
    values.update(extra)
    order = order_create(by=by, data=values, quote=quote)
    _copy_quote_lines(order, quote)
    return order


@transaction.atomic
def order_create_from_contract(
    *, by: Any, contract: Contract, data: Mapping[str, Any] | None = None
) -> Order:
    """An order from a draft or active contract: its account, contact, opportunity and currency,
    and its quote's lines (copied exactly) when the contract came from a quote."""
    found = Contract.objects.restrict(by, Action.VIEW).filter(pk=contract.pk).first()
    if found is None:
        message = _("Choose a contract you can see.")
        raise OrderError(message, fields={"contract": [message]})
    if found.status in (ContractStatus.EXPIRED, ContractStatus.TERMINATED):
        message = _("The contract is “%(status)s”: no new orders.") % {"status": found.get_status_display()}
        raise OrderStateError(message, code="contract_closed", fields={"contract": [message]})
    values: dict[str, Any] = {
        "account": found.account,
        "contact": found.contact,
        "opportunity": found.opportunity,
        "currency": found.currency,
    }
    extra = dict(data or {})
    for copied in ("account", "currency"):
        extra.pop(copied, None)
    values.update(extra)
    quote = found.quote
    order = order_create(by=by, data=values, contract=found, quote=quote)
    if quote is not None and quote.currency == found.currency:
        _copy_quote_lines(order, quote)
    return order


# --- update / delete --------------------------------------------------------------------------


def _locked(by: Any, order: Order, action: str = Action.CHANGE) -> Order:
    owned.check_action(by, Order, action, obj=order)
    return Order.objects.select_for_update().select_related("status").get(pk=order.pk)


@transaction.atomic
def order_update(*, order: Order, by: Any, data: Mapping[str, Any], version: int | None = None) -> Order:
    """Change the order's header (not its status: `order_move_status`). A final order is read-only."""
    order = _locked(by, order)
    owned.check_version(order, version)
    if order.status.kind != OrderStatusKind.OPEN:
        raise OrderStateError(_("A completed or cancelled order cannot be changed."), code="order_closed")
    owned.check_locked_fields(by, Order, data, current=order)
    values = dict(data)
    changed = _apply(order, by, values, current=order)
    owner = owned.resolve_owner(by, Order, values.get("owner"), obj=order)
    changed += owned.set_owner(order, owner)
    if not changed:
        return order
    owned.full_clean_or_raise(order, exclude=["custom", "status"])
    order.version += 1
    order.save()
    owned.recheck_scope(by, order, Action.CHANGE, transfer="owner" in changed)
    return order


@transaction.atomic
def order_delete(*, order: Order, by: Any) -> None:
    """Delete an order still in its initial status (later ones are cancelled instead)."""
    order = _locked(by, order, Action.DELETE)
    if not order.status.is_initial:
        raise OrderStateError(
            _("Only an order in its initial status can be deleted; cancel it instead."),
            code="order_not_initial",
        )
    try:
        order.delete()
    except ProtectedError as exc:
        raise OrderStateError(_("The order is in use; it cannot be deleted."), code="order_in_use") from exc


# --- status -----------------------------------------------------------------------------------


@transaction.atomic
def order_move_status(
    *, order: Order, status: OrderStatus, by: Any, version: int | None = None, note: str = ""
) -> Order:
    """Move the order to `status` if its current status allows it."""
    order = _locked(by, order)
    owned.check_version(order, version)
    before = order.status
    if status.pk == before.pk:
        return order
    if before.kind != OrderStatusKind.OPEN:
        message = _("The order is “%(status)s”: that is final.") % {"status": before.name}
        raise OrderStateError(message, code="status_final", fields={"status": [message]})
    if not before.next_statuses.filter(pk=status.pk).exists():
        message = _("An order cannot move from “%(from)s” to “%(to)s”.") % {
            "from": before.name,
            "to": status.name,
        }
        raise OrderStateError(message, code="status_move_refused", fields={"status": [message]})
    order.status = status
    order.status_changed_at = timezone.now()
    order.version += 1
    order.save(update_fields=["status", "status_changed_at", "version", "updated_at"])
    timeline_record(
        event=STATUS_EVENT,
        obj=order,
        by=by,
        account_id=order.account_id,
        data={
            "title": _("Order %(number)s: %(status)s") % {"number": order.number, "status": status.name},
            "changes": {"status": [before.name, status.name]},
            "from": before.code,
            "to": status.code,
            "body": (note or "").strip(),
        },
    )
    return order


# --- lines ------------------------------------------------------------------------------------


def _editable_order(by: Any, order: Order, version: int | None) -> Order:
    order = _locked(by, order)
    owned.check_version(order, version)
    if not is_editable(order):
        raise OrderStateError(
            _("Lines can be changed only while the order is “%(status)s”.") % {"status": initial_status()},
            code="order_lines_locked",
        )
    if PaymentPlan.objects.filter(order=order).exists():
        raise OrderStateError(
            _("The order has a payment plan: change or remove the plan before its lines."),
            code="order_lines_locked",
        )
    return order


def _line_write(order: Order, by: Any, line: OrderLine, values: dict[str, Any], *, new: bool) -> OrderLine:
    unknown = set(values) - set(LINE_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    product = values.get("product", line.product if line.product_id else None)
    product_changed = "product" in values and getattr(product, "pk", None) != line.product_id
    if product is not None and (new or product_changed):
        found = Product.objects.restrict(by, Action.VIEW).filter(pk=getattr(product, "pk", product)).first()
        if found is None:
            raise _invalid({"product": [_("Choose a product you can see.")]})
        if not found.is_active:
            raise _invalid({"product": [_("The product “%(name)s” is not active.") % {"name": found.name}]})
        product = found
    quantity = _decimal(values.get("quantity", line.quantity if not new else None), "quantity", errors)
    if quantity is None and "quantity" not in errors:
        errors["quantity"] = [_("This field is required.")]
    elif quantity is not None and quantity <= 0:
        errors["quantity"] = [_("The quantity must be greater than zero.")]
    elif quantity is not None and (quantity > MAX_QUANTITY or -quantity.as_tuple().exponent > 4):  # type: ignore[operator]
        errors["quantity"] = [_("Enter a quantity with at most 4 decimal places.")]
    price_given = "unit_price" in values and values["unit_price"] not in (None, "")
    unit_price = _decimal(values["unit_price"], "unit_price", errors) if price_given else None
    if new or "discount_percent" in values or "discount_amount" in values:
        percent = _decimal(values.get("discount_percent"), "discount_percent", errors)
        amount = _decimal(values.get("discount_amount"), "discount_amount", errors)
    else:
        percent, amount = line.discount_percent, line.discount_amount
    if errors:
        raise _invalid(errors)
    assert quantity is not None
    if product is not None and (new or product_changed):
        line.product = product
        line.product_code = product.code
        line.unit = values.get("unit") or product.unit
        line.description = (values.get("description") or "").strip() or product.name
        if "tax_rate" not in values or values["tax_rate"] in (None, ""):
            line.tax_rate = product.tax_rate or Decimal("0")
        line.unit_cost = product.cost
    if product is None and (new or "product" in values):
        line.product = None
        line.product_code = ""
    if "description" in values and (values["description"] or "").strip():
        line.description = values["description"].strip()
    if "unit" in values and values["unit"] is not None:
        line.unit = str(values["unit"]).strip()
    if "tax_rate" in values and values["tax_rate"] not in (None, ""):
        rate = _decimal(values["tax_rate"], "tax_rate", errors)
        if errors:
            raise _invalid(errors)
        line.tax_rate = rate  # type: ignore[assignment]
    if not line.description:
        raise _invalid({"description": [_("This field is required.")]})
    reprice = new or product_changed or ("quantity" in values and quantity != line.quantity)
    if unit_price is not None:
        line.unit_price = unit_price
        line.price_source = ""
    elif reprice and line.product_id is not None:
        resolved = price_for(
            product=line.product_id, currency=order.currency, quantity=quantity, account=order.account
        )
        if resolved is None:
            if new or product_changed:
                message = _("No price list prices this product in %(currency)s; enter the unit price.") % {
                    "currency": order.currency
                }
                raise _invalid({"unit_price": [message]})
        else:
            line.unit_price = resolved.unit_price
            line.price_source = resolved.stored_source
    elif new:
        raise _invalid({"unit_price": [_("This field is required.")]})
    line.quantity = quantity
    line.discount_percent = percent
    line.discount_amount = amount
    amounts = line_amounts(
        quantity=quantity,
        unit_price=line.unit_price,
        currency=_rounding_code(order.currency),
        discount_percent=percent,
        discount_amount=amount,
        tax_rate=line.tax_rate,
    )
    line.gross, line.discount, line.net, line.tax, line.total = (
        amounts.gross,
        amounts.discount,
        amounts.net,
        amounts.tax,
        amounts.total,
    )
    owned.full_clean_or_raise(line, exclude=["order", "product"])
    line.save()
    return line


@transaction.atomic
def order_line_add(
    *, order: Order, by: Any, data: Mapping[str, Any], version: int | None = None
) -> OrderLine:
    order = _editable_order(by, order, version)
    top = order.lines.aggregate(m=Max("position"))["m"] or 0
    line = _line_write(order, by, OrderLine(order=order, position=top + 10), dict(data), new=True)
    _save_totals(order)
    return line


@transaction.atomic
def order_line_update(
    *, line: OrderLine, by: Any, data: Mapping[str, Any], version: int | None = None
) -> OrderLine:
    order = _editable_order(by, line.order, version)
    line = OrderLine.objects.select_for_update().get(pk=line.pk, order=order)
    line = _line_write(order, by, line, dict(data), new=False)
    _save_totals(order)
    return line


@transaction.atomic
def order_line_delete(*, line: OrderLine, by: Any, version: int | None = None) -> None:
    order = _editable_order(by, line.order, version)
    OrderLine.objects.filter(pk=line.pk, order=order).delete()
    _save_totals(order)


# --- order statuses (settings) ----------------------------------------------------------------

STATUS_FIELDS = ("code", "name", "name_en", "kind", "position", "is_initial", "next_statuses")


def _status_apply(status: OrderStatus, data: Mapping[str, Any]) -> list[OrderStatus] | None:
    errors: dict[str, list[str]] = {}
    for name in ("code", "name", "name_en"):
        if name in data:
            setattr(status, name, str(data[name] or "").strip())
    for name in ("kind", "position", "is_initial"):
        if name in data and data[name] is not None:
            setattr(status, name, data[name])
    if not status.name:
        errors["name"] = [_("This field is required.")]
    if not status.code:
        errors["code"] = [_("This field is required.")]
    elif OrderStatus.objects.filter(code=status.code).exclude(pk=status.pk).exists():
        errors["code"] = [_("Another status has this code.")]
    if status.kind not in OrderStatusKind.values:
        errors["kind"] = [_("Choose a value from the list.")]
    if status.is_initial and status.kind != OrderStatusKind.OPEN:
        errors["is_initial"] = [_("The initial status must be an open one.")]
    nexts = None
    if "next_statuses" in data:
        nexts = list(data["next_statuses"] or [])
        if status.kind != OrderStatusKind.OPEN and nexts:
            errors["next_statuses"] = [_("A completed or cancelled status is final: no moves from it.")]
        if status.pk and any(n.pk == status.pk for n in nexts):
            errors["next_statuses"] = [_("A status cannot move to itself.")]
    if errors:
        raise _invalid(errors)
    owned.full_clean_or_raise(status, exclude=["next_statuses"])
    return nexts


def _single_initial(status: OrderStatus) -> None:
    if status.is_initial:
        OrderStatus.objects.filter(is_initial=True).exclude(pk=status.pk).update(is_initial=False)
    elif not OrderStatus.objects.filter(is_initial=True).exclude(pk=status.pk).exists():
        message = _("One status must be the initial status.")
        raise OrderError(message, fields={"is_initial": [message]})


@transaction.atomic
def orderstatus_create(*, by: Any, data: Mapping[str, Any]) -> OrderStatus:
    owned.check_action(by, OrderStatus, Action.ADD)
    status = OrderStatus()
    nexts = _status_apply(status, data)
    _single_initial(status)
    status.save()
    if nexts is not None:
        status.next_statuses.set(nexts)
    return status


@transaction.atomic
def orderstatus_update(*, status: OrderStatus, by: Any, data: Mapping[str, Any]) -> OrderStatus:
    owned.check_action(by, OrderStatus, Action.CHANGE)
    status = OrderStatus.objects.select_for_update().get(pk=status.pk)
    nexts = _status_apply(status, data)
    _single_initial(status)
    if status.kind != OrderStatusKind.OPEN and nexts is None:
        status.next_statuses.clear()
    status.save()
    if nexts is not None:
        status.next_statuses.set(nexts)
    return status


@transaction.atomic
def orderstatus_delete(*, status: OrderStatus, by: Any) -> None:
    owned.check_action(by, OrderStatus, Action.DELETE)
    if status.is_initial:
        raise OrderStateError(_("The initial status cannot be deleted."), code="status_initial")
    if Order.objects.filter(status=status).exists():
        raise OrderStateError(_("Orders are in this status; it cannot be deleted."), code="status_in_use")
    status.delete()
