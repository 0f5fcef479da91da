"""Masking of sensitive values (one helper for templates, serializers and exports)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MASK = "****"


def _mask_digits(digits: str) -> str:
    """Keep the head and the last 4 digits of an 11+ digit number (138****5678), less of shorter ones."""
    if len(digits) <= 4:
        return MASK
    if len(digits) >= 11:
        return f"{digits[:3]}{MASK}{digits[-4:]}"
    if len(digits) >= 8:
        return f"{digits[:2]}{MASK}{digits[-3:]}"
    return f"{MASK}{digits[-2:]}"


def _country_split(value: str) -> tuple[int, str] | None:
    """(country code, national significant number) of an E.164 string such as "+8613812345678",
    without parsing it: the country code is the unique 1-3 digit prefix that is an assigned calling
    code (ITU-T E.164 codes are prefix-free) and the national significant number is the rest, as
    ``phonenumbers.parse`` + ``national_significant_number`` give for a number in E.164 form. None
    when `value` is not ``+`` and digits or the prefix is no assigned code. (An export masks every
    phone of 100k rows: a full parse per value was most of the masking cost.)"""
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    digits = value[1:]
    if not digits.isdigit() or not digits.isascii():
        return None
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in COUNTRY_CODE_TO_REGION_CODE and len(digits) > size:
            return code, digits[size:]
    return None


def mask_phone(value: str) -> str:
    """+8613812345678 -> +86 138****5678; +862351858033 -> +86 23****033; 13812345678 -> 138****5678."""
    if value.startswith("+"):
        split = _country_split(value)
        if split is not None:
            return f"+{split[0]} {_mask_digits(split[1])}"
        import phonenumbers

        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and number.country_code:
            national = phonenumbers.national_significant_number(number)
            return f"+{number.country_code} {_mask_digits(national)}"
    return _mask_digits(re.sub(r"\D", "", value))


def mask_email(value: str) -> str:
    local, sep, domain = value.partition("@")
    if not sep:
        return mask_text(value)
    return f"{local[:1]}***@{domain}"


def mask_text(value: str) -> str:
    if not value:
        return value
    return f"{value[:1]}***"


def mask_value(value: Any, kind: str = "text") -> Any:
    """Mask `value` by its kind: phone, email or text. Empty values stay empty."""
    if value in (None, ""):
        return value
    if isinstance(value, list | tuple):
        return [mask_value(v, kind) for v in value]
    text = str(value)
    if kind == "phone":
        return mask_phone(text)
    if kind == "email":
        return mask_email(text)
    return mask_text(text)


def guess_kind(field_name: str) -> str:
    name = field_name.lower()
    if "phone" in name or "mobile" in name or "tel" in name:
        return "phone"
    if "email" in name:
        return "email"
    return "text"


# --- revealing a masked value ------------------------------------------------------------------
# Revealing is audited. Core cannot import the audit app, so the app that records it registers a
# recorder here in its ready(): ``masking.register_reveal_recorder(fn)``, with
# ``fn(*, user, obj, field) -> None``. One recorder per key (re-registering replaces it).

_reveal_recorders: dict[str, Callable[..., None]] = {}


def register_reveal_recorder(key: str, fn: Callable[..., None]) -> None:
    _reveal_recorders[key] = fn


def has_reveal_recorder(key: str) -> bool:
    return key in _reveal_recorders


def reveal_value(*, user: Any, obj: Any, field: str) -> Any:
    """The real value of `obj.field` for a user allowed to see the record; every recorder is told.

    The caller checks that `user` may view `obj` (it loads it through ``restrict()``)."""
    value = getattr(obj, field)
    for fn in _reveal_recorders.values():
        fn(user=user, obj=obj, field=field)
    return value
