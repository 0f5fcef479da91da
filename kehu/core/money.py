"""Money arithmetic for quote-to-cash (quotes, orders, contracts, payments): pure functions on
`Decimal`, never float.

Minor units
    Each currency is rounded to its ISO 4217 minor unit: ``minor_unit("CNY") == 2``,
    ``minor_unit("JPY") == 0``, ``minor_unit("KWD") == 3``; a code the table does not know gets 2.
    `quantize_money` rounds half-up (``ROUND_HALF_UP``): 2.345 → 2.35, -2.345 → -2.35 (away from
    zero), JPY 2.5 → 3.

The rounding rule (one rule for every document)
    Round per line, half-up, to the currency's minor unit; never round a sum again. A line has a
    quantity (≥ 0, may be fractional: 2.5 kg), a tax-exclusive unit price (≥ 0), at most one
    discount — a percent (0–100) or an amount (≥ 0, not above the line's gross once both are
    rounded) — and a tax rate in percent (0–100; 13 means 13 % VAT). In this order:

    * gross    = round(quantity × unit price)
    * discount = round(gross × percent / 100), or round(amount)
    * net      = gross − discount
    * tax      = round(net × tax rate / 100)
    * total    = net + tax

    Products are computed exactly (no intermediate rounding) before the one rounding step.
    Document totals are plain sums of the line values (`document_totals`), so the lines always add
    up to the document: total = Σ line totals, and subtotal − discount + tax = total.

Chinese uppercase amounts (大写金额) for invoices and contracts
    `chinese_uppercase` follows 中国人民银行《正确填写票据和结算凭证的基本规定》: digits
    零壹贰叁肆伍陆柒捌玖, units 拾佰仟, sections 万 亿 (and 万亿 from 10^12 on, up to 10^16
    exclusive), then 元 角 分. The amount is rounded half-up to fen (2 places) first. Choices
    where the regulation allows more than one form:

    * Bank style: a leading ten reads 壹拾 (10 → 壹拾元整, 100000 → 壹拾万元整), never a bare 拾.
    * 整 follows 元 when there are no 角 and no 分; nothing follows 角 or 分 (1.50 → 壹元伍角).
    * Inside the integer part every run of zeros between two non-zero digits is read as one 零,
      across 万/亿 too (1005 → 壹仟零伍元整, 10010 → 壹万零壹拾元整,
      107000.53 → 壹拾万零柒仟元伍角叁分, 100000001 → 壹亿零壹元整); trailing zeros are silent.
    * 零 after 元 only when 角 is zero and 分 is not (1.05 → 壹元零伍分, 16409.02 →
      壹万陆仟肆佰零玖元零贰分); a zero ones digit before a non-zero 角 adds nothing
      (1680.32 → 壹仟陆佰捌拾元叁角贰分).
    * Less than one yuan reads without 元: 0.50 → 伍角, 0.05 → 伍分, 0.42 → 肆角贰分; zero is
      零元整.
    * Negative amounts get the prefix 负 (-1.00 → 负壹元整); an amount that rounds to zero has none.
    The "人民币" prefix is left to the template that prints the amount.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, DecimalException, Inexact, InvalidOperation

from django.utils.translation import gettext as _

from kehu.core.errors import DomainError

__all__ = [
    "LineAmounts",
    "MoneyError",
    "Totals",
    "chinese_uppercase",
    "document_totals",
    "line_amounts",
    "minor_unit",
    "quantize_money",
]

#: ISO 4217 minor units of the currencies that do not use two places (plus the common ones, so
#: the table reads as a reference). A code not listed gets `DEFAULT_MINOR_UNIT`.
MINOR_UNITS: dict[str, int] = {
    "CNY": 2,
    "USD": 2,
    "EUR": 2,
    "HKD": 2,
    "GBP": 2,
    "TWD": 2,
    "MOP": 2,
    "SGD": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "PYG": 0,
    "UGX": 0,
    "XAF": 0,
    "XOF": 0,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
    "IQD": 3,
    "LYD": 3,
}
DEFAULT_MINOR_UNIT = 2

# Exact arithmetic: any product, sum or shift that would need rounding raises instead (a value
# with more than 60 significant digits is refused, not silently rounded twice).
_EXACT = Context(prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, Inexact])
# The one rounding step.
_ROUND = Context(prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation])
_HUNDRED = Decimal(100)


class MoneyError(DomainError):
    code = "money_invalid"


def _error(field_name: str, message: str) -> MoneyError:
    return MoneyError(message, fields={field_name: [message]})


def _decimal(value: object, field_name: str) -> Decimal:
    """`value` as a finite Decimal; ints are taken as they are, anything else (float!) refused."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise _error(field_name, _("The amount must be a decimal number."))
    number = Decimal(value)
    if not number.is_finite():
        raise _error(field_name, _("The amount must be a finite number."))
    return number


def minor_unit(currency: str) -> int:
    """Decimal places of `currency` (ISO 4217 code, any case); 2 for a code the table lacks."""
    return MINOR_UNITS.get(currency.strip().upper(), DEFAULT_MINOR_UNIT)


def _quantize(amount: Decimal, places: int, field_name: str) -> Decimal:
    try:
        rounded = amount.quantize(Decimal(1).scaleb(-places), context=_ROUND)
    except DecimalException:
        raise _error(field_name, _("The amount is too large.")) from None
    return rounded.copy_abs() if rounded.is_zero() else rounded  # no "-0.00"


def quantize_money(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half-up to the minor unit of `currency` (2.345 CNY → 2.35, 2.5 JPY → 3)."""
    return _quantize(_decimal(amount, "amount"), minor_unit(currency), "amount")


def _exact(field_name: str, op: str, a: Decimal, b: Decimal) -> Decimal:
    try:
        if op == "*":
            return _EXACT.multiply(a, b)
        if op == "-":
            return _EXACT.subtract(a, b)
        return _EXACT.add(a, b)
    except DecimalException:
        raise _error(field_name, _("The amount is too large.")) from None


def _percent_of(amount: Decimal, percent: Decimal, field_name: str) -> Decimal:
    """amount × percent / 100, exactly (dividing by 100 is a shift of the exponent)."""
    try:
        return _EXACT.multiply(amount, percent).scaleb(-2, context=_EXACT)
    except DecimalException:
        raise _error(field_name, _("The amount is too large.")) from None


@dataclass(frozen=True, slots=True)
class LineAmounts:
    """The rounded amounts of one document line (all in the document's currency)."""

    gross: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal
    #: The line's tax rate in percent, kept for the tax breakdown of `document_totals`.
    tax_rate: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums of a document's lines: subtotal = Σ gross, … , total = Σ total."""

    subtotal: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal
    #: Tax per tax rate (percent → tax), rates in order of first appearance.
    tax_by_rate: dict[Decimal, Decimal] = field(default_factory=dict)


def _check_percent(value: Decimal, field_name: str) -> None:
    if not 0 <= value <= _HUNDRED:
        raise _error(field_name, _("The percentage must be between 0 and 100."))


def line_amounts(
    *,
    quantity: Decimal | int,
    unit_price: Decimal | int,
    currency: str,
    discount_percent: Decimal | int | None = None,
    discount_amount: Decimal | int | None = None,
    tax_rate: Decimal | int = Decimal(0),
) -> LineAmounts:
    """The amounts of one line by the module's rounding rule. Raises `MoneyError` naming the
    offending field for a negative quantity or price, a discount out of range or given both ways,
    a tax rate outside 0–100 or a value that is not a finite decimal."""
    places = minor_unit(currency)
    qty = _decimal(quantity, "quantity")
    if qty < 0:
        raise _error("quantity", _("The quantity may not be negative."))
    price = _decimal(unit_price, "unit_price")
    if price < 0:
        raise _error("unit_price", _("The unit price may not be negative."))
    rate = _decimal(tax_rate, "tax_rate")
    _check_percent(rate, "tax_rate")
    if discount_percent is not None and discount_amount is not None:
        message = _("Give the discount either as a percentage or as an amount, not both.")
        raise MoneyError(message, fields={"discount_percent": [message], "discount_amount": [message]})

    gross = _quantize(_exact("unit_price", "*", qty, price), places, "unit_price")
    if discount_percent is not None:
        percent = _decimal(discount_percent, "discount_percent")
        _check_percent(percent, "discount_percent")
        discount = _quantize(_percent_of(gross, percent, "discount_percent"), places, "discount")
    elif discount_amount is not None:
        raw = _decimal(discount_amount, "discount_amount")
        if raw < 0:
            raise _error("discount_amount", _("The discount may not be negative."))
        discount = _quantize(raw, places, "discount_amount")
        if discount > gross:
            raise _error("discount_amount", _("The discount may not exceed the line amount."))
    else:
        discount = _quantize(Decimal(0), places, "discount")
    net = _exact("discount", "-", gross, discount)
    tax = _quantize(_percent_of(net, rate, "tax_rate"), places, "tax_rate")
    total = _exact("tax_rate", "+", net, tax)
    return LineAmounts(gross=gross, discount=discount, net=net, tax=tax, total=total, tax_rate=rate)


def document_totals(lines: Iterable[LineAmounts], currency: str) -> Totals:
    """The sums of `lines` (no second rounding, so the lines add up to the document). A line
    value off the currency's minor unit (a line of another currency) raises `MoneyError`."""
    places = minor_unit(currency)
    zero = _quantize(Decimal(0), places, "lines")
    subtotal = discount = net = tax = total = zero
    tax_by_rate: dict[Decimal, Decimal] = {}
    for line in lines:
        for value in (line.gross, line.discount, line.net, line.tax, line.total):
            if _quantize(_decimal(value, "lines"), places, "lines") != value:
                raise _error("lines", _("A line amount does not fit the document's currency."))
        subtotal = _exact("lines", "+", subtotal, line.gross)
        discount = _exact("lines", "+", discount, line.discount)
        net = _exact("lines", "+", net, line.net)
        tax = _exact("lines", "+", tax, line.tax)
        total = _exact("lines", "+", total, line.total)
        tax_by_rate[line.tax_rate] = _exact("lines", "+", tax_by_rate.get(line.tax_rate, zero), line.tax)
    return Totals(
        subtotal=subtotal, discount=discount, net=net, tax=tax, total=total, tax_by_rate=tax_by_rate
    )


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
#: Section marks by digit position: 万 at 10^4, 亿 at 10^8, 万 at 10^12 (read 万亿 with the 亿).
_SECTIONS = {4: "万", 8: "亿", 12: "万"}
_UPPERCASE_LIMIT = Decimal(10) ** 16


def chinese_uppercase(amount: Decimal | int) -> str:
    """`amount` as a Chinese uppercase amount (大写金额), e.g. 12345.67 →
    壹万贰仟叁佰肆拾伍元陆角柒分; the rules are in the module docstring. Raises `MoneyError` for a
    non-finite value or one of 10^16 or more."""
    value = _quantize(_decimal(amount, "amount"), 2, "amount")
    if value.copy_abs() >= _UPPERCASE_LIMIT:
        raise _error("amount", _("The amount is too large to write in Chinese uppercase."))
    sign = "负" if value < 0 else ""
    fen_total = int(value.copy_abs().scaleb(2, context=_EXACT))
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)

    parts: list[str] = []
    if yuan:
        digits = str(yuan)
        count = len(digits)
        pending_zero = False
        for index, char in enumerate(digits):
            position = count - 1 - index
            digit = int(char)
            if digit:
                if pending_zero:
                    parts.append("零")
                    pending_zero = False
                parts.append(_DIGITS[digit] + _PLACES[position % 4])
            else:
                pending_zero = True
            mark = _SECTIONS.get(position)
            if mark and _section_has_digits(digits, position, mark):
                parts.append(mark)
        parts.append("元")
    if not jiao and not fen:
        return sign + ("".join(parts) if yuan else "零元") + "整"
    if jiao:
        parts.append(_DIGITS[jiao] + "角")
    elif yuan:
        parts.append("零")
    if fen:
        parts.append(_DIGITS[fen] + "分")
    return sign + "".join(parts)


def _section_has_digits(digits: str, position: int, mark: str) -> bool:
    """Whether the 万 (4 positions) or 亿 (all positions from 10^8 up) starting at `position`
    holds a non-zero digit, i.e. whether its mark is written."""
    count = len(digits)
    width = 8 if mark == "亿" else 4
    top = min(position + width, count)
    return any(digits[count - 1 - p] != "0" for p in range(position, top))


def parse_decimal(value: object, field_name: str, errors: dict[str, list[str]]) -> Decimal | None:
    """A form or API value as a finite Decimal; None when empty. A value that is not a number puts
    the translated "Enter a number." under `field_name` in `errors` and gives None."""
    if value in (None, ""):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[field_name] = [_("Enter a number.")]
        return None
    if not number.is_finite():
        errors[field_name] = [_("Enter a number.")]
        return None
    return number
