"""Money arithmetic (kehu.core.money): minor units and half-up rounding, line amounts and document
totals that always add up, the errors of bad input, and Chinese uppercase amounts (大写金额)
against published values and a parser that reads them back."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.core.errors import DomainError
from kehu.core.money import (
    LineAmounts,
    MoneyError,
    Totals,
    chinese_uppercase,
    document_totals,
    line_amounts,
    minor_unit,
    quantize_money,
)

D = Decimal
CURRENCIES = ["CNY", "USD", "JPY", "KRW", "KWD", "BHD", "XYZ"]


# --- minor units and rounding ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "places"),
    [
        ("CNY", 2),
        ("USD", 2),
        ("EUR", 2),
        ("HKD", 2),
        ("GBP", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("JOD", 3),
        ("jpy", 0),
        (" kwd ", 3),
        ("XYZ", 2),
        ("", 2),
    ],
)
def test_minor_unit(currency: str, places: int) -> None:
    assert minor_unit(currency) == places


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.345", "CNY", "2.35"),
        ("2.344", "CNY", "2.34"),
        ("2.365", "CNY", "2.37"),  # half-up, not banker's rounding (2.36)
        ("2.5", "KRW", "3"),
        ("-2.345", "CNY", "-2.35"),
        ("2.5", "JPY", "3"),
        ("3.5", "JPY", "4"),
        ("0.5", "KRW", "1"),
        ("1.0005", "KWD", "1.001"),
        ("7", "USD", "7.00"),
        ("-0.001", "CNY", "0.00"),
        ("0.125", "XYZ", "0.13"),
    ],
)
def test_quantize_money_rounds_half_up(amount: str, currency: str, expected: str) -> None:
    result = quantize_money(D(amount), currency)
    assert result == D(expected)
    assert str(result) == expected  # the exponent is the minor unit, and no "-0.00"


@pytest.mark.parametrize("bad", [D("NaN"), D("Infinity"), D("-Infinity"), D("sNaN"), 2.5, "1"])
def test_quantize_money_refuses_non_decimals(bad: Any) -> None:
    with pytest.raises(MoneyError) as exc:
        quantize_money(bad, "CNY")
    assert list(exc.value.fields) == ["amount"]


# --- line amounts ----------------------------------------------------------------------------


def test_line_amounts_example() -> None:
    line = line_amounts(
        quantity=D("2.5"), unit_price=D("3.333"), currency="CNY", discount_percent=D(10), tax_rate=13
    )
    # gross 8.3325 → 8.33; discount 0.833 → 0.83; net 7.50; tax 0.975 → 0.98; total 8.48
    assert line == LineAmounts(
        gross=D("8.33"), discount=D("0.83"), net=D("7.50"), tax=D("0.98"), total=D("8.48"), tax_rate=D(13)
    )


def test_line_amounts_discount_amount_and_jpy() -> None:
    line = line_amounts(
        quantity=3, unit_price=D("333.5"), currency="JPY", discount_amount=D("0.5"), tax_rate=D(10)
    )
    # gross 1000.5 → 1001; discount 0.5 → 1; net 1000; tax 100
    assert (line.gross, line.discount, line.net, line.tax, line.total) == (
        D(1001),
        D(1),
        D(1000),
        D(100),
        D(1100),
    )


def test_line_amounts_no_discount_no_tax() -> None:
    line = line_amounts(quantity=D("0"), unit_price=D("9.99"), currency="KWD")
    assert str(line.gross) == str(line.total) == "0.000"
    line = line_amounts(quantity=D("-0"), unit_price=D("1"), currency="CNY")
    assert str(line.total) == "0.00"


def test_full_discount_and_exact_products() -> None:
    line = line_amounts(quantity=D(1), unit_price=D("100"), currency="CNY", discount_percent=100)
    assert (line.net, line.tax, line.total) == (D(0), D(0), D(0))
    # a product with more digits than the default 28-digit context is rounded once, not twice
    # (rounded to 28 digits first, …890.0049999… would become …890.00500 and then …890.01)
    price = D("12345678901234567890.004999999999")
    assert D(1) * price == D("12345678901234567890.00500000")  # what the default context does
    line = line_amounts(quantity=D(1), unit_price=price, currency="CNY")
    assert line.gross == D("12345678901234567890.00")
    line = line_amounts(quantity=D("1234567890.12345"), unit_price=D("1234567890123.4567"), currency="CNY")
    assert line.gross == D("1524157875323875183661.10")


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


@st.composite
def lines(draw: st.DrawFn, currency: str) -> LineAmounts:
    quantity = draw(st.decimals(min_value=0, max_value=10**6, places=draw(st.integers(0, 4))))
    price = draw(st.decimals(min_value=0, max_value=10**9, places=draw(st.integers(0, 4))))
    rate = draw(st.decimals(min_value=0, max_value=100, places=2))
    kind = draw(st.sampled_from(["none", "percent", "amount"]))
    if kind == "percent":
        percent = draw(st.decimals(min_value=0, max_value=100, places=3))
        return line_amounts(
            quantity=quantity,
            unit_price=price,
            currency=currency,
            discount_percent=percent,
            tax_rate=rate,
        )
    if kind == "amount":
        gross = line_amounts(quantity=quantity, unit_price=price, currency=currency).gross
        amount = draw(st.decimals(min_value=0, max_value=gross, places=minor_unit(currency)))
        return line_amounts(
            quantity=quantity,
            unit_price=price,
            currency=currency,
            discount_amount=amount,
            tax_rate=rate,
        )
    return line_amounts(quantity=quantity, unit_price=price, currency=currency, tax_rate=rate)


@settings(max_examples=300, deadline=None)
@given(st.data(), st.sampled_from(CURRENCIES))
def test_line_amounts_properties(data: st.DataObject, currency: str) -> None:
    line = data.draw(lines(currency))
    places = minor_unit(currency)
    assert line.net == line.gross - line.discount
    assert line.total == line.net + line.tax
    assert D(0) <= line.discount <= line.gross
    assert line.tax >= 0
    for value in (line.gross, line.discount, line.net, line.tax, line.total):
        assert isinstance(value, Decimal)
        assert _places(value) <= places
        assert value == value.quantize(D(1).scaleb(-places))
    assert line.tax == (line.net * line.tax_rate / 100).quantize(D(1).scaleb(-places), ROUND_HALF_UP)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.sampled_from(CURRENCIES))
def test_document_totals_add_up(data: st.DataObject, currency: str) -> None:
    items = data.draw(st.lists(lines(currency), max_size=12))
    totals = document_totals(iter(items), currency)
    assert totals.total == sum((line.total for line in items), D(0))
    assert totals.subtotal == sum((line.gross for line in items), D(0))
    assert totals.discount == sum((line.discount for line in items), D(0))
    assert totals.tax == sum((line.tax for line in items), D(0))
    assert totals.net == totals.subtotal - totals.discount
    assert totals.subtotal - totals.discount + totals.tax == totals.total
    assert sum(totals.tax_by_rate.values(), D(0)) == totals.tax
    assert set(totals.tax_by_rate) == {line.tax_rate for line in items}
    assert _places(totals.total) <= minor_unit(currency)


def test_document_totals_empty_and_by_rate() -> None:
    assert document_totals([], "CNY") == Totals(
        subtotal=D("0.00"), discount=D("0.00"), net=D("0.00"), tax=D("0.00"), total=D("0.00")
    )
    assert str(document_totals([], "JPY").total) == "0"
    items = [
        line_amounts(quantity=1, unit_price=D("100"), currency="CNY", tax_rate=D(13)),
        line_amounts(quantity=2, unit_price=D("50"), currency="CNY", tax_rate=D("13.00")),
        line_amounts(quantity=1, unit_price=D("10"), currency="CNY", tax_rate=D(6)),
        line_amounts(quantity=1, unit_price=D("10"), currency="CNY"),
    ]
    totals = document_totals(items, "CNY")
    assert totals.tax_by_rate == {D(13): D("26.00"), D(6): D("0.60"), D(0): D("0.00")}
    assert (totals.subtotal, totals.tax, totals.total) == (D("220.00"), D("26.60"), D("246.60"))


def test_lines_round_per_line_not_per_document() -> None:
    # three lines of 0.333… each round to 0.33: the document says 0.99, not round(1.00)
    items = [line_amounts(quantity=1, unit_price=D("0.3333"), currency="CNY") for _ in range(3)]
    assert document_totals(items, "CNY").total == D("0.99")


def test_document_totals_refuses_lines_of_another_currency() -> None:
    line = line_amounts(quantity=1, unit_price=D("10.50"), currency="CNY")
    with pytest.raises(MoneyError) as exc:
        document_totals([line], "JPY")
    assert list(exc.value.fields) == ["lines"]


# --- bad input -------------------------------------------------------------------------------

GOOD: dict[str, Any] = {"quantity": D(2), "unit_price": D("10.00"), "currency": "CNY"}


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"quantity": D("-1")}, ["quantity"]),
        ({"quantity": D("-0.0001")}, ["quantity"]),
        ({"unit_price": D("-0.01")}, ["unit_price"]),
        ({"discount_percent": D("-1")}, ["discount_percent"]),
        ({"discount_percent": D("100.01")}, ["discount_percent"]),
        ({"discount_amount": D("-0.01")}, ["discount_amount"]),
        ({"discount_amount": D("20.01")}, ["discount_amount"]),
        ({"discount_amount": D("20.005")}, ["discount_amount"]),  # rounds to 20.01 > 20.00
        (
            {"discount_percent": D(5), "discount_amount": D(1)},
            ["discount_percent", "discount_amount"],
        ),
        ({"tax_rate": D("-0.5")}, ["tax_rate"]),
        ({"tax_rate": D("100.5")}, ["tax_rate"]),
        ({"quantity": D("NaN")}, ["quantity"]),
        ({"quantity": D("Infinity")}, ["quantity"]),
        ({"unit_price": D("-Infinity")}, ["unit_price"]),
        ({"unit_price": D("sNaN")}, ["unit_price"]),
        ({"discount_percent": D("NaN")}, ["discount_percent"]),
        ({"discount_amount": D("Infinity")}, ["discount_amount"]),
        ({"tax_rate": D("NaN")}, ["tax_rate"]),
        ({"unit_price": 10.5}, ["unit_price"]),  # a float is refused, never converted
        ({"quantity": "2"}, ["quantity"]),
        ({"quantity": True}, ["quantity"]),
        ({"quantity": D("1E+40"), "unit_price": D("1E+40")}, ["unit_price"]),  # too large
    ],
)
def test_bad_input_raises_money_error(changes: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(MoneyError) as exc:
        line_amounts(**{**GOOD, **changes})
    error = exc.value
    assert isinstance(error, DomainError)
    assert error.code == "money_invalid"
    assert list(error.fields) == fields
    assert all(messages and str(messages[0]) for messages in error.fields.values())
    assert error.as_dict()["message"] == str(error.message)


def test_limits_are_allowed() -> None:
    # 20.004 rounds to 20.00, the whole gross: allowed; so are 0 and 100 %
    line = line_amounts(**GOOD, discount_amount=D("20.004"), tax_rate=D(100))
    assert line.total == D("0.00")
    assert line_amounts(**GOOD, discount_percent=0, tax_rate=0).total == D("20.00")


# --- Chinese uppercase amounts (大写金额) ----------------------------------------------------

# From 中国人民银行《正确填写票据和结算凭证的基本规定》 (1409.50, 6007.14, 1680.32, 107000.53,
# 16409.02, 325.04; where it allows two forms, the one the module docstring chooses) and from the
# bank-style readings that implementations of it agree on; the rest follow the docstring's rules.
KNOWN = [
    ("0", "零元整"),
    ("0.00", "零元整"),
    ("0.50", "伍角"),
    ("0.05", "伍分"),
    ("0.42", "肆角贰分"),
    ("0.01", "壹分"),
    ("1", "壹元整"),
    ("1.05", "壹元零伍分"),
    ("1.50", "壹元伍角"),
    ("10", "壹拾元整"),
    ("15", "壹拾伍元整"),
    ("100", "壹佰元整"),
    ("234", "贰佰叁拾肆元整"),
    ("1005", "壹仟零伍元整"),
    ("1409.50", "壹仟肆佰零玖元伍角"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("10010", "壹万零壹拾元整"),
    ("12345", "壹万贰仟叁佰肆拾伍元整"),
    ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    ("100000", "壹拾万元整"),
    ("107000.53", "壹拾万零柒仟元伍角叁分"),
    ("1000000", "壹佰万元整"),
    ("1000000.05", "壹佰万元零伍分"),
    ("4578442.23", "肆佰伍拾柒万捌仟肆佰肆拾贰元贰角叁分"),
    ("99999999.99", "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("100000000", "壹亿元整"),
    ("100000001", "壹亿零壹元整"),
    ("100000001.01", "壹亿零壹元零壹分"),
    ("100010000", "壹亿零壹万元整"),
    ("123456789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
    ("1000000000.01", "壹拾亿元零壹分"),
    ("3250801390", "叁拾贰亿伍仟零捌拾万零壹仟叁佰玖拾元整"),  # 万位 zero: 零, as 107000.53
    ("1000000000000", "壹万亿元整"),
    ("1000100000000", "壹万零壹亿元整"),
    ("1000000010000", "壹万亿零壹万元整"),
    ("4234120024453", "肆万贰仟叁佰肆拾壹亿贰仟零贰万肆仟肆佰伍拾叁元整"),
    ("9999999999999999.99", "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("-1", "负壹元整"),
    ("-0.05", "负伍分"),
    ("-12345.67", "负壹万贰仟叁佰肆拾伍元陆角柒分"),
    ("2.345", "贰元叁角伍分"),  # half-up to fen
    ("0.005", "壹分"),
    ("0.004", "零元整"),
    ("-0.004", "零元整"),  # rounds to zero: no 负
]


@pytest.mark.parametrize(("amount", "expected"), KNOWN)
def test_chinese_uppercase_known_values(amount: str, expected: str) -> None:
    assert chinese_uppercase(D(amount)) == expected


def test_chinese_uppercase_takes_ints_and_refuses_the_rest() -> None:
    assert chinese_uppercase(10010) == "壹万零壹拾元整"
    for bad in (D("NaN"), D("Infinity"), 1.5, D("1E16"), D("-9999999999999999.995")):
        with pytest.raises(MoneyError) as exc:
            chinese_uppercase(bad)  # type: ignore[arg-type]
        assert list(exc.value.fields) == ["amount"]


_DIGIT_VALUES = {char: index for index, char in enumerate("零壹贰叁肆伍陆柒捌玖")}
_PLACE_VALUES = {"拾": 10, "佰": 100, "仟": 1000}


def parse_uppercase(text: str) -> Decimal:
    """Reads a 大写金额 back to a Decimal with two places (written independently of the module:
    a running number, its 万 section and the total above 亿)."""
    sign = 1
    if text.startswith("负"):
        sign, text = -1, text[1:]
    integer_text, _, fraction_text = text.rpartition("元") if "元" in text else ("", "", text)
    total = section = number = 0
    for char in integer_text:
        if char in _DIGIT_VALUES:
            number = _DIGIT_VALUES[char]
        elif char in _PLACE_VALUES:
            section += number * _PLACE_VALUES[char]
            number = 0
        elif char == "万":
            section = (section + number) * 10**4
            number = 0
        elif char == "亿":
            total = (total + section + number) * 10**8
            section = number = 0
        else:
            raise ValueError(char)
    cents = 0
    pending = 0
    for char in fraction_text:
        if char in _DIGIT_VALUES:
            pending = _DIGIT_VALUES[char]
        elif char == "角":
            cents += pending * 10
        elif char == "分":
            cents += pending
        elif char != "整":
            raise ValueError(char)
    return sign * (D(total + section + number) + D(cents).scaleb(-2))


def _well_formed(text: str, value: Decimal) -> None:
    body = text.removeprefix("负")
    assert (text != body) == (value < 0)
    assert "零零" not in body
    for mark in ("零元", "零万", "零亿", "零角", "零整"):
        assert mark not in body or body == "零元整", (text, mark)
    assert not body.endswith("零")
    assert body.startswith("零") == (body == "零元整")
    assert body.endswith("整") == (value == value.to_integral_value())
    assert "拾" not in body or not body.startswith("拾")
    assert ("元" in body) == (abs(value) >= 1 or value == 0)


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=10**15))
def test_chinese_uppercase_round_trip(fen: int) -> None:
    value = D(fen).scaleb(-2)
    text = chinese_uppercase(value)
    assert parse_uppercase(text) == value
    _well_formed(text, value)


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=-(10**13), max_value=10**13, places=3))
def test_chinese_uppercase_rounds_then_reads_back(amount: Decimal) -> None:
    rounded = amount.quantize(D("0.01"), ROUND_HALF_UP)
    text = chinese_uppercase(amount)
    assert parse_uppercase(text) == rounded
    _well_formed(text, rounded)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 9), st.integers(0, 17)), min_size=1, max_size=4),
    st.booleans(),
)
def test_chinese_uppercase_sparse_digits(digits: list[tuple[int, int]], negative: bool) -> None:
    """A few non-zero digits far apart (positions 0–17 are fen to 10^15): the 零 and 万/亿 rules
    where they are hardest."""
    fen = sum({position: digit for digit, position in digits}[p] * 10**p for p in {p for _, p in digits})
    value = D(-fen if negative else fen).scaleb(-2)
    text = chinese_uppercase(value)
    assert parse_uppercase(text) == value
    _well_formed(text, value)
