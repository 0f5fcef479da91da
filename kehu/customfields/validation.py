"""Parsing, normalising and presenting one custom field value, by the field's type.

Stored (JSON) forms: text → str, integer → int, decimal → str ("1234.5"), date → "YYYY-MM-DD",
datetime → UTC "YYYY-MM-DDTHH:MM:SSZ", boolean → bool, single choice → item value (str), multiple
choice → list of item values in picklist order, URL → str, e-mail → lower-case str, phone → E.164.
An empty value is not stored at all (the key is absent).

Used only through ``services.custom_values_clean`` (forms, API, imports) and the display helpers.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.validators import normalise_email, normalise_phone

from .choices import PATTERN_TYPES, FieldType

if TYPE_CHECKING:
    from .models import CustomField, PicklistItem

TEXT_MAX = 255
LONG_TEXT_MAX = 10_000
URL_MAX = 500
EMAIL_MAX = 254
# Integers JavaScript clients can hold exactly.
INT_MAX = 2**53 - 1
DECIMAL_MAX_WHOLE_DIGITS = 18
DECIMAL_MAX_PLACES = 10
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPLIT_RE = re.compile(r"[,;，；、\n]+")
_TRUE = {"true", "1", "yes", "y", "on", "是", "t"}
_FALSE = {"false", "0", "no", "n", "off", "否", "f"}


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | set) and len(value) == 0


def _invalid(message: str, code: str = "invalid") -> ValidationError:
    return ValidationError(message, code=code)


def _as_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise _invalid(_("Enter text."))
    text = str(value)
    if _CONTROL_RE.search(text):
        raise _invalid(_("Text must not contain control characters."))
    return text


def clean_text(value: Any) -> str:
    text = " ".join(_as_text(value).split())
    if len(text) > TEXT_MAX:
        raise _invalid(_("Enter at most %(max)d characters.") % {"max": TEXT_MAX}, "max_length")
    return text


def clean_long_text(value: Any) -> str:
    text = _as_text(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > LONG_TEXT_MAX:
        raise _invalid(_("Enter at most %(max)d characters.") % {"max": LONG_TEXT_MAX}, "max_length")
    return text


def clean_integer(value: Any) -> int:
    message = _("Enter a whole number.")
    if isinstance(value, bool):
        raise _invalid(message)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float | Decimal | str):
        try:
            dec = Decimal(value.strip() if isinstance(value, str) else str(value))
        except InvalidOperation as exc:
            raise _invalid(message) from exc
        if not dec.is_finite():
            raise _invalid(message)
        if dec.copy_abs() > INT_MAX:  # before int(): "1e999999999" must not build a huge integer
            number = INT_MAX + 1
        elif dec != dec.to_integral_value():
            raise _invalid(message)
        else:
            number = int(dec)
    else:
        raise _invalid(message)
    if abs(number) > INT_MAX:
        raise _invalid(
            _("Enter a whole number between %(min)d and %(max)d.") % {"min": -INT_MAX, "max": INT_MAX},
            "max_value",
        )
    return number


def parse_decimal(value: Any) -> Decimal:
    message = _("Enter a number.")
    if isinstance(value, bool):
        raise _invalid(message)
    if isinstance(value, Decimal):
        dec = value
    elif isinstance(value, int | float | str):
        try:
            dec = Decimal(value.strip() if isinstance(value, str) else str(value))
        except InvalidOperation as exc:
            raise _invalid(message) from exc
    else:
        raise _invalid(message)
    if not dec.is_finite():
        raise _invalid(message)
    return dec


def clean_decimal(value: Any) -> str:
    dec = parse_decimal(value)
    if dec.is_zero():
        return "0"
    # Normalise without a decimal context (no rounding, no overflow on "1e999999999").
    sign, digits, exponent = dec.as_tuple()
    assert isinstance(exponent, int)
    digit_list = list(digits)
    while len(digit_list) > 1 and digit_list[-1] == 0:
        digit_list.pop()
        exponent += 1
    places = max(0, -exponent)
    whole = max(0, len(digit_list) + exponent)
    if places > DECIMAL_MAX_PLACES:
        raise _invalid(
            _("Enter at most %(max)d digits after the decimal point.") % {"max": DECIMAL_MAX_PLACES},
            "max_decimal_places",
        )
    if whole > DECIMAL_MAX_WHOLE_DIGITS:
        raise _invalid(
            _("Enter at most %(max)d digits before the decimal point.") % {"max": DECIMAL_MAX_WHOLE_DIGITS},
            "max_whole_digits",
        )
    return format(Decimal((sign, tuple(digit_list), exponent)), "f")


def parse_date(value: Any) -> dt.date:
    message = _("Enter a valid date (YYYY-MM-DD).")
    if isinstance(value, dt.datetime):
        raise _invalid(message)
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise _invalid(message)
    text = value.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise _invalid(message)
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise _invalid(message) from exc


def clean_date(value: Any) -> str:
    return parse_date(value).isoformat()


def parse_datetime(value: Any) -> dt.datetime:
    """An aware datetime; naive input is read in the current time zone."""
    message = _("Enter a valid date and time (YYYY-MM-DDTHH:MM, with an optional time zone).")
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(
            r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?", text
        ):
            raise _invalid(message)
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise _invalid(message) from exc
    else:
        raise _invalid(message)
    if timezone.is_naive(moment):
        try:
            moment = timezone.make_aware(moment)
        except (ValueError, OverflowError) as exc:
            raise _invalid(message) from exc
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError as exc:
        raise _invalid(message) from exc


def clean_datetime(value: Any) -> str:
    return parse_datetime(value).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def clean_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _invalid(_("Enter yes or no."))


def clean_url(value: Any) -> str:
    text = _as_text(value).strip()
    if "://" not in text:
        text = f"https://{text}"
    if len(text) > URL_MAX:
        raise _invalid(_("Enter at most %(max)d characters.") % {"max": URL_MAX}, "max_length")
    try:
        URLValidator(schemes=["http", "https"])(text)
    except ValidationError as exc:
        raise _invalid(_("Enter a valid URL.")) from exc
    return text


def clean_email(value: Any) -> str:
    """Lower-cased, validated: the same normaliser as standard e-mail fields (core.validators)."""
    text = _as_text(value).strip()
    if len(text) > EMAIL_MAX:
        raise _invalid(_("Enter at most %(max)d characters.") % {"max": EMAIL_MAX}, "max_length")
    return normalise_email(text)


def clean_phone(value: Any) -> str:
    """E.164, China as the default region: the same normaliser as standard phone fields."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _invalid(
            _("Enter a valid phone number, e.g. 138 1234 5678 or +86 10 1234 5678."), "invalid_phone"
        )
    return normalise_phone(str(value))


def field_items(field: CustomField) -> list[PicklistItem]:
    """All items of the field's picklist (prefetched by the selectors), in order."""
    if field.picklist_id is None or field.picklist is None:
        return []
    return list(field.picklist.items.all())


def _resolve_item(items: list[PicklistItem], raw: Any, allowed_inactive: set[str]) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise _invalid(_("Select a valid choice."))
    text = str(raw).strip()
    offered = [i for i in items if i.is_active or i.value in allowed_inactive]
    for item in offered:
        if item.value == text:
            return item.value
    folded = text.casefold()
    for item in offered:
        if item.value.casefold() == folded:
            return item.value
    # Imports may give the label (either language) instead of the code.
    for item in offered:
        if folded in (item.label.casefold(), item.label_en.casefold()):
            return item.value
    raise _invalid(
        _("Select a valid choice. %(value)s is not one of the available choices.") % {"value": text},
        "invalid_choice",
    )


def clean_single_choice(field: CustomField, value: Any, current: Any = None) -> str:
    allowed = {current} if isinstance(current, str) else set()
    return _resolve_item(field_items(field), value, allowed)


def clean_multi_choice(field: CustomField, value: Any, current: Any = None) -> list[str]:
    if isinstance(value, str):
        raw_list: list[Any] = [v for v in _SPLIT_RE.split(value) if v.strip()]
    elif isinstance(value, list | tuple):
        raw_list = list(value)
    else:
        raise _invalid(_("Enter a list of choices."))
    items = field_items(field)
    allowed = {v for v in current if isinstance(v, str)} if isinstance(current, list) else set()
    chosen = {_resolve_item(items, raw, allowed) for raw in raw_list if not is_empty(raw)}
    return [item.value for item in items if item.value in chosen]


_CLEANERS = {
    FieldType.TEXT: clean_text,
    FieldType.LONG_TEXT: clean_long_text,
    FieldType.INTEGER: clean_integer,
    FieldType.DECIMAL: clean_decimal,
    FieldType.DATE: clean_date,
    FieldType.DATETIME: clean_datetime,
    FieldType.BOOLEAN: clean_boolean,
    FieldType.URL: clean_url,
    FieldType.EMAIL: clean_email,
    FieldType.PHONE: clean_phone,
}


def clean_value(field: CustomField, value: Any, *, current: Any = None) -> Any:
    """The normalised JSON value of `value` for `field`, or None when empty.

    `current` is the stored value: a deactivated choice that is already stored stays acceptable.
    Raises ValidationError with a translated message. Does not check `required`.
    """
    if is_empty(value):
        return None
    if field.type == FieldType.SINGLE_CHOICE:
        cleaned: Any = clean_single_choice(field, value, current)
    elif field.type == FieldType.MULTI_CHOICE:
        cleaned = clean_multi_choice(field, value, current)
        if not cleaned:
            return None
    else:
        cleaned = _CLEANERS[FieldType(field.type)](value)
        if is_empty(cleaned):
            return None
    if field.pattern and field.type in PATTERN_TYPES:
        try:
            matched = re.search(field.pattern, cleaned) is not None
        except re.error:
            matched = True  # an invalid pattern is refused when saved; never block input over it
        if not matched:
            raise _invalid(
                field.display_pattern_message or _("Enter a value in the required format."), "pattern"
            )
    return cleaned


# --- from stored JSON to Python and to text ---------------------------------------------------


def to_python(field: CustomField, stored: Any) -> Any:
    """The Python value of a stored value (for form initials and reports); None when empty/bad."""
    if stored is None:
        return None
    try:
        if field.type == FieldType.DECIMAL:
            return parse_decimal(stored)
        if field.type == FieldType.DATE:
            return parse_date(stored)
        if field.type == FieldType.DATETIME:
            return parse_datetime(stored)
        if field.type == FieldType.MULTI_CHOICE:
            return list(stored) if isinstance(stored, list) else [stored]
    except ValidationError:
        return None
    return stored


def display_text(field: CustomField, stored: Any, items: dict[str, PicklistItem] | None = None) -> str:
    """Plain text of a stored value in the active language and time zone ("" when empty)."""
    from django.utils import formats

    if is_empty(stored):
        return ""
    if field.type in (FieldType.SINGLE_CHOICE, FieldType.MULTI_CHOICE):
        if items is None:
            items = {i.value: i for i in field_items(field)}
        values = stored if isinstance(stored, list) else [stored]
        return ", ".join(items[v].display_label if v in items else str(v) for v in values)
    if field.type == FieldType.BOOLEAN:
        return _("Yes") if stored else _("No")
    value = to_python(field, stored)
    if value is None:
        return str(stored)
    if field.type == FieldType.DATETIME:
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if field.type == FieldType.DATE:
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if field.type in (FieldType.DECIMAL, FieldType.INTEGER):
        return formats.number_format(value, use_l10n=True)
    return str(value)
