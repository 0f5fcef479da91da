"""The shared phone and e-mail normalisers (forms, API, services and imports call them)."""

from __future__ import annotations

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from kehu.core.validators import format_phone, normalise_email, normalise_phone, phone_digits


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("138-1234-5678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("0086 13812345678", "+8613812345678"),
        ("１３８１２３４５６７８", "+8613812345678"),  # full-width digits
        ("010 6552 9988", "+861065529988"),
        ("(010) 6552-9988", "+861065529988"),
        ("+1 650 253 0000", "+16502530000"),
        ("+49 30 901820", "+4930901820"),
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_normalise_phone(raw, expected) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["12345", "138123456789999", "abc", "138 1234 567x", "+86", "<script>", "1" * 60]
)
def test_invalid_phones_are_refused_with_a_clear_message(raw) -> None:
    with pytest.raises(ValidationError) as exc:
        normalise_phone(raw)
    assert exc.value.code == "invalid_phone"
    assert "is not a valid phone number" in exc.value.messages[0]


@given(st.text(max_size=60))
def test_normalise_phone_never_crashes_and_is_idempotent(text) -> None:
    try:
        result = normalise_phone(text)
    except ValidationError:
        return
    assert result == "" or (result.startswith("+") and result[1:].isdigit())
    assert normalise_phone(result) == result


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_valid_mainland_mobiles_round_trip(number) -> None:
    parsed = phonenumbers.parse(number, "CN")
    if not phonenumbers.is_valid_number(parsed):
        return
    stored = normalise_phone(number)
    assert stored == "+86" + number
    assert phone_digits(format_phone(stored)) == "86" + number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" Zhang.Wei@Example.COM ", "zhang.wei@example.com"), ("", ""), (None, "")],
)
def test_normalise_email(raw, expected) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["zhang", "a@", "@b.cn", "a b@c.cn", "a@b@c.cn"])
def test_invalid_emails_are_refused(raw) -> None:
    with pytest.raises(ValidationError) as exc:
        normalise_email(raw)
    assert exc.value.code == "invalid_email"


@given(st.emails())
def test_valid_emails_are_lowercased_and_stable(email) -> None:
    try:
        result = normalise_email(email)
    except ValidationError:
        return  # hypothesis' e-mails are RFC 5322; Django's validator is stricter on some
    assert result == email.strip().lower()
    assert normalise_email(result) == result


def test_format_phone() -> None:
    assert format_phone("+8613812345678") == "+86 138 1234 5678"
    assert format_phone("not a number") == "not a number"
    assert format_phone("") == ""


def test_format_phone_mobile_shortcut_matches_phonenumbers() -> None:
    """Chinese mobiles skip phonenumbers (list pages): the same text for every prefix 13x–19x."""
    import random

    import phonenumbers

    rng = random.Random(4)
    for prefix in range(130, 200):
        for _ in range(5):
            stored = f"+86{prefix}{rng.randrange(10**8):08d}"
            expected = phonenumbers.format_number(
                phonenumbers.parse(stored, "CN"), phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
            assert format_phone(stored) == expected
    assert format_phone("+8612012345678") == phonenumbers.format_number(
        phonenumbers.parse("+8612012345678", "CN"), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
