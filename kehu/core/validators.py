"""Shared normalisers for contact data. Forms, the API, services and imports all call these, so a
phone number or an e-mail address is stored the same way whichever door it came through.

* ``normalise_phone("138 1234 5678")`` -> ``"+8613812345678"`` (E.164; the default region is CN).
* ``normalise_email(" Zhang.Wei@Example.COM ")`` -> ``"zhang.wei@example.com"``.

Both return ``""`` for empty input and raise ``django.core.exceptions.ValidationError`` with a
translated message (code ``invalid_phone`` / ``invalid_email``) for anything else they cannot use.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

DEFAULT_PHONE_REGION = "CN"
# Longest input we try to parse: E.164 has at most 15 digits; leave room for spaces, dashes,
# brackets and an extension ("ext. 1234").
_MAX_PHONE_INPUT = 40
_PHONE_CHARS = re.compile(r"^[0-9+\-().\s/extEXT#,;]*$")
# Full-width digits and punctuation typed on Chinese keyboards.
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋－（）　", "0123456789+-() ")


PHONE_MESSAGE = _("“%(value)s” is not a valid phone number. Enter it like 138 1234 5678 or +86 10 6552 9988.")


def _invalid_phone(value: str) -> ValidationError:
    return ValidationError(PHONE_MESSAGE, code="invalid_phone", params={"value": value[:_MAX_PHONE_INPUT]})


def normalise_phone(value: str | None, region: str = DEFAULT_PHONE_REGION) -> str:
    """A phone number in E.164 (``+8613812345678``), or ``""`` for empty input.

    Numbers without a country code are read in `region` (China by default); ``0086`` and ``+86``
    prefixes, spaces, dashes, dots, brackets and full-width digits are accepted.
    """
    raw = value or ""
    text = raw.translate(_FULLWIDTH).strip()
    if not text:
        return ""
    if len(text) > _MAX_PHONE_INPUT or not _PHONE_CHARS.match(text):
        raise _invalid_phone(raw)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise _invalid_phone(raw) from exc
    if not phonenumbers.is_valid_number(number):
        raise _invalid_phone(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str | None) -> str:
    """An e-mail address, trimmed and lower-cased, or ``""`` for empty input."""
    text = (value or "").strip().lower()
    if not text:
        return ""
    try:
        validate_email(text)
    except ValidationError as exc:
        raise ValidationError(
            _("Enter a valid e-mail address, e.g. name@example.com."), code="invalid_email"
        ) from exc
    return text


# A stored Chinese mobile number (+86 1[3-9]x xxxx xxxx): formatted without parsing, as phonenumbers
# does (a list page shows dozens; tests compare both for every prefix).
_CN_MOBILE = re.compile(r"^\+861[3-9]\d{9}$")


def format_phone(value: str | None) -> str:
    """A stored E.164 number for display: ``+86 138 1234 5678``. Anything unparsable is returned as is."""
    if not value:
        return ""
    if _CN_MOBILE.match(value):
        return f"+86 {value[3:6]} {value[6:10]} {value[10:]}"
    return _format_parsed(value)


@functools.lru_cache(maxsize=16384)
def _format_parsed(value: str) -> str:
    """Landlines and international numbers need a full parse (~40 µs): remembered per process, as
    the same records' numbers are shown again and again (lists, 360 pages)."""
    try:
        number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_digits(value: str | None) -> str:
    """Only the digits of a phone number or fragment (for suffix searches)."""
    return re.sub(r"\D", "", (value or "").translate(_FULLWIDTH))
