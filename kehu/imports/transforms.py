"""Value transforms of the import (issue 6, step 4): one cell of text in, one typed value out.

They run once per cell of up to a million rows, so each is a few microseconds: regular
expressions before any library parse, and caches for the values that repeat (dates, tags,
picklist values, phone numbers). Every function:

* trims the value and returns ``None`` for an empty cell (the mapping decides whether the field
  is required);
* raises :class:`TransformError` (a ``ValidationError`` with a code and a translated message
  that quotes the value) for a cell it cannot read, so the row's error file can say why.

Dates: ``parse_date("2024年3月5日")``, ``"2024年03月05号"``, ``"2024/3/5"``, ``"2024-03-05"``,
``"2024.3.5"``, ``"20240305"``, ``"2024-03-05T10:20:30+08:00"``, ``"5 Mar 2024"``, Excel serial
numbers (``"45356"``) and, with the year last, ``"05/03/2024"`` read in the chosen `order`
(``"DMY"`` or ``"MDY"``; with ``"YMD"`` only an unambiguous day-month order is accepted).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.exports import neutralise
from kehu.core.validators import DEFAULT_PHONE_REGION, PHONE_MESSAGE, normalise_email
from kehu.dedup.normalisers import phone_key

DateOrder = Literal["YMD", "DMY", "MDY"]
DATE_ORDERS: tuple[DateOrder, ...] = ("YMD", "DMY", "MDY")
_MAX_ECHO = 60  # longest part of a bad value quoted back in an error message


class TransformError(ValidationError):
    """A cell that cannot be read as the field's type. ``code`` says which check failed."""

    def __init__(self, message: Any, code: str, value: str = "", **params: Any) -> None:
        super().__init__(message, code=code, params={"value": value[:_MAX_ECHO], **params})

    def __str__(self) -> str:
        return " ".join(self.messages)


def _text(value: object) -> str:
    """The cell as text with full-width characters folded (NFKC) and outer spaces trimmed."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.strip()


def trim(value: object) -> str | None:
    """The cell trimmed (inner runs of spaces, tabs and non-breaking spaces made one space), or None."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = " ".join(text.split())
    return text or None


def trim_text(value: object) -> str | None:
    """A long text cell (notes, descriptions) trimmed at both ends only: its line breaks (CR LF and
    CR made LF) and inner spaces kept, so an exported note imports back as it was; or None."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def strip_formula_guard(value: str | None) -> str | None:
    """The cell without the apostrophe our exports and error files put before text starting with
    = + - @ tab or CR (`kehu.core.exports.neutralise`, against formula injection), so a file
    exported from Kehu imports back to the values it came from. Only the guard neutralise adds is
    removed ("'=A1" → "=A1", "'-x" → "-x"); "'-12" (a number gets no guard), "'abc" and a lone
    "'" stay as they are. Text that itself began with "'=" is indistinguishable from a guarded
    "=" and loses its apostrophe. Call it on the raw cell, before `trim`."""
    if not value or value[0] != "'" or len(value) < 2:
        return value
    rest = value[1:]
    return rest if neutralise(rest) == value else value


# --- dates ----------------------------------------------------------------------------------

DATE_MESSAGE = _("“%(value)s” is not a date. Write it like 2024-03-05, 2024/3/5 or 2024年3月5日.")
AMBIGUOUS_DATE_MESSAGE = _(
    "“%(value)s” could be day/month or month/day: choose the file's date order (day first or month first)."
)
DATETIME_MESSAGE = _("“%(value)s” is not a date and time. Write it like 2024-03-05 14:30.")

_CJK_DATE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$")
_SEPARATED = re.compile(r"^(\d{1,4})([/\-.])(\d{1,2})\2(\d{1,4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^(\d{1,5})(?:\.\d+)?$")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})[\s\-]+([a-z]{3,9})\.?,?[\s\-]+(\d{4})$", re.IGNORECASE)
_MONTH_NAME_DAY = re.compile(r"^([a-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})$", re.IGNORECASE)
# A time after the date: "T10:20", " 10:20:30.5", " 2:30 PM", " 下午2:30", "+08:00", "Z".
_TIME = re.compile(
    r"^(?P<date>.+?)(?:(?:[T\s]+|(?<=[日号]))(?P<ampm1>上午|下午|AM|PM)?\s*"
    r"(?P<h>\d{1,2})(?::|时)(?P<m>\d{2})(?:分(?:(?P<s2>\d{2})秒)?|:(?P<s>\d{2})(?:\.(?P<f>\d{1,6})\d*)?)?\s*"
    r"(?P<ampm2>AM|PM|上午|下午)?\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)$",
    re.IGNORECASE,
)
# Excel's day 0 is 1899-12-30 (its 1900 leap-year bug makes serial 60 a 29 February that never was).
EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_FIRST_REAL = 61  # 1900-03-01: serials below it are off by one day or impossible


def _date_error(raw: str) -> TransformError:
    return TransformError(DATE_MESSAGE, "invalid_date", raw)


def _make_date(raw: str, year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise _date_error(raw) from exc


def _year_last(raw: str, first: int, second: int, year: int, order: DateOrder) -> dt.date:
    if order == "DMY":
        return _make_date(raw, year, second, first)
    if order == "MDY":
        return _make_date(raw, year, first, second)
    # No day/month order chosen: only a date that reads one way is accepted.
    if first > 12 >= second:
        return _make_date(raw, year, second, first)
    if second > 12 >= first:
        return _make_date(raw, year, first, second)
    if first == second:
        return _make_date(raw, year, first, first)
    raise TransformError(AMBIGUOUS_DATE_MESSAGE, "ambiguous_date", raw)


@lru_cache(maxsize=65536)
def _parse_date_text(text: str, order: DateOrder) -> dt.date:
    if m := _SEPARATED.match(text):
        a, b, c = m.group(1), m.group(3), m.group(4)
        if len(a) == 4:
            return _make_date(text, int(a), int(b), int(c))
        if len(c) == 4 and len(a) <= 2:
            return _year_last(text, int(a), int(b), int(c), order)
        raise _date_error(text)
    if m := _CJK_DATE.match(text):
        return _make_date(text, int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _COMPACT.match(text):
        return _make_date(text, int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _SERIAL.match(text):
        serial = int(m.group(1))
        if serial < _EXCEL_FIRST_REAL:
            raise _date_error(text)
        return EXCEL_EPOCH + dt.timedelta(days=serial)
    if m := _DAY_MONTH_NAME.match(text):
        month = _MONTHS.get(m.group(2).lower())
        if month:
            return _make_date(text, int(m.group(3)), month, int(m.group(1)))
    if m := _MONTH_NAME_DAY.match(text):
        month = _MONTHS.get(m.group(1).lower())
        if month:
            return _make_date(text, int(m.group(3)), month, int(m.group(2)))
    if m := _TIME.match(text):
        return _parse_date_text(m.group("date").strip(), order)
    raise _date_error(text)


def parse_date(value: object, order: DateOrder = "YMD") -> dt.date | None:
    """A date from the ways people and programs write one (see the module docstring), or None.

    `order` says how a date with the year last (05/03/2024) is read: ``"DMY"`` (5 March),
    ``"MDY"`` (3 May) or ``"YMD"`` (only when unambiguous). A time after the date is ignored.
    Results are cached: a column of dates repeats the same few thousand values."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    return _parse_date_text(text, order)


def _hour(h: int, ampm: str) -> int:
    ampm = ampm.upper()
    if ampm in ("PM", "下午") and h < 12:
        return h + 12
    if ampm in ("AM", "上午") and h == 12:
        return 0
    return h


def parse_datetime(
    value: object, order: DateOrder = "YMD", tz: dt.tzinfo | None = None
) -> dt.datetime | None:
    """An aware date and time, or None. The date part is read by :func:`parse_date`; a time may
    follow (``14:30``, ``14:30:15.25``, ``2:30 PM``, ``下午2:30``, ``14时30分``) with an offset
    (``Z``, ``+08:00``). Without an offset it is a time in `tz` (the current time zone); without a
    time it is midnight. An Excel serial keeps its fraction of a day."""
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, tz)
    text = _text(value)
    if not text:
        return None
    if len(text) >= 16 and text[4] == "-" and text[10] in "T ":  # ISO 8601: the C parser, ~1 µs
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return (
                moment
                if moment.tzinfo
                else timezone.make_aware(moment, tz or timezone.get_current_timezone())
            )
    # Reading the current time zone costs ~8 µs: callers converting many cells pass `tz`.
    zone = tz or timezone.get_current_timezone()
    if (m := _SERIAL.match(text)) and "." in text:
        day = _parse_date_text(m.group(1), order)
        seconds = round((float(text) % 1) * 86400)
        naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)
        return timezone.make_aware(naive, zone)
    m = _TIME.match(text)
    if not m:
        try:
            day = _parse_date_text(text, order)
        except TransformError as exc:
            if exc.code == "ambiguous_date":
                raise
            raise TransformError(DATETIME_MESSAGE, "invalid_datetime", text) from exc
        return timezone.make_aware(dt.datetime.combine(day, dt.time()), zone)
    day = _parse_date_text(m.group("date").strip(), order)
    ampm = m.group("ampm1") or m.group("ampm2") or ""
    try:
        moment = dt.datetime.combine(
            day,
            dt.time(
                _hour(int(m.group("h")), ampm),
                int(m.group("m")),
                int(m.group("s") or m.group("s2") or 0),
                int((m.group("f") or "0").ljust(6, "0")),
            ),
        )
    except ValueError as exc:
        raise TransformError(DATETIME_MESSAGE, "invalid_datetime", text) from exc
    offset = m.group("tz")
    if not offset:
        return timezone.make_aware(moment, zone)
    if offset.upper() == "Z":
        return moment.replace(tzinfo=dt.UTC)
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment.replace(tzinfo=dt.timezone(sign * delta))


# --- numbers --------------------------------------------------------------------------------

DECIMAL_MESSAGE = _("“%(value)s” is not a number. Write it like 1234.5, 1,234.50 or ¥1,234.")
BOOL_MESSAGE = _("“%(value)s” is not yes or no. Write 是 / 否, yes / no, true / false or 1 / 0.")

# Currency marks before or after the amount (after NFKC: ￥ is ¥, ＄ is $).
_CURRENCY = re.compile(r"^(?:[¥$€£]|rmb|cny|usd|eur|hkd|人民币)\s*|\s*(?:[¥$€£]|rmb|cny|usd|eur|hkd|元|块)$")
_CURRENCY_MARKS = frozenset("¥$€£")
_NUMBER_CHARS = "0123456789,.+-()"
_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "千": Decimal(1_000)}
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
_GROUPED_EU = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d*)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def _decimal_error(raw: str) -> TransformError:
    return TransformError(DECIMAL_MESSAGE, "invalid_decimal", raw)


@lru_cache(maxsize=16384)
def _parse_decimal_text(raw: str) -> Decimal:
    text = raw.lower().replace(" ", "").replace("_", "").replace("'", "")
    negative = False
    if text.startswith("(") and text.endswith(")"):  # accounting negative: (1,234.00)
        negative, text = True, text[1:-1]
    if text.startswith("-") and text[1:2] and not text[1].isdigit():  # -¥1,234
        negative, text = not negative, text[1:]
    if text[:1] in _CURRENCY_MARKS:
        text = text[1:]
    if text.strip(_NUMBER_CHARS):  # letters or marks left: currency codes, 元, a sign before ¥
        for _pass in range(2):
            text = _CURRENCY.sub("", text)
    multiplier = Decimal(1)
    if text and text[-1] in _MULTIPLIERS:
        multiplier, text = _MULTIPLIERS[text[-1]], text[:-1]
    if _GROUPED.match(text):
        text = text.replace(",", "")
    elif _GROUPED_EU.match(text) and "," in text:
        text = text.replace(".", "").replace(",", ".")
    elif _DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    if not _PLAIN_NUMBER.match(text):
        raise _decimal_error(raw)
    try:
        number = Decimal(text) * multiplier
    except InvalidOperation as exc:
        raise _decimal_error(raw) from exc
    if not number.is_finite():
        raise _decimal_error(raw)
    return -number if negative else number


def parse_decimal(value: object) -> Decimal | None:
    """A Decimal from an amount as people write it, or None.

    Thousand separators (``1,234,567.5``; ``1.234,5`` when the comma is clearly the decimal mark),
    currency marks before or after (``¥``, ``$``, ``€``, ``£``, ``RMB``, ``元``), full-width digits,
    an accounting negative ``(1,234)``, and 千 / 万 / 亿 multipliers (``1.2万`` is 12000)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    text = _text(value)
    if not text:
        return None
    return _parse_decimal_text(text)


_TRUE = frozenset({"是", "对", "有", "真", "yes", "y", "true", "t", "1", "√", "✓", "✔", "on", "x", "☑"})
_FALSE = frozenset(
    {"否", "不", "不是", "错", "无", "假", "no", "n", "false", "f", "0", "×", "✗", "✘", "off", "☐"}
)


def parse_bool(value: object) -> bool | None:
    """True or False from 是/否, yes/no, true/false, y/n, 1/0, √/×, on/off (any case), or None.

    An ``x`` is yes: it is how a ticked box is exported by spreadsheets and Outlook."""
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise TransformError(BOOL_MESSAGE, "invalid_bool", text)


# --- multi-value cells ----------------------------------------------------------------------

MULTI_SEPARATORS = ";；,，、|/\n"


@lru_cache(maxsize=16)
def _splitter(separators: str) -> re.Pattern[str]:
    return re.compile("|".join([*(re.escape(s) for s in separators), ":::"]))


@lru_cache(maxsize=65536)
def _split(text: str, separators: str) -> tuple[str, ...]:
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    seen: set[str] = set()
    parts: list[str] = []
    for piece in _splitter(separators).split(text):
        item = " ".join(piece.split())
        if not item:
            continue
        folded = item.casefold()
        if folded not in seen:
            seen.add(folded)
            parts.append(item)
    return tuple(parts)


def split_multi(value: object, separators: str = MULTI_SEPARATORS) -> list[str]:
    """The values of a multi-value cell (tags ``"a; b"``): split on ``; ； , ， 、 | /`` and new
    lines (and Google's ``:::``), trimmed, empty parts dropped, repeats (ignoring case) dropped,
    first spelling and order kept. Cached: tag cells repeat."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(_split("\n".join(str(v) for v in value), separators))
    return list(_split(value if isinstance(value, str) else str(value), separators))


# --- phones and e-mails ---------------------------------------------------------------------

# A number that went through a spreadsheet as a float: "13812345678.0".
_FLOAT_DIGITS = re.compile(r"^(\+?\d{5,15})\.0+$")
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?e\+?\d+$", re.IGNORECASE)
SCIENTIFIC_PHONE_MESSAGE = _(
    "“%(value)s” is a phone number a spreadsheet turned into a rounded number: "
    "format the column as text and export it again."
)


def normalise_phone_fast(value: object, region: str = DEFAULT_PHONE_REGION) -> str | None:
    """A phone number in E.164 (``+8613812345678``), or None for an empty cell.

    The reading itself is :func:`kehu.dedup.normalisers.phone_key` (regular-expression fast path
    for Chinese mobiles, then ``kehu.core.validators.normalise_phone``; cached per value and
    region). Added here: a number a spreadsheet stored as a float (``13812345678.0``) is read,
    one it rounded into scientific notation (``1.38123E+10``) is refused with a message saying
    so, and anything else unusable raises the core phone message."""
    text = _text(value)
    if not text:
        return None
    if m := _FLOAT_DIGITS.match(text):
        text = m.group(1)
    elif _SCIENTIFIC.match(text):
        raise TransformError(SCIENTIFIC_PHONE_MESSAGE, "rounded_phone", text)
    key = phone_key(text, region)
    if not key:
        raise TransformError(PHONE_MESSAGE, "invalid_phone", text)
    return key


EMAIL_MESSAGE = _("“%(value)s” is not an e-mail address. Write it like name@example.com.")
# A strict subset of what Django's validate_email accepts (dot-atom local part, host names of
# letters, digits and inner hyphens, a letter-only top-level domain): whatever matches is valid
# without asking Django; whatever does not is asked (quoted local parts, IP literals, IDN).
_EMAIL_FAST = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{}|~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{}|~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_MAX_EMAIL = 254  # the column's length (EmailField); Django alone would accept 320


def normalise_email_fast(value: object) -> str | None:
    """An e-mail address trimmed and lower-cased, or None for an empty cell.

    Same result as ``kehu.core.validators.normalise_email`` (the tests compare both on generated
    addresses), at about a microsecond for ordinary addresses. Two deliberate differences:
    full-width characters typed with a Chinese input method (``ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ``)
    are folded first, and an address longer than the 254-character column is refused."""
    text = _text(value).lower()
    if not text:
        return None
    if len(text) > _MAX_EMAIL:
        raise TransformError(EMAIL_MESSAGE, "invalid_email", text)
    if _EMAIL_FAST.fullmatch(text):
        return text
    try:
        return normalise_email(text) or None
    except ValidationError as exc:
        raise TransformError(EMAIL_MESSAGE, "invalid_email", text) from exc


# --- names ----------------------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def combine_name(first: str | None, last: str | None, middle: str | None = None) -> str | None:
    """One name from a file's first / middle / last name columns: family name first and no space
    when it is written in Chinese characters (张 + 伟 → 张伟), "First Middle Last" otherwise."""
    parts = [trim(first), trim(middle), trim(last)]
    if not any(parts):
        return None
    given, mid, family = (p or "" for p in parts)
    if _CJK.search(given + family):
        return family + mid + given
    return " ".join(p for p in (given, mid, family) if p)


# --- picklists ------------------------------------------------------------------------------


class UnknownPolicy(StrEnum):
    """What a picklist column does with a value that is no option's key or label."""

    MAP = "map"  # look it up in the user's mapping (value -> option key); unmapped values are errors
    CREATE = "create"  # collect it as a new option to create
    REJECT = "reject"  # the cell is an error


UNKNOWN_CHOICE_MESSAGE = _("“%(value)s” is not one of the choices (%(choices)s).")


@dataclass(frozen=True)
class Option:
    """One choice: its stored key and its labels (Chinese and English) and other spellings."""

    key: str
    label: str = ""
    label_en: str = ""
    aliases: tuple[str, ...] = ()


_FOLD_DROP = re.compile(r"[\s\-_.·/]+")


@lru_cache(maxsize=65536)
def fold(value: str) -> str:
    """A value for comparing: full-width folded, case-folded, spaces and ``- _ . · /`` removed."""
    return _FOLD_DROP.sub("", unicodedata.normalize("NFKC", value).casefold())


_KEY_CHARS = re.compile(r"[^a-z0-9]+")


def option_key_for(label: str, taken: Iterable[str] = ()) -> str:
    """A new option key for a label: ASCII letters and digits joined by ``_`` (Chinese through
    pinyin: 华东区 → hua_dong_qu), made unique against `taken` with a number."""
    text = unicodedata.normalize("NFKC", label).strip()
    if _CJK.search(text):
        from pypinyin import lazy_pinyin

        text = " ".join(lazy_pinyin(text))
    key = _KEY_CHARS.sub("_", text.lower()).strip("_")[:60] or "value"
    taken_set = {t.lower() for t in taken}
    candidate, n = key, 2
    while candidate in taken_set:
        candidate, n = f"{key}_{n}", n + 1
    return candidate


@dataclass
class PicklistMapper:
    """Reads picklist cells into option keys by key, Chinese or English label or alias, ignoring
    case, width, spaces and ``- _ .``. What happens to other values is the `policy`:

    * ``map``: `mapping` (the user's answers, value -> option key) is consulted; values it lacks
      are errors and are listed in :attr:`unknown` so the dry run can ask about them;
    * ``create``: the value becomes a new key (:func:`option_key_for`) listed in :attr:`created`
      (key -> label) for the import to create before writing rows;
    * ``reject``: the cell is an error (also listed in :attr:`unknown`).

    Results are remembered per mapper: a column holds few distinct values."""

    options: list[Option]
    policy: UnknownPolicy | str = UnknownPolicy.REJECT
    mapping: Mapping[str, str] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.policy = UnknownPolicy(self.policy)
        self._lookup: dict[str, str] = {}
        for option in self.options:
            for text in (option.key, option.label, option.label_en, *option.aliases):
                if text:
                    self._lookup.setdefault(fold(str(text)), option.key)
        keys = {o.key for o in self.options}
        for source, target in self.mapping.items():
            if target not in keys:
                raise ValueError(f"mapping {source!r} -> {target!r}: no such option")
            self._lookup[fold(source)] = target
        self._seen: dict[str, str] = {}

    @classmethod
    def from_items(cls, items: Iterable[Any], **kwargs: Any) -> PicklistMapper:
        """From picklist items (``kehu.customfields`` ``PicklistItem``: value, label, label_en)."""
        options = [Option(str(i.value), str(i.label), str(getattr(i, "label_en", "") or "")) for i in items]
        return cls(options, **kwargs)

    @classmethod
    def from_choices(cls, choices: Iterable[tuple[Any, Any]], **kwargs: Any) -> PicklistMapper:
        """From Django choices (key, lazy label): the label is read in Chinese and in English."""
        from django.utils import translation

        options = []
        for key, label in choices:
            with translation.override("zh-hans"):
                zh = str(label)
            with translation.override("en"):
                en = str(label)
            options.append(Option(str(key), zh, en))
        return cls(options, **kwargs)

    def __call__(self, value: object) -> str | None:
        text = _text(value)
        if not text:
            return None
        cached = self._seen.get(text)
        if cached is not None:
            return cached
        key = self._lookup.get(fold(text))
        if key is None:
            key = self._unknown(text)
        self._seen[text] = key
        return key

    def many(self, value: object) -> list[str]:
        """The option keys of a multi-choice cell (split like :func:`split_multi`), repeats dropped."""
        keys: list[str] = []
        for part in split_multi(value):
            key = self(part)
            if key and key not in keys:
                keys.append(key)
        return keys

    def _unknown(self, text: str) -> str:
        if self.policy == UnknownPolicy.CREATE:
            for key, label in self.created.items():
                if fold(label) == fold(text):
                    return key
            key = option_key_for(text, [o.key for o in self.options] + list(self.created))
            self.created[key] = text
            self._lookup[fold(text)] = key
            return key
        self.unknown[text] = self.unknown.get(text, 0) + 1
        choices = ", ".join((o.label or o.key) for o in self.options[:10])
        raise TransformError(UNKNOWN_CHOICE_MESSAGE, "unknown_choice", text, choices=choices)
