"""Quotes (报价单): create, edit, lines, and every status move.

Status flow (one service per move; each writes a timeline event on the quote and its account)::

    draft ──submit──▶ pending ──approve (all steps)──▶ approved ──mark_sent──▶ sent
      ▲                 │  └──reject (one step)──▶ draft      │                 │
      │                 └──recall (owner)──▶ draft            ├──accept / decline (customer)
      │                                                        └──expire (daily, past valid_until)
    submit with no rule met: draft ──▶ approved directly.

* Only the latest version of a quote while it is a draft is editable (header, lines); anything
  else answers a clear error and changes nothing (`QuoteStateError`, 409).
* Revising (approved / sent / rejected / expired) creates the next version: same number,
  revision + 1, lines copied, status draft; the earlier version stays read-only.
* Numbers come from ``sequence_next(key="quote", prefix="QT")`` on create only.
* Line amounts: ``kehu.core.money.line_amounts`` (per line, half-up, to the currency's minor unit
  — the catalog currency record's decimal places when there is one); the quote's totals are the
  sums (``document_totals``), its company-currency total through ``catalog.to_company_currency``
  at the rate of the quote date.
* The approval rules and who approves: `services.approvals`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.audit.services import timeline_record
from kehu.catalog.models import PriceList, PriceListItem, Product
from kehu.catalog.selectors import (
    PRICE_SOURCE_HAND,
    company_currency_code,
    currency_codes,
    price_for,
    price_source_token,
    rate_on,
    rounding_code,
    to_company_currency,
)
from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import PermissionDeniedError
from kehu.core.money import LineAmounts, MoneyError, document_totals, line_amounts
from kehu.core.money import parse_decimal as _decimal
from kehu.core.services import sequence_next
from kehu.notifications.services import notify
from kehu.users.selectors import users_by_language

from ..choices import ApprovalStatus, ApproverKind, QuoteStatus
from ..models import Quote, QuoteApproval, QuoteLine
from ..selectors.quotes import opportunity_price_list
from .approvals import QuoteError, QuoteStateError, approver_for, role_has_users, rules_met

SEQUENCE_KEY, SEQUENCE_PREFIX = "quote", "QT"
VALID_DAYS = 30
MAX_QUANTITY = Decimal("99999999999999")

# Timeline events
EVENT_CREATED = "quote.created"
EVENT_SUBMITTED = "quote.submitted"
EVENT_APPROVED = "quote.approved"
EVENT_STEP_APPROVED = "quote.step_approved"
EVENT_REJECTED = "quote.approval_rejected"
EVENT_RECALLED = "quote.recalled"
EVENT_SENT = "quote.sent"
EVENT_ACCEPTED = "quote.accepted"
EVENT_DECLINED = "quote.declined"
EVENT_EXPIRED = "quote.expired"
EVENT_REVISED = "quote.revised"
EVENT_DELETED = "quote.deleted"

# Notification kinds
KIND_APPROVAL_REQUEST = "commerce.quote_approval"
KIND_APPROVAL_DECISION = "commerce.quote_decision"

HEADER_FIELDS = frozenset(
    {
        "name",
        "contact",
        "price_list",
        "currency",
        "quote_date",
        "valid_until",
        "language",
        "terms",
        "notes",
        "owner",
        "custom",
    }
)
LINE_FIELDS = frozenset(
    {
        "product",
        "description",
        "quantity",
        "unit_price",
        "discount_percent",
        "discount_amount",
        "tax_rate",
        "price_list",
    }
)

#: Which moves each status allows (the buttons on the page follow this).
MOVES: dict[str, tuple[str, ...]] = {
    QuoteStatus.DRAFT: ("edit", "submit", "delete"),
    QuoteStatus.PENDING: ("approve", "reject", "recall"),
    QuoteStatus.APPROVED: ("send", "accept", "decline", "revise"),
    QuoteStatus.SENT: ("send", "accept", "decline", "revise"),
    QuoteStatus.ACCEPTED: (),
    QuoteStatus.REJECTED: ("revise",),
    QuoteStatus.EXPIRED: ("revise",),
}


def _invalid(fields: dict[str, list[str]], message: str | None = None) -> QuoteError:
    return QuoteError(message or _("Some fields are not valid."), fields=fields)


def _state_message(action: str) -> str:
    """One full sentence per move (translators see the whole sentence, never a fragment)."""
    messages = {
        "submit": _("A quote that is “%(status)s” cannot be submitted."),
        "decide": _("A quote that is “%(status)s” cannot be approved or rejected."),
        "recall": _("A quote that is “%(status)s” cannot be recalled."),
        "send": _("A quote that is “%(status)s” cannot be sent."),
        "accept": _("A quote that is “%(status)s” cannot be accepted."),
        "decline": _("A quote that is “%(status)s” cannot be declined."),
        "revise": _("A quote that is “%(status)s” cannot be revised."),
        "delete": _("A quote that is “%(status)s” cannot be deleted."),
    }
    return messages.get(action) or _("A quote that is “%(status)s” cannot be changed.")


def _state_error(quote: Quote, action: str) -> QuoteStateError:
    if not quote.is_latest:
        return QuoteStateError(
            _("This is an earlier version of quote %(number)s: it is read-only. Open the latest version.")
            % {"number": quote.number}
        )
    return QuoteStateError(_state_message(action) % {"status": quote.get_status_display()})


def _not_editable(quote: Quote) -> QuoteStateError:
    if not quote.is_latest:
        return _state_error(quote, "")
    return QuoteStateError(
        _("Quote %(number)s is “%(status)s”: only a draft can be changed. Revise it to make a new version.")
        % {"number": quote, "status": quote.get_status_display()}
    )


# --- money helpers ---------------------------------------------------------------------------------


def _recompute(quote: Quote) -> None:
    """The quote's totals from its lines, and the company-currency equivalent (no save)."""
    rows = list(quote.lines.values_list("gross", "discount", "net", "tax", "total", "tax_rate"))
    totals = document_totals(
        (LineAmounts(gross=g, discount=d, net=n, tax=t, total=tt, tax_rate=r) for g, d, n, t, tt, r in rows),
        rounding_code(quote.currency),
    )
    quote.subtotal, quote.discount_total = totals.subtotal, totals.discount
    quote.net_total, quote.tax_total, quote.total = totals.net, totals.tax, totals.total
    quote.exchange_rate = rate_on(quote.currency, quote.quote_date)
    quote.total_company = to_company_currency(totals.total, quote.currency, quote.quote_date)


def _save_totals(quote: Quote) -> None:
    _recompute(quote)
    _check_totals_fit(quote)
    quote.version += 1
    quote.save(
        update_fields=[
            "subtotal",
            "discount_total",
            "net_total",
            "tax_total",
            "total",
            "exchange_rate",
            "total_company",
            "version",
            "updated_at",
        ]
    )


def _timeline(event: str, quote: Quote, by: Any, **data: Any) -> None:
    data.setdefault("number", str(quote))
    data.setdefault("total", str(quote.total))
    data.setdefault("currency", quote.currency)
    timeline_record(event=event, obj=quote, by=by, data=data, account_id=quote.account_id)


def _status(
    quote: Quote, status: str, *, by: Any, event: str, extra: Iterable[str] = (), **data: Any
) -> None:
    before = quote.status
    quote.status = status
    quote.version += 1
    quote.save(update_fields=["status", "version", "updated_at", *extra])
    _timeline(event, quote, by, changes={"status": [before, status]}, **data)


# --- loading -----------------------------------------------------------------------------------


def _locked(quote: Quote, by: Any, action: str = Action.CHANGE, version: int | None = None) -> Quote:
    current = Quote.objects.select_for_update().get(pk=quote.pk)
    if by is not None:
        owned.check_action(by, Quote, action, obj=current)
    owned.check_version(current, version)
    return current


def _editable(quote: Quote, by: Any, version: int | None = None) -> Quote:
    current = _locked(quote, by, Action.CHANGE, version)
    if not current.is_editable:
        raise _not_editable(current)
    return current


# --- create / update -------------------------------------------------------------------------------


def _check_currency(code: Any) -> str:
    value = str(code or "").strip().upper()
    codes = currency_codes()
    if value not in codes:
        raise _invalid(
            {
                "currency": [
                    _("Unknown currency “%(code)s”. Choose one of: %(codes)s.")
                    % {"code": code, "codes": ", ".join(codes)}
                ]
            }
        )
    return value


def _check_price_list(price_list: PriceList | None, currency: str) -> None:
    if price_list is not None and price_list.currency.code != currency:
        raise _invalid(
            {
                "price_list": [
                    _("The price list is in %(list)s, the quote in %(quote)s.")
                    % {"list": price_list.currency.code, "quote": currency}
                ]
            }
        )


def _check_contact(contact: Any, account: Any) -> None:
    if contact is not None and not contact.accounts.filter(pk=account.pk).exists():
        raise _invalid({"contact": [_("The contact does not belong to the quote's account.")]})


@transaction.atomic
def quote_create(
    *,
    by: Any,
    account: Any = None,
    opportunity: Any = None,
    name: str = "",
    contact: Any = None,
    currency: str | None = None,
    owner: Any = None,
    price_list: PriceList | None = None,
    price_list_from_opportunity: bool = True,
    quote_date: dt.date | None = None,
    valid_until: dt.date | None = None,
    language: str | None = None,
    terms: str = "",
    notes: str = "",
    custom: Mapping[str, Any] | None = None,
) -> Quote:
    """A draft quote for `account`, or from `opportunity` (its account, contact, currency, owner,
    the price list its lines were priced from and its lines). A `price_list` given wins; with
    `price_list_from_opportunity` False, None means no price list (a form that offered the
    opportunity's list, cleared)."""
    from kehu.customers.models import Account

    owned.check_action(by, Quote, Action.ADD)
    if opportunity is not None:
        from kehu.sales.models import Opportunity

        if not Opportunity.objects.restrict(by, Action.VIEW).filter(pk=opportunity.pk).exists():
            raise _invalid({"opportunity": [_("Choose an opportunity you can see.")]})
        account = account or opportunity.account
        if account.pk != opportunity.account_id:
            raise _invalid({"opportunity": [_("The opportunity belongs to another account.")]})
        contact = contact if contact is not None else getattr(opportunity, "contact", None)
        currency = currency or opportunity.currency
        _check_opportunity_currency(opportunity, currency)
        if price_list is None and price_list_from_opportunity:
            # the price list the opportunity's lines were priced from, so that lines re-priced on
            # the quote resolve from the same list (only one in the quote's currency)
            price_list = opportunity_price_list(opportunity=opportunity, user=by, currency=currency)
        if owner is None and opportunity.owner_id and opportunity.owner_id != by.pk:
            owner = opportunity.owner if _may_assign(by) else None
        name = name or opportunity.name
    if account is None:
        raise _invalid({"account": [_("This field is required.")]})
    if not Account.objects.restrict(by, Action.VIEW).filter(pk=account.pk).exists():
        raise _invalid({"account": [_("Choose an account you can see.")]})
    name = str(name or "").strip() or _("Quote for %(account)s") % {"account": account}
    code = _check_currency(currency or company_currency_code())
    _check_price_list(price_list, code)
    _check_contact(contact, account)
    today = timezone.localdate()
    quote_date = quote_date or today
    if valid_until is not None and valid_until < quote_date:
        raise _invalid({"valid_until": [_("The validity date may not be before the quote date.")]})
    new_owner = owned.resolve_owner(by, Quote, owner)
    quote = Quote(
        name=name[:200],
        account=account,
        contact=contact,
        opportunity=opportunity,
        price_list=price_list,
        currency=code,
        quote_date=quote_date,
        valid_until=valid_until or (quote_date + dt.timedelta(days=VALID_DAYS)),
        language=language or "zh-hans",
        terms=terms,
        notes=notes,
        custom=dict(custom or {}),
        created_by=by,
    )
    owned.set_owner(quote, new_owner)
    owned.full_clean_or_raise(quote, exclude=("number", "owner", "department", "created_by", "account"))
    quote.number = sequence_next(key=SEQUENCE_KEY, prefix=SEQUENCE_PREFIX)
    quote.save()
    if opportunity is not None:
        _copy_opportunity_lines(quote, opportunity)
    _recompute(quote)
    _check_totals_fit(quote)
    quote.save()
    owned.recheck_scope(by, quote, Action.VIEW, transfer=new_owner is not by)
    _timeline(EVENT_CREATED, quote, by, opportunity=getattr(opportunity, "pk", None))
    return quote


def _check_opportunity_currency(opportunity: Any, currency: Any) -> None:
    """The opportunity's lines are copied as they are (no conversion): a quote in another currency
    than the opportunity's is refused while it has lines."""
    code = str(currency or "").strip().upper()
    if not code or code == opportunity.currency:
        return
    manager = getattr(opportunity, "lines", None)
    if manager is None or not manager.exists():
        return
    raise _invalid(
        {
            "currency": [
                _(
                    "The opportunity's lines are in %(currency)s: quote in %(currency)s, or start the "
                    "quote from the account."
                )
                % {"currency": opportunity.currency}
            ]
        }
    )


def _may_assign(by: Any) -> bool:
    from kehu.core.permissions import can

    return can(by, Quote, Action.ASSIGN)


def _copy_opportunity_lines(quote: Quote, opportunity: Any) -> None:
    """The opportunity's product lines, when the sales app has them (``opportunity.lines``)."""
    manager = getattr(opportunity, "lines", None)
    if manager is None or not hasattr(manager, "all"):
        return
    for position, src in enumerate(manager.all().select_related("product"), start=1):
        product = getattr(src, "product", None)
        _create_line(
            quote,
            position=position,
            product=product,
            description=getattr(src, "description", "") or (product.name if product else ""),
            quantity=src.quantity,
            unit=getattr(src, "unit", "") or getattr(product, "unit", ""),
            unit_price=src.unit_price,
            price_source=getattr(src, "price_source", ""),
            discount_percent=getattr(src, "discount_percent", None),
            discount_amount=getattr(src, "discount_amount", None),
            tax_rate=getattr(src, "tax_rate", None) or Decimal(0),
        )


@transaction.atomic
def quote_update(*, quote: Quote, by: Any, data: Mapping[str, Any], version: int | None = None) -> Quote:
    """Change the header of a draft (latest version only)."""
    unknown = set(data) - HEADER_FIELDS
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    current = _editable(quote, by, version)
    owned.check_locked_fields(by, Quote, data, current=current)
    values = dict(data)
    if "currency" in values:
        code = _check_currency(values["currency"])
        if code != current.currency and current.lines.exists():
            raise _invalid({"currency": [_("The currency cannot change while the quote has lines.")]})
        values["currency"] = code
    currency = values.get("currency", current.currency)
    if "price_list" in values:
        _check_price_list(values["price_list"], currency)
    elif "currency" in values and current.price_list_id:
        _check_price_list(current.price_list, currency)
    if "contact" in values:
        _check_contact(values["contact"], current.account)
    if "name" in values:
        values["name"] = str(values["name"] or "").strip()
        if not values["name"]:
            raise _invalid({"name": [_("This field is required.")]})
    quote_date = values.get("quote_date", current.quote_date)
    valid_until = values.get("valid_until", current.valid_until)
    if quote_date is None:
        raise _invalid({"quote_date": [_("This field is required.")]})
    if valid_until is not None and valid_until < quote_date:
        raise _invalid({"valid_until": [_("The validity date may not be before the quote date.")]})
    transfer = False
    if "owner" in values:
        new_owner = owned.resolve_owner(by, Quote, values.pop("owner"), obj=current)
        transfer = new_owner.pk != current.owner_id if new_owner else False
        owned.set_owner(current, new_owner)
    if "custom" in values:
        current.custom = {**(current.custom or {}), **dict(values.pop("custom") or {})}
    for name, value in values.items():
        setattr(current, name, value)
    owned.full_clean_or_raise(current, exclude=("owner", "department", "created_by", "account"))
    _recompute(current)
    _check_totals_fit(current)
    current.version += 1
    current.save()
    owned.recheck_scope(by, current, Action.CHANGE, transfer=transfer)
    return current


# --- lines ---------------------------------------------------------------------------------------


def _create_line(quote: Quote, *, position: int, **values: Any) -> QuoteLine:
    amounts = _amounts(quote, values)
    _check_fits(values, amounts)
    product = values.get("product")
    line = QuoteLine(
        quote=quote,
        position=position,
        product=product,
        product_code=getattr(product, "code", "") or "",
        description=str(values.get("description") or getattr(product, "name", ""))[:500],
        quantity=values["quantity"],
        unit=values.get("unit") or getattr(product, "unit", "") or "",
        unit_price=values["unit_price"],
        price_source=str(values.get("price_source") or "")[:300],
        discount_percent=values.get("discount_percent"),
        discount_amount=values.get("discount_amount"),
        tax_rate=values.get("tax_rate") or Decimal(0),
        unit_cost=getattr(product, "cost", None),
        gross=amounts.gross,
        discount=amounts.discount,
        net=amounts.net,
        tax=amounts.tax,
        total=amounts.total,
    )
    line.save()
    return line


def _amounts(quote: Quote, values: Mapping[str, Any]) -> LineAmounts:
    try:
        return line_amounts(
            quantity=values["quantity"],
            unit_price=values["unit_price"],
            currency=rounding_code(quote.currency),
            discount_percent=values.get("discount_percent"),
            discount_amount=values.get("discount_amount"),
            tax_rate=values.get("tax_rate") or Decimal(0),
        )
    except MoneyError as exc:
        fields = dict(exc.fields)
        if "discount" in fields:
            fields["discount_percent"] = fields.pop("discount")
        raise _invalid(fields or {"unit_price": [str(exc.message)]}) from None


def _limit(model: Any, field: str) -> Decimal:
    """The first value the column `field` of `model` cannot hold (its max_digits/decimal_places)."""
    column = model._meta.get_field(field)
    return Decimal(10) ** (column.max_digits - column.decimal_places)


def _too_large_error(limit: Decimal) -> QuoteError:
    message = _(
        "The line's amount (quantity × unit price) is too large: it must stay below %(limit)s. "
        "Lower the quantity or the unit price."
    ) % {"limit": f"{limit:,}"}
    return _invalid({"quantity": [message], "unit_price": [message]})


def _check_fits(values: Mapping[str, Any], amounts: LineAmounts) -> None:
    """Refuse a unit price or line amounts the money columns cannot hold (field errors on
    quantity / unit_price instead of a database error)."""
    price_limit = _limit(QuoteLine, "unit_price")
    if abs(Decimal(values["unit_price"])) >= price_limit:
        raise _invalid(
            {"unit_price": [_("Enter a unit price below %(limit)s.") % {"limit": f"{price_limit:,}"}]}
        )
    for name in ("gross", "discount", "net", "tax", "total"):
        limit = _limit(QuoteLine, name)
        if abs(getattr(amounts, name)) >= limit:
            raise _too_large_error(limit)


def _check_totals_fit(quote: Quote) -> None:
    """The quote's totals (the sums of its lines, and the company-currency total) must fit too."""
    for name in ("subtotal", "discount_total", "net_total", "tax_total", "total", "total_company"):
        value = getattr(quote, name)
        limit = _limit(Quote, name)
        if value is not None and abs(value) >= limit:
            raise _too_large_error(limit)


def _price_from_list(
    price_list: PriceList, product: Product, quantity: Decimal
) -> tuple[Decimal, str] | None:
    item = (
        PriceListItem.objects.filter(price_list=price_list, product=product, min_quantity__lte=quantity)
        .order_by("-min_quantity")
        .first()
    )
    if item is None:
        return None
    # stored language-neutral; shown in the reader's language by catalog.selectors.price_source_text
    return item.unit_price, price_source_token(name=price_list.name, min_quantity=item.min_quantity)


def resolve_price(
    *, quote: Quote, product: Product, quantity: Decimal, price_list: PriceList | None = None
) -> tuple[Decimal, str] | None:
    """(unit price, explanation) of `quantity` of `product` on `quote`: from `price_list` (or the
    quote's own price list) when it prices the product, else `catalog.price_for`."""
    chosen = price_list or quote.price_list
    if chosen is not None:
        _check_price_list(chosen, quote.currency)
        found = _price_from_list(chosen, product, quantity)
        if found is not None:
            return found
        if price_list is not None:
            return None
    resolved = price_for(
        product=product,
        currency=quote.currency,
        quantity=quantity,
        account=quote.account,
        on=quote.quote_date,
    )
    if resolved is None:
        return None
    return resolved.unit_price, resolved.stored_source


def _line_values(by: Any, quote: Quote, data: Mapping[str, Any], line: QuoteLine | None) -> dict[str, Any]:
    unknown = set(data) - LINE_FIELDS
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    product = data.get("product", line.product if line else None)
    if product is not None and not isinstance(product, Product):
        product = Product.objects.filter(pk=product).first()
    if product is not None and (line is None or product.pk != line.product_id):
        visible = Product.objects.restrict(by, Action.VIEW).filter(pk=product.pk).first()
        if visible is None:
            errors["product"] = [_("Choose a product you can see.")]
        elif not visible.is_active:
            errors["product"] = [_("The product “%(name)s” is not active.") % {"name": visible.name}]
    default_qty = line.quantity if line else None
    quantity = _decimal(data.get("quantity", default_qty), "quantity", errors)
    if quantity is None and "quantity" not in errors:
        errors["quantity"] = [_("This field is required.")]
    elif quantity is not None and quantity < 0:
        errors["quantity"] = [_("The quantity may not be negative.")]
    elif quantity is not None and quantity == 0:
        errors["quantity"] = [_("The quantity must be greater than zero.")]
    elif quantity is not None and quantity > MAX_QUANTITY:
        errors["quantity"] = [_("The quantity may be at most %(limit)s.") % {"limit": f"{MAX_QUANTITY:,f}"}]
    elif quantity is not None and -quantity.as_tuple().exponent > 4:  # type: ignore[operator]
        errors["quantity"] = [_("Enter a quantity with at most 4 decimal places.")]
    changed_pricing = line is None or "product" in data or "quantity" in data or "price_list" in data
    price_given = "unit_price" in data and data["unit_price"] not in (None, "")
    unit_price = _decimal(data["unit_price"], "unit_price", errors) if price_given else None
    if unit_price is not None and unit_price < 0:
        errors["unit_price"] = [_("The unit price may not be negative.")]
    percent = _decimal(
        data.get("discount_percent", line.discount_percent if line else None), "discount_percent", errors
    )
    amount = _decimal(
        data.get("discount_amount", line.discount_amount if line else None), "discount_amount", errors
    )
    if (
        line is not None
        and "discount_percent" in data
        and data["discount_percent"] not in (None, "")
        and "discount_amount" not in data
    ):
        amount = None
    if (
        line is not None
        and "discount_amount" in data
        and data["discount_amount"] not in (None, "")
        and "discount_percent" not in data
    ):
        percent = None
    if percent is not None and not 0 <= percent <= 100:
        errors["discount_percent"] = [_("The discount is between 0 and 100 %.")]
    if amount is not None and amount < 0:
        errors["discount_amount"] = [_("The discount may not be negative.")]
    tax_rate = _decimal(data.get("tax_rate"), "tax_rate", errors) if "tax_rate" in data else None
    if tax_rate is not None and not 0 <= tax_rate <= 100:
        errors["tax_rate"] = [_("The tax rate is between 0 and 100 %.")]
    description = str(data.get("description", line.description if line else "") or "").strip()
    if product is None and not description:
        errors["description"] = [_("Describe the line or choose a product.")]
    price_list = data.get("price_list")
    if price_list is not None and price_list.currency.code != quote.currency:
        errors["price_list"] = [
            _("The price list is in %(list)s, the quote in %(quote)s.")
            % {"list": price_list.currency.code, "quote": quote.currency}
        ]
    if errors:
        raise _invalid(errors)
    assert quantity is not None
    source = line.price_source if line else ""
    if unit_price is None:
        if line is not None and not changed_pricing:
            unit_price = line.unit_price
        elif product is None:
            if line is not None:
                unit_price = line.unit_price
            else:
                raise _invalid({"unit_price": [_("Enter a unit price for a line without a product.")]})
        else:
            resolved = resolve_price(quote=quote, product=product, quantity=quantity, price_list=price_list)
            if resolved is None:
                raise _invalid(
                    {
                        "unit_price": [
                            _(
                                "No price list prices this product in %(currency)s for this account: "
                                "enter a unit price."
                            )
                            % {"currency": quote.currency}
                        ]
                    }
                )
            unit_price, source = resolved
    else:
        # a price typed as the price list says (the form pre-fills it) keeps its explanation
        resolved = None
        if product is not None and (line is None or changed_pricing or unit_price != line.unit_price):
            resolved = resolve_price(quote=quote, product=product, quantity=quantity, price_list=price_list)
        if resolved is not None and resolved[0] == unit_price:
            source = resolved[1]
        elif line is None or unit_price != line.unit_price or changed_pricing:
            source = PRICE_SOURCE_HAND
    if tax_rate is None:
        if line is not None and (product is None or product.pk == line.product_id):
            tax_rate = line.tax_rate
        else:
            tax_rate = getattr(product, "tax_rate", None) or Decimal(0)
    return {
        "product": product,
        "description": description or getattr(product, "name", ""),
        "quantity": quantity,
        "unit_price": unit_price,
        "price_source": source,
        "discount_percent": percent,
        "discount_amount": amount,
        "tax_rate": tax_rate,
    }


@transaction.atomic
def quote_line_add(
    *, quote: Quote, by: Any, data: Mapping[str, Any], version: int | None = None
) -> QuoteLine:
    """Add a line to a draft: `data` holds product, quantity, and optionally unit_price (else the
    price list's, explained in ``price_source``), discount_percent or discount_amount, tax_rate
    (else the product's), description, price_list."""
    current = _editable(quote, by, version)
    values = _line_values(by, current, data, None)
    position = (current.lines.aggregate(m=Max("position"))["m"] or 0) + 1
    line = _create_line(current, position=position, **values)
    _save_totals(current)
    quote.version = current.version
    return line


@transaction.atomic
def quote_line_update(
    *, line: QuoteLine, by: Any, data: Mapping[str, Any], version: int | None = None
) -> QuoteLine:
    current = _editable(line.quote, by, version)
    line = QuoteLine.objects.select_for_update().get(pk=line.pk, quote=current)
    values = _line_values(by, current, data, line)
    amounts = _amounts(current, values)
    _check_fits(values, amounts)
    product = values["product"]
    if product is not None and product.pk != line.product_id:
        line.product_code, line.unit, line.unit_cost = product.code, product.unit, product.cost
    line.product = product
    line.description = values["description"][:500]
    for name in ("quantity", "unit_price", "discount_percent", "discount_amount", "tax_rate"):
        setattr(line, name, values[name])
    line.price_source = str(values["price_source"] or "")[:300]
    line.gross, line.discount, line.net = amounts.gross, amounts.discount, amounts.net
    line.tax, line.total = amounts.tax, amounts.total
    line.save()
    _save_totals(current)
    return line


@transaction.atomic
def quote_line_delete(*, line: QuoteLine, by: Any, version: int | None = None) -> None:
    current = _editable(line.quote, by, version)
    QuoteLine.objects.filter(pk=line.pk, quote=current).delete()
    _save_totals(current)


@transaction.atomic
def quote_lines_reorder(*, quote: Quote, by: Any, order: Sequence[int], version: int | None = None) -> None:
    """Put the lines in `order` (line ids; every line of the quote exactly once)."""
    current = _editable(quote, by, version)
    ids = list(current.lines.values_list("pk", flat=True))
    try:
        wanted = [int(i) for i in order]
    except (TypeError, ValueError):
        raise _invalid({"order": [_("List every line of the quote once.")]}) from None
    if sorted(wanted) != sorted(ids):
        raise _invalid({"order": [_("List every line of the quote once.")]})
    for position, pk in enumerate(wanted, start=1):
        QuoteLine.objects.filter(pk=pk).update(position=position)
    current.version += 1
    current.save(update_fields=["version", "updated_at"])


# --- approval --------------------------------------------------------------------------------------


def _approvers(approval: QuoteApproval) -> list[Any]:
    if approval.approver_id:
        return [approval.approver_id]
    if approval.role_id:
        return list(approval.role.users.filter(is_active=True).values_list("pk", flat=True))  # type: ignore[union-attr]
    return []


def may_decide(approval: QuoteApproval, user: Any) -> bool:
    """Whether `user` may approve or reject this pending step."""
    if approval.status != ApprovalStatus.PENDING or not getattr(user, "is_authenticated", False):
        return False
    if approval.approver_id is not None:
        return bool(approval.approver_id == user.pk)
    if approval.role_id is not None:
        return bool(user.roles.filter(pk=approval.role_id).exists())
    return False


@transaction.atomic
def quote_submit(*, quote: Quote, by: Any, version: int | None = None) -> Quote:
    """Submit a draft: every active approval rule it meets adds a step for its approver (who is
    notified); when none is met the quote is approved at once."""
    current = _locked(quote, by, Action.CHANGE, version)
    if not current.is_editable:
        raise _state_error(current, "submit")
    if not current.lines.exists():
        raise _invalid({"lines": [_("Add at least one line before submitting the quote.")]})
    _recompute(current)
    hits = rules_met(current)
    now = timezone.now()
    if not hits:
        current.submitted_at = current.approved_at = now
        current.save()
        _status(current, QuoteStatus.APPROVED, by=by, event=EVENT_APPROVED, automatic=True)
        return current
    owner = current.owner or by
    steps: list[QuoteApproval] = []
    for hit in hits:
        if hit.rule.approver_kind == ApproverKind.ROLE:
            role = hit.rule.role
            if role is None or not role_has_users(role):
                raise QuoteError(
                    _("Nobody holds the role “%(role)s” that must approve this quote (%(reason)s).")
                    % {"role": role, "reason": hit.reason},
                    code="no_approver",
                )
            steps.append(
                QuoteApproval(
                    quote=current, rule=hit.rule, reason=hit.reason[:300], reason_data=hit.data, role=role
                )
            )
        else:
            steps.append(
                QuoteApproval(
                    quote=current,
                    rule=hit.rule,
                    reason=hit.reason[:300],
                    reason_data=hit.data,
                    approver=approver_for(owner),
                )
            )
    QuoteApproval.objects.bulk_create(steps)
    current.submitted_at = now
    current.save()
    _status(
        current,
        QuoteStatus.PENDING,
        by=by,
        event=EVENT_SUBMITTED,
        extra=(),
        reasons=[s.reason_data for s in steps],
    )
    recipients: set[Any] = set()
    for step in steps:
        recipients.update(_approvers(step))
    recipients.discard(getattr(by, "pk", None))
    from django.urls import reverse

    # Each approver reads the notification in their own language (the reasons are data).
    for language, ids in users_by_language(sorted(recipients), active_only=False).items():
        with translation.override(language):
            notify(
                recipients=ids,
                title=_("Quote %(number)s needs your approval") % {"number": current},
                body="; ".join(s.reason_text for s in steps),
                url=reverse("commerce:approval_inbox"),
                kind=KIND_APPROVAL_REQUEST,
                actor=by,
                target=current,
            )
    return current


def _pending_steps(quote: Quote) -> Any:
    return quote.approvals.filter(status=ApprovalStatus.PENDING).select_related("role")


def _decidable(current: Quote, by: Any) -> list[QuoteApproval]:
    if current.status != QuoteStatus.PENDING or not current.is_latest:
        raise _state_error(current, "decide")
    pending = current.approvals.filter(status=ApprovalStatus.PENDING).select_for_update()
    steps = [s for s in pending if may_decide(s, by)]
    if not steps:
        raise PermissionDeniedError(_("You are not an approver of this quote."))
    if current.owner_id == by.pk:
        raise PermissionDeniedError(_("You may not approve or reject your own quote."))
    return steps


def _notify_owner(quote: Quote, by: Any, title: str, body: str = "") -> None:
    if quote.owner_id and quote.owner_id != getattr(by, "pk", None):
        notify(
            recipients=[quote.owner_id],
            title=title,
            body=body,
            url=quote.get_absolute_url(),
            kind=KIND_APPROVAL_DECISION,
            actor=by,
            target=quote,
        )


@transaction.atomic
def quote_approve(*, quote: Quote, by: Any, comment: str = "") -> Quote:
    """Approve every pending step of `quote` that `by` may decide; when no step is left pending the
    quote is approved (the owner is told)."""
    current = Quote.objects.select_for_update().get(pk=quote.pk)
    steps = _decidable(current, by)
    now = timezone.now()
    for step in steps:
        step.status, step.decided_by, step.decided_at = ApprovalStatus.APPROVED, by, now
        step.comment = comment.strip()
        step.save(update_fields=["status", "decided_by", "decided_at", "comment", "updated_at"])
        _timeline(EVENT_STEP_APPROVED, current, by, reason=step.reason_data, comment=step.comment)
    if not _pending_steps(current).exists():
        current.approved_at = now
        current.save(update_fields=["approved_at"])
        _status(current, QuoteStatus.APPROVED, by=by, event=EVENT_APPROVED, extra=(), comment=comment.strip())
        _notify_owner(current, by, _("Quote %(number)s was approved") % {"number": current}, comment.strip())
    return current


@transaction.atomic
def quote_reject(*, quote: Quote, by: Any, comment: str) -> Quote:
    """Reject the quote at the steps `by` may decide: the other steps are cancelled and the quote
    goes back to draft with the comment (the owner is told)."""
    comment = str(comment or "").strip()
    if not comment:
        raise _invalid({"comment": [_("Say why the quote is rejected.")]})
    current = Quote.objects.select_for_update().get(pk=quote.pk)
    steps = _decidable(current, by)
    now = timezone.now()
    for step in steps:
        step.status, step.decided_by, step.decided_at, step.comment = (
            ApprovalStatus.REJECTED,
            by,
            now,
            comment,
        )
        step.save(update_fields=["status", "decided_by", "decided_at", "comment", "updated_at"])
    _pending_steps(current).update(status=ApprovalStatus.CANCELLED, updated_at=now)
    current.submitted_at = None
    current.save(update_fields=["submitted_at"])
    _status(current, QuoteStatus.DRAFT, by=by, event=EVENT_REJECTED, comment=comment)
    _notify_owner(current, by, _("Quote %(number)s was rejected") % {"number": current}, comment)
    return current


@transaction.atomic
def quote_recall(*, quote: Quote, by: Any) -> Quote:
    """The owner withdraws a quote waiting for approval: back to draft, pending steps cancelled."""
    current = _locked(quote, by, Action.CHANGE)
    if current.status != QuoteStatus.PENDING or not current.is_latest:
        raise _state_error(current, "recall")
    _pending_steps(current).update(status=ApprovalStatus.CANCELLED, updated_at=timezone.now())
    current.submitted_at = None
    current.save(update_fields=["submitted_at"])
    _status(current, QuoteStatus.DRAFT, by=by, event=EVENT_RECALLED)
    return current


# --- after approval ----------------------------------------------------------------------------------


@transaction.atomic
def quote_mark_sent(*, quote: Quote, by: Any, channel: str = "manual") -> Quote:
    """The quote went to the customer (by the e-mail job, or by hand): approved → sent; sending a
    sent quote again only adds a timeline event."""
    current = _locked(quote, by, Action.CHANGE)
    if current.status not in (QuoteStatus.APPROVED, QuoteStatus.SENT) or not current.is_latest:
        raise _state_error(current, "send")
    current.sent_at = timezone.now()
    if current.status == QuoteStatus.SENT:
        current.save(update_fields=["sent_at", "updated_at"])
        _timeline(EVENT_SENT, current, by, channel=channel)
        return current
    _status(current, QuoteStatus.SENT, by=by, event=EVENT_SENT, extra=("sent_at",), channel=channel)
    return current


@transaction.atomic
def quote_accept(*, quote: Quote, by: Any, note: str = "") -> Quote:
    """The customer accepted (an approved or sent quote)."""
    current = _locked(quote, by, Action.CHANGE)
    if current.status not in (QuoteStatus.APPROVED, QuoteStatus.SENT) or not current.is_latest:
        raise _state_error(current, "accept")
    current.decided_at = timezone.now()
    current.decision_note = str(note or "").strip()
    _status(
        current,
        QuoteStatus.ACCEPTED,
        by=by,
        event=EVENT_ACCEPTED,
        extra=("decided_at", "decision_note"),
        note=current.decision_note,
    )
    return current


@transaction.atomic
def quote_reject_by_customer(*, quote: Quote, by: Any, reason: str) -> Quote:
    """The customer declined (an approved or sent quote), with the reason."""
    reason = str(reason or "").strip()
    if not reason:
        raise _invalid({"reason": [_("Say why the customer declined.")]})
    current = _locked(quote, by, Action.CHANGE)
    if current.status not in (QuoteStatus.APPROVED, QuoteStatus.SENT) or not current.is_latest:
        raise _state_error(current, "decline")
    current.decided_at = timezone.now()
    current.decision_note = reason
    _status(
        current,
        QuoteStatus.REJECTED,
        by=by,
        event=EVENT_DECLINED,
        extra=("decided_at", "decision_note"),
        reason=reason,
    )
    return current


def quote_expire_due(*, today: dt.date | None = None) -> int:
    """Daily: approved or sent quotes past their validity date become expired. Returns how many."""
    today = today or timezone.localdate()
    due = Quote.objects.filter(
        status__in=(QuoteStatus.APPROVED, QuoteStatus.SENT), valid_until__lt=today
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(due):
        with transaction.atomic():
            current = Quote.objects.select_for_update().get(pk=pk)
            if (
                current.status in (QuoteStatus.APPROVED, QuoteStatus.SENT)
                and current.valid_until
                and current.valid_until < today
            ):
                _status(current, QuoteStatus.EXPIRED, by=None, event=EVENT_EXPIRED)
                count += 1
    return count


@transaction.atomic
def quote_revise(*, quote: Quote, by: Any) -> Quote:
    """The next version (same number, revision + 1, lines copied, draft); the current one stays
    as it is, read-only."""
    current = _locked(quote, by, Action.CHANGE)
    if not current.is_latest or current.status not in (
        QuoteStatus.APPROVED,
        QuoteStatus.SENT,
        QuoteStatus.REJECTED,
        QuoteStatus.EXPIRED,
    ):
        raise _state_error(current, "revise")
    Quote.objects.filter(pk=current.pk).update(is_latest=False, version=current.version + 1)
    new = Quote.objects.get(pk=current.pk)
    new.pk = None
    new.id = None
    new._state.adding = True
    new.revision = current.revision + 1
    new.previous = current
    new.is_latest = True
    new.status = QuoteStatus.DRAFT
    new.version = 1
    new.created_by = by
    new.submitted_at = new.approved_at = new.sent_at = new.decided_at = None
    new.decision_note = ""
    today = timezone.localdate()
    new.quote_date = today
    if new.valid_until is not None and new.valid_until < today:
        new.valid_until = today + dt.timedelta(days=VALID_DAYS)
    new.save()
    for line in current.lines.all():
        line.pk = None
        line.id = None
        line._state.adding = True
        line.quote = new
        line.save()
    _recompute(new)
    new.save()
    _timeline(EVENT_REVISED, new, by, previous=current.pk, revision=new.revision)
    return new


@transaction.atomic
def quote_delete(*, quote: Quote, by: Any) -> None:
    """Delete a draft (its earlier version, if any, becomes the latest again)."""
    current = _locked(quote, by, Action.DELETE)
    if current.status != QuoteStatus.DRAFT or not current.is_latest:
        raise _state_error(current, "delete")
    previous_id = current.previous_id
    _timeline(EVENT_DELETED, current, by)
    current.delete()
    if previous_id:
        Quote.objects.filter(pk=previous_id).update(is_latest=True)


def allowed_moves(quote: Quote) -> tuple[str, ...]:
    """The moves the quote's status allows (none on an earlier version)."""
    if not quote.is_latest:
        return ()
    return MOVES.get(quote.status, ())


def open_quotes_q() -> Q:
    return Q(status__in=(QuoteStatus.DRAFT, QuoteStatus.PENDING, QuoteStatus.APPROVED, QuoteStatus.SENT))
