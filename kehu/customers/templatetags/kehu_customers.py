"""Template filters of the customer module: ``{{ number|phone }}``, ``{{ obj|region }}``."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import template

from ..regions import region_label

register = template.Library()


@register.filter
def phone(value: Any) -> str:
    """A stored E.164 number for people: Chinese numbers in national format (138 1234 5678,
    010 6552 9988), others in international format (+81 3-1234-5678). Anything else as is."""
    text = str(value or "")
    if not text.startswith("+"):
        return text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    if number.country_code == 86:
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
