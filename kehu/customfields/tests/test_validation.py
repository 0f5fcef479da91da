"""One value per type: parsing, normalising, refusing (validation.clean_value)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from kehu.customfields.choices import FieldType
from kehu.customfields.models import CustomField
from kehu.customfields.validation import clean_value, display_text, to_python

from .factories import choice_list


def field(type_: str, **kwargs) -> CustomField:
    return CustomField(model="customers.account", name="f", label="字段", type=type_, **kwargs)


def messages(type_: str, value, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        clean_value(field(type_, **kwargs), value)
    return exc.value.messages


@pytest.mark.parametrize(
    "type_", [t for t in FieldType.values if t not in (FieldType.SINGLE_CHOICE, FieldType.MULTI_CHOICE)]
)
@pytest.mark.parametrize("empty", [None, "", "   ", []])
def test_empty_values_are_none(type_, empty) -> None:
    assert clean_value(field(type_), empty) is None


def test_text_is_one_trimmed_line_of_at_most_255() -> None:
    assert clean_value(field("text"), "  北京  海淀\n区 ") == "北京 海淀 区"
    assert clean_value(field("text"), 42) == "42"
    assert messages("text", "x" * 256) == ["Enter at most 255 characters."]
    assert messages("text", {"a": 1}) == ["Enter text."]
    assert messages("text", True) == ["Enter text."]
    assert messages("text", "a\x00b") == ["Text must not contain control characters."]


def test_long_text_keeps_lines() -> None:
    assert clean_value(field("long_text"), " 第一行\r\n第二行\r ") == "第一行\n第二行"
    assert messages("long_text", "x" * 10_001) == ["Enter at most 10000 characters."]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(5, 5), ("12", 12), (" -7 ", -7), (3.0, 3), ("4.00", 4), (Decimal("8"), 8), (2**53 - 1, 2**53 - 1)],
)
def test_integer_parses(raw, expected) -> None:
    assert clean_value(field("integer"), raw) == expected


@pytest.mark.parametrize("raw", ["1.5", 1.5, "abc", "NaN", "Infinity", True, [1], "1,000"])
def test_integer_refuses(raw) -> None:
    assert messages("integer", raw) == ["Enter a whole number."]


@pytest.mark.parametrize("raw", [2**53, -(2**53), "1e400", "-1e999999999", 1e300])
def test_integer_range(raw) -> None:
    assert messages("integer", raw) == [
        "Enter a whole number between -9007199254740991 and 9007199254740991."
    ]


@given(st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1))
def test_integer_round_trips(n: int) -> None:
    f = field("integer")
    assert clean_value(f, n) == n
    assert clean_value(f, str(n)) == n
    assert clean_value(f, f" {n} ") == n


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.50", "12.5"),
        (12, "12"),
        (1.1, "1.1"),
        ("-0.000", "0"),
        ("1E+3", "1000"),
        (Decimal("0.0000000001"), "0.0000000001"),
        (" 3.14 ", "3.14"),
        ("123456789012345678.5", "123456789012345678.5"),
        ("1." + "0" * 40, "1"),
        ("1200", "1200"),
    ],
)
def test_decimal_is_a_normalised_string(raw, expected) -> None:
    assert clean_value(field("decimal"), raw) == expected


def test_decimal_refuses() -> None:
    assert messages("decimal", "abc") == ["Enter a number."]
    assert messages("decimal", "NaN") == ["Enter a number."]
    assert messages("decimal", True) == ["Enter a number."]
    assert messages("decimal", "0.00000000001") == ["Enter at most 10 digits after the decimal point."]
    assert messages("decimal", "1234567890123456789") == ["Enter at most 18 digits before the decimal point."]
    assert messages("decimal", "1e999999999") == ["Enter at most 18 digits before the decimal point."]
    assert messages("decimal", "-1e-999999999") == ["Enter at most 10 digits after the decimal point."]
    assert messages("decimal", "1." + "0" * 40 + "1") == ["Enter at most 10 digits after the decimal point."]


@given(
    st.decimals(
        min_value=Decimal("-999999999999999999"),
        max_value=Decimal("999999999999999999"),
        places=4,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_decimal_round_trips_exactly(d: Decimal) -> None:
    f = field("decimal")
    stored = clean_value(f, str(d))
    assert Decimal(stored) == d
    assert "E" not in stored
    assert clean_value(f, stored) == stored  # cleaning is idempotent
    assert to_python(f, stored) == d


def test_date() -> None:
    assert clean_value(field("date"), "2024-02-29") == "2024-02-29"
    assert clean_value(field("date"), dt.date(2025, 1, 5)) == "2025-01-05"
    for bad in ("2023-02-29", "20240101", "01/02/2024", "2024-1-5", 20240101, dt.datetime(2024, 1, 1)):
        assert messages("date", bad) == ["Enter a valid date (YYYY-MM-DD)."]


@given(st.dates())
def test_date_round_trips(d: dt.date) -> None:
    f = field("date")
    assert clean_value(f, d.isoformat()) == d.isoformat()
    assert to_python(f, clean_value(f, d)) == d


def test_datetime_is_stored_in_utc() -> None:
    f = field("datetime")
    with timezone.override("Asia/Shanghai"):
        # a naive value is read in the current time zone
        assert clean_value(f, "2024-05-01T09:30") == "2024-05-01T01:30:00Z"
        assert clean_value(f, "2024-05-01 09:30:15") == "2024-05-01T01:30:15Z"
    assert clean_value(f, "2024-05-01T09:30:00+02:00") == "2024-05-01T07:30:00Z"
    assert clean_value(f, "2024-05-01T09:30:00.123456Z") == "2024-05-01T09:30:00Z"
    aware = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    assert clean_value(f, aware) == "2024-05-01T12:00:00Z"
    for bad in ("yesterday", "2024-13-01T00:00", "2024-05-01T25:00", 1714550400):
        assert messages("datetime", bad) == [
            "Enter a valid date and time (YYYY-MM-DDTHH:MM, with an optional time zone)."
        ]


@given(
    st.datetimes(
        min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.just(dt.UTC)
    )
)
def test_datetime_round_trips(moment: dt.datetime) -> None:
    f = field("datetime")
    stored = clean_value(f, moment.isoformat())
    assert to_python(f, stored) == moment.replace(microsecond=0)
    assert clean_value(f, stored) == stored


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), (False, False), ("true", True), ("No", False), ("1", True), (0, False), ("是", True)],
)
def test_boolean(raw, expected) -> None:
    assert clean_value(field("boolean"), raw) is expected


def test_boolean_refuses() -> None:
    assert messages("boolean", "maybe") == ["Enter yes or no."]
    assert messages("boolean", 2) == ["Enter yes or no."]


def test_url() -> None:
    assert clean_value(field("url"), "https://kehu.example.com/a?b=1") == "https://kehu.example.com/a?b=1"
    assert clean_value(field("url"), "www.example.cn") == "https://www.example.cn"
    assert messages("url", "javascript:alert(1)") == ["Enter a valid URL."]
    assert messages("url", "ftp://example.com") == ["Enter a valid URL."]
    assert messages("url", "not a url") == ["Enter a valid URL."]


def codes(type_: str, value) -> list[str | None]:
    with pytest.raises(ValidationError) as exc:
        clean_value(field(type_), value)
    return [e.code for e in exc.value.error_list]


def test_email_is_lower_cased() -> None:
    assert clean_value(field("email"), " Zhang.San@Example.COM ") == "zhang.san@example.com"
    assert codes("email", "zhang@") == ["invalid_email"]
    assert codes("email", "a" * 250 + "@x.cn") == ["max_length"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("010 6552 9988", "+861065529988"),
        ("+1 (650) 253-0000", "+16502530000"),
        (13800138000, "+8613800138000"),
        ("００８６ １３８００１３８０００", "+8613800138000"),
    ],
)
def test_phone_is_e164_with_china_as_default(raw, expected) -> None:
    assert clean_value(field("phone"), raw) == expected


@pytest.mark.parametrize("raw", ["12345", "abc", "+86 999", "1" * 41, 1.5, True])
def test_phone_refuses(raw) -> None:
    assert codes("phone", raw) == ["invalid_phone"]


def test_pattern_applies_to_the_normalised_value_with_its_message() -> None:
    f = field("text", pattern=r"^[A-Z]{2}\d{4}$", pattern_message="编号格式：两个大写字母加四位数字")
    assert clean_value(f, " AB1234 ") == "AB1234"
    with pytest.raises(ValidationError) as exc:
        clean_value(f, "ab1234")
    assert exc.value.messages == ["编号格式：两个大写字母加四位数字"]
    f = field("phone", pattern=r"^\+861")
    assert clean_value(f, "13800138000") == "+8613800138000"
    assert messages("phone", "+1 650 253 0000", pattern=r"^\+861") == [
        "Enter a value in the required format."
    ]


def test_pattern_message_in_the_active_language() -> None:
    f = field("text", pattern=r"^\d+$", pattern_message="只能填数字", pattern_message_en="Digits only")
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        clean_value(f, "x")
    assert exc.value.messages == ["Digits only"]
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        clean_value(f, "x")
    assert exc.value.messages == ["只能填数字"]


@pytest.mark.django_db
def test_single_choice_takes_active_values_codes_or_labels() -> None:
    picklist = choice_list()
    f = field("single_choice", picklist=picklist)
    assert clean_value(f, "green") == "green"
    assert clean_value(f, "GREEN") == "green"
    assert clean_value(f, "绿") == "green"  # imports may give labels
    assert clean_value(f, "Blue") == "blue"
    with pytest.raises(ValidationError) as exc:
        clean_value(f, "purple")
    assert exc.value.messages == ["Select a valid choice. purple is not one of the available choices."]
    picklist.items.filter(value="red").update(is_active=False)
    f = field("single_choice", picklist=picklist)
    with pytest.raises(ValidationError):
        clean_value(f, "red")
    # a record that already holds the deactivated value may keep it
    assert clean_value(f, "red", current="red") == "red"


@pytest.mark.django_db
def test_multi_choice_is_a_deduplicated_list_in_picklist_order() -> None:
    picklist = choice_list()
    f = field("multi_choice", picklist=picklist)
    assert clean_value(f, ["blue", "red", "blue"]) == ["red", "blue"]
    assert clean_value(f, "blue, 红；green") == ["red", "green", "blue"]
    assert clean_value(f, []) is None
    assert clean_value(f, ["", " "]) is None
    with pytest.raises(ValidationError):
        clean_value(f, ["red", "purple"])
    with pytest.raises(ValidationError) as exc:
        clean_value(f, {"red": True})
    assert exc.value.messages == ["Enter a list of choices."]
    picklist.items.filter(value="red").update(is_active=False)
    f = field("multi_choice", picklist=picklist)
    assert clean_value(f, ["red", "blue"], current=["red"]) == ["red", "blue"]
    with pytest.raises(ValidationError):
        clean_value(f, ["red", "blue"], current=["green"])


@pytest.mark.django_db
def test_display_text_uses_labels_in_the_active_language() -> None:
    picklist = choice_list()
    f = field("multi_choice", picklist=picklist)
    with translation.override("zh-hans"):
        assert display_text(f, ["red", "blue", "gone"]) == "红, 蓝, gone"
        assert display_text(field("boolean"), True) == "是"
    with translation.override("en"):
        assert display_text(f, ["red", "blue"]) == "Red, Blue"
        assert display_text(field("boolean"), False) == "No"
        assert display_text(field("date"), "2024-05-01") == "05/01/2024"
    assert display_text(field("text"), None) == ""
