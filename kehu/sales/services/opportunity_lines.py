"""Product lines of an opportunity (商机产品明细): add, change, remove, reorder.

Rules (every path — the Products card, the API — runs them):

* The acting user must be able to change the opportunity (its row is locked first), and to see
  the product; the opportunity's ``amount`` must not be read-only for them (the lines write it).
* A new line's product must be active. Quantity > 0. The unit price, when not given, comes from
  ``kehu.catalog.selectors.price_for`` (the opportunity's currency and account, the line's
  quantity: the quantity tier applies) or from the price list given, which must be active and in
  the opportunity's currency; a line no price list prices needs a typed price. ``price_source``
  keeps where the price came from as a language-neutral token (``@pricelist:标准价 2026|100``, shown
  as "From price list 标准价 2026, tier ≥ 100" in the reader's language), empty for a typed price.
* At most one discount: a percentage (0–100) or an amount (≥ 0, not above the line's gross).
* Tax rate, unit and (by default) description are copied from the product.
* Amounts follow ``kehu.core.money.line_amounts``: per line, half-up to the currency's decimal
  places (the ``catalog.Currency`` record's, else ISO 4217's).
* While an opportunity has lines, its amount is the sum of the lines' **net** amounts (after
  discount, before tax — as Salesforce's opportunity amount is the sum of the line items' total
  price) and cannot be set by hand; its currency cannot change either. Removing the last line
  leaves the amount as it was, editable again.
* Each write bumps the opportunity's ``version`` (its amount may have changed) and accepts the
  version the user started from (``version``: a stale one is refused with 409). Lines are audited
  by the change recorder (on the opportunity's History) and each add/change/remove writes a
  timeline event on the opportunity and its account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kehu.catalog.models import PriceList, PriceListItem, Product
from kehu.catalog.selectors import price_for, price_source_token
from kehu.catalog.selectors import rounding_code as _rounding_code
from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import PermissionDeniedError
from kehu.core.money import LineAmounts, MoneyError, document_totals, line_amounts
from kehu.core.money import parse_decimal as _decimal
from kehu.core.permissions import readonly_fields

from ..errors import SalesError
from ..models import Opportunity, OpportunityLine

LINE_ADDED_EVENT = "opportunity.line_added"
LINE_CHANGED_EVENT = "opportunity.line_changed"
LINE_REMOVED_EVENT = "opportunity.line_removed"

#: What `opportunity_line_update` may change.
LINE_FIELDS = frozenset(
    {"product", "quantity", "unit_price", "price_list", "discount_percent", "discount_amount", "description"}
)
MAX_QUANTITY = Decimal("9999999999")  # the column holds 10 integer digits


class OpportunityLineError(SalesError):
    code = "opportunity_line_invalid"


def _invalid(fields: dict[str, list[str]]) -> OpportunityLineError:
    return OpportunityLineError(_("Some fields are not valid."), fields=fields)


# --- reading ----------------------------------------------------------------------------------


def has_lines(opportunity: Opportunity) -> bool:
    return OpportunityLine.objects.filter(opportunity_id=opportunity.pk).exists()


# --- values -----------------------------------------------------------------------------------


def _check_product(by: Any, product: Any, *, new: bool) -> Product:
    if product is None:
        raise _invalid({"product": [_("This field is required.")]})
    found = Product.objects.restrict(by, Action.VIEW).filter(pk=getattr(product, "pk", product)).first()
    if found is None:
        raise _invalid({"product": [_("Choose a product you can see.")]})
    if new and not found.is_active:
        raise _invalid({"product": [_("The product “%(name)s” is not active.") % {"name": found.name}]})
    return found


def _price_from_list(
    price_list: PriceList, product: Product, quantity: Decimal, opp: Opportunity
) -> tuple[Decimal, str]:
    if price_list.currency.code != opp.currency:
        raise _invalid(
            {
                "price_list": [
                    _("The price list is in %(list)s, the opportunity in %(opp)s.")
                    % {"list": price_list.currency.code, "opp": opp.currency}
                ]
            }
        )
    if not price_list.is_active:
        raise _invalid({"price_list": [_("The price list is not active.")]})
    item = (
        PriceListItem.objects.filter(price_list=price_list, product=product, min_quantity__lte=quantity)
        .order_by("-min_quantity")
        .first()
    )
    if item is None:
        raise _invalid({"price_list": [_("The price list has no price for this product and quantity.")]})
    # stored language-neutral; shown in the reader's language by catalog.selectors.price_source_text
    return item.unit_price, price_source_token(name=price_list.name, min_quantity=item.min_quantity)


def resolve_price(
    *, opportunity: Opportunity, product: Product, quantity: Decimal, price_list: PriceList | None = None
) -> tuple[Decimal, PriceList | None, str] | None:
    """(unit price, price list, explanation) for `quantity` of `product` on `opportunity`: from
    `price_list` when given, else `price_for` (currency, account, quantity tier). None: no list
    prices it."""
    if price_list is not None:
        price, source = _price_from_list(price_list, product, quantity, opportunity)
        return price, price_list, source
    resolved = price_for(
        product=product, currency=opportunity.currency, quantity=quantity, account=opportunity.account
    )
    if resolved is None:
        return None
    return resolved.unit_price, resolved.price_list, resolved.stored_source


def compute(
    *,
    opportunity: Opportunity,
    quantity: Decimal,
    unit_price: Decimal,
    tax_rate: Decimal,
    discount_percent: Decimal | None = None,
    discount_amount: Decimal | None = None,
) -> LineAmounts:
    """The line's rounded amounts (MoneyError names the field at fault)."""
    return line_amounts(
        quantity=quantity,
        unit_price=unit_price,
        currency=_rounding_code(opportunity.currency),
        discount_percent=discount_percent,
        discount_amount=discount_amount,
        tax_rate=tax_rate,
    )


def _validated(
    by: Any, opp: Opportunity, values: dict[str, Any], line: OpportunityLine | None
) -> dict[str, Any]:
    """Check and complete a line's values (product, quantity, price, discount); raise field errors."""
    errors: dict[str, list[str]] = {}
    product = values["product"]
    quantity = _decimal(values.get("quantity"), "quantity", errors)
    if quantity is None and "quantity" not in errors:
        errors["quantity"] = [_("This field is required.")]
    elif quantity is not None and quantity <= 0:
        errors["quantity"] = [_("The quantity must be greater than zero.")]
    elif quantity is not None and quantity > MAX_QUANTITY:
        errors["quantity"] = [_("The quantity may be at most %(limit)s.") % {"limit": f"{MAX_QUANTITY:,f}"}]
    elif quantity is not None and -quantity.as_tuple().exponent > 4:  # type: ignore[operator]
        errors["quantity"] = [_("Enter a quantity with at most 4 decimal places.")]
    unit_price = _decimal(values.get("unit_price"), "unit_price", errors)
    if unit_price is not None and unit_price < 0:
        errors["unit_price"] = [_("The unit price may not be negative.")]
    percent = _decimal(values.get("discount_percent"), "discount_percent", errors)
    amount = _decimal(values.get("discount_amount"), "discount_amount", errors)
    if percent is not None and not 0 <= percent <= 100:
        errors["discount_percent"] = [_("The discount is between 0 and 100 %.")]
    if amount is not None and amount < 0:
        errors["discount_amount"] = [_("The discount may not be negative.")]
    if percent is not None and amount is not None:
        message = _("Give the discount either as a percentage or as an amount, not both.")
        errors.setdefault("discount_percent", [message])
        errors.setdefault("discount_amount", [message])
    if errors:
        raise _invalid(errors)
    assert quantity is not None
    price_list = values.get("price_list")
    source = values.get("price_source", "")
    if unit_price is None:
        resolved = resolve_price(opportunity=opp, product=product, quantity=quantity, price_list=price_list)
        if resolved is None:
            raise _invalid(
                {
                    "unit_price": [
                        _(
                            "No price list prices this product in %(currency)s for this account: "
                            "enter a unit price."
                        )
                        % {"currency": opp.currency}
                    ]
                }
            )
        unit_price, price_list, source = resolved
    elif price_list is None and not source:
        # a typed price equal to the price list's (the form pre-fills it) is the price list's
        resolved = resolve_price(opportunity=opp, product=product, quantity=quantity)
        if resolved is not None and resolved[0] == unit_price:
            unit_price, price_list, source = resolved
    elif price_list is not None and price_list.currency.code != opp.currency:
        raise _invalid(
            {
                "price_list": [
                    _("The price list is in %(list)s, the opportunity in %(opp)s.")
                    % {"list": price_list.currency.code, "opp": opp.currency}
                ]
            }
        )
    tax_rate = product.tax_rate if line is None or line.product_id != product.pk else line.tax_rate
    try:
        amounts = compute(
            opportunity=opp,
            quantity=quantity,
            unit_price=unit_price,
            tax_rate=tax_rate,
            discount_percent=percent,
            discount_amount=amount,
        )
    except MoneyError as exc:
        fields = dict(exc.fields)
        if "discount" in fields:
            fields["discount_percent"] = fields.pop("discount")
        raise _invalid(fields or {"unit_price": [str(exc.message)]}) from None
    _check_fits(unit_price, amounts)
    description = str(values.get("description") or "").strip() or product.name
    return {
        "product": product,
        "quantity": quantity,
        "unit": product.unit,
        "unit_price": unit_price,
        "price_list": price_list,
        "price_source": source or "",
        "discount_percent": percent,
        "discount_amount": amount,
        "tax_rate": tax_rate,
        "description": description[:300],
        "gross": amounts.gross,
        "discount": amounts.discount,
        "net": amounts.net,
        "tax": amounts.tax,
        "total": amounts.total,
    }


def _limit(field: str) -> Decimal:
    """The first value the line column `field` cannot hold (its max_digits/decimal_places)."""
    column = OpportunityLine._meta.get_field(field)
    return Decimal(10) ** (column.max_digits - column.decimal_places)  # type: ignore[union-attr]


def _check_fits(unit_price: Decimal, amounts: LineAmounts) -> None:
    """Refuse a unit price or line amounts the money columns cannot hold (field errors on
    quantity / unit_price instead of a database error)."""
    price_limit = _limit("unit_price")
    if abs(unit_price) >= price_limit:
        raise _invalid(
            {"unit_price": [_("Enter a unit price below %(limit)s.") % {"limit": f"{price_limit:,}"}]}
        )
    for name in ("gross", "discount", "net", "tax", "total"):
        limit = _limit(name)
        if abs(getattr(amounts, name)) >= limit:
            message = _(
                "The line's amount (quantity × unit price) is too large: it must stay below %(limit)s. "
                "Lower the quantity or the unit price."
            ) % {"limit": f"{limit:,}"}
            raise _invalid({"quantity": [message], "unit_price": [message]})


# --- the opportunity --------------------------------------------------------------------------


def _locked(by: Any, opportunity: Opportunity, version: int | None) -> Opportunity:
    """The opportunity, locked, changeable by `by`, at `version` (when given)."""
    current = Opportunity.objects.select_for_update().select_related("account").get(pk=opportunity.pk)
    owned.check_action(by, Opportunity, Action.CHANGE, obj=current)
    owned.check_version(current, version)
    if "amount" in readonly_fields(by, Opportunity):
        raise PermissionDeniedError(
            _("You may not change the amount of this opportunity, so you may not change its products.")
        )
    return current


def _sync_amount(opp: Opportunity) -> None:
    """Amount = Σ line net while there are lines (else left as it is); bumps the version."""
    fields = ["version", "updated_at"]
    rows = list(opp.lines.values_list("gross", "discount", "net", "tax", "total", "tax_rate"))
    if rows:
        code = _rounding_code(opp.currency)
        totals = document_totals(
            (
                LineAmounts(gross=g, discount=d, net=n, tax=t, total=tt, tax_rate=r)
                for g, d, n, t, tt, r in rows
            ),
            code,
        )
        # (the net is already rounded per line to the currency's minor unit; the opportunity's amount
        # keeps 2 places, so a 3-place currency rounds half-up once more here)
        amount = totals.net.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        column = Opportunity._meta.get_field("amount")
        limit = Decimal(10) ** (column.max_digits - column.decimal_places)
        if abs(amount) >= limit:
            message = _(
                "The opportunity's amount (the sum of its lines) would be too large: it must stay "
                "below %(limit)s. Lower the quantity or the unit price."
            ) % {"limit": f"{limit:,}"}
            raise _invalid({"quantity": [message], "unit_price": [message]})
        if amount != opp.amount:
            opp.amount = amount
            fields.append("amount")
    opp.version += 1
    opp.save(update_fields=fields)


def _timeline(event: str, opp: Opportunity, by: Any, line: OpportunityLine, before: Decimal) -> None:
    from kehu.audit.services import timeline_record

    timeline_record(
        event=event,
        obj=opp,
        by=by,
        account_id=opp.account_id,
        data={
            "title": line.description,
            "product": line.product_id,
            "quantity": f"{line.quantity.normalize():f}",
            "net": str(line.net),
            "currency": opp.currency,
            "changes": {"amount": [str(before), str(opp.amount)]} if before != opp.amount else {},
        },
    )


# --- services ---------------------------------------------------------------------------------


@transaction.atomic
def opportunity_line_add(
    *,
    by: Any,
    opportunity: Opportunity,
    product: Product,
    quantity: Decimal,
    unit_price: Decimal | None = None,
    price_list: PriceList | None = None,
    discount_percent: Decimal | None = None,
    discount_amount: Decimal | None = None,
    description: str = "",
    version: int | None = None,
) -> OpportunityLine:
    """Add `quantity` of `product` to the opportunity (last position). `unit_price` None: the
    price list's (given, or the one `price_for` picks)."""
    opp = _locked(by, opportunity, version)
    found = _check_product(by, product, new=True)
    values = _validated(
        by,
        opp,
        {
            "product": found,
            "quantity": quantity,
            "unit_price": unit_price,
            "price_list": price_list,
            "discount_percent": discount_percent,
            "discount_amount": discount_amount,
            "description": description,
        },
        None,
    )
    top = opp.lines.aggregate(m=Max("position"))["m"]
    line = OpportunityLine.objects.create(opportunity=opp, position=(top or 0) + 1, **values)
    before = opp.amount
    _sync_amount(opp)
    _timeline(LINE_ADDED_EVENT, opp, by, line, before)
    return line


@transaction.atomic
def opportunity_line_update(
    *, by: Any, line: OpportunityLine, data: Mapping[str, Any], version: int | None = None
) -> OpportunityLine:
    """Change a line (`data`: only the fields to change, among `LINE_FIELDS`). A new product or
    quantity takes the price list's price again unless the price was typed (or is given now);
    giving one discount clears the other."""
    unknown = set(data) - LINE_FIELDS
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    opp = _locked(by, line.opportunity, version)
    current = OpportunityLine.objects.select_for_update().get(pk=line.pk, opportunity=opp)
    product = current.product
    if "product" in data and getattr(data["product"], "pk", data["product"]) != current.product_id:
        product = _check_product(by, data["product"], new=True)
    values: dict[str, Any] = {
        "product": product,
        "quantity": data.get("quantity", current.quantity),
        "discount_percent": current.discount_percent,
        "discount_amount": current.discount_amount,
        "description": data.get("description", current.description),
        "price_list": data.get("price_list", current.price_list),
        "unit_price": data.get("unit_price", current.unit_price),
        "price_source": current.price_source,
    }
    if "product" in data and product.pk != current.product_id and "description" not in data:
        values["description"] = ""  # the new product's name
    if "discount_percent" in data or "discount_amount" in data:
        values["discount_percent"] = data.get("discount_percent")
        values["discount_amount"] = data.get("discount_amount")
    quantity_changed = "quantity" in data and _decimal_or(data["quantity"]) != current.quantity
    from_list = current.price_list_id is not None or bool(current.price_source)
    if "unit_price" in data:
        if data["unit_price"] in (None, ""):
            values["unit_price"] = None  # back to the price list's
        else:
            values["price_list"] = data.get("price_list")
            values["price_source"] = ""
    elif product.pk != current.product_id or (quantity_changed and from_list) or "price_list" in data:
        values["unit_price"] = None
        if "price_list" not in data:
            values["price_list"] = None
    if values["unit_price"] is None:
        values["price_source"] = ""
    new = _validated(by, opp, values, current)
    changed = [k for k, v in new.items() if getattr(current, k) != v]
    if not changed:
        return current
    for name in changed:
        setattr(current, name, new[name])
    current.save(update_fields=[*changed, "updated_at"])
    before = opp.amount
    _sync_amount(opp)
    _timeline(LINE_CHANGED_EVENT, opp, by, current, before)
    return current


def _decimal_or(value: Any) -> Any:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return value


@transaction.atomic
def opportunity_line_delete(*, by: Any, line: OpportunityLine, version: int | None = None) -> None:
    """Remove a line; the amount follows the lines left (the last one gone: it stays as it was)."""
    opp = _locked(by, line.opportunity, version)
    current = OpportunityLine.objects.select_for_update().get(pk=line.pk, opportunity=opp)
    before = opp.amount
    current.delete()
    _sync_amount(opp)
    _timeline(LINE_REMOVED_EVENT, opp, by, current, before)


@transaction.atomic
def opportunity_lines_reorder(
    *, by: Any, opportunity: Opportunity, line_ids: Sequence[int | str], version: int | None = None
) -> list[OpportunityLine]:
    """Put the lines in the order of `line_ids` (every line of the opportunity, once)."""
    opp = _locked(by, opportunity, version)
    lines = {ln.pk: ln for ln in OpportunityLine.objects.select_for_update().filter(opportunity=opp)}
    try:
        ids = [int(i) for i in line_ids]
    except (TypeError, ValueError):
        ids = []
    if sorted(ids) != sorted(lines):
        raise _invalid({"lines": [_("Send every line of the opportunity once.")]})
    ordered = []
    for position, pk in enumerate(ids, start=1):
        line = lines[pk]
        if line.position != position:
            line.position = position
            line.save(update_fields=["position", "updated_at"])
        ordered.append(line)
    return ordered
