"""Template filters of the customer module: ``{{ number|phone }}``, ``{{ obj|region }}``."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import template

from kehu.core.validators import DEFAULT_PHONE_REGION

from ..regions import region_label

register = template.Library()


@register.filter
def phone(value: Any) -> str:
    """A phone number for people. Any valid number is formatted: numbers of the default region
    (China, ``DEFAULT_PHONE_REGION``) in national format (138 1234 5678, 010 6552 9988), all others in
    international format (+49 30 1234567, +1 212-555-0100, +81 3-1234-5678). Stored E.164 values,
    ``00``-prefixed and national input are read alike; anything that is not a valid number is
    returned as is."""
    text = str(value or "").strip()
    if not text:
        return ""
    candidate = "+" + text[2:] if text.startswith("00") else text
    try:
        number = phonenumbers.parse(candidate, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(number):
        return text
    if phonenumbers.region_code_for_number(number) == DEFAULT_PHONE_REGION:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def region(obj: Any) -> str:
    """The region of an account or address in the active language."""
    if obj is None:
        return ""
    return region_label(
        country=getattr(obj, "country", ""),
        province=getattr(obj, "province", ""),
        city=getattr(obj, "city", ""),
        district=getattr(obj, "district", ""),
    )
