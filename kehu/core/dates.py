"""Fast date formatting for tables: `date_format(value, "SHORT_DATE_FORMAT")` gives exactly what
`django.utils.formats.date_format` gives, at a fraction of its cost (≈ 26 µs a call there; a list
page formats fifty dates). The active language's format string is compiled once into pieces:
literal text, the numeric format characters (Y m d n j H G i s y) done here, and any other
character (month names, "4 p.m." …) asked of Django's `DateFormat` one by one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

from django.utils import formats, timezone, translation
from django.utils.dateformat import DateFormat, TimeFormat, re_escaped, re_formatchars

Piece = str | Callable[[Any], str]

_DATE_CHARS: dict[str, Callable[[Any], str]] = {
    "Y": lambda d: f"{d.year:04d}",
    "y": lambda d: f"{d.year % 100:02d}",
    "m": lambda d: f"{d.month:02d}",
    "n": lambda d: str(d.month),
    "d": lambda d: f"{d.day:02d}",
    "j": lambda d: str(d.day),
}
_TIME_CHARS: dict[str, Callable[[Any], str]] = {
    "H": lambda d: f"{d.hour:02d}",
    "G": lambda d: str(d.hour),
    "i": lambda d: f"{d.minute:02d}",
    "s": lambda d: f"{d.second:02d}",
}


@lru_cache(maxsize=256)
def _compile(fmt: str, with_time: bool) -> tuple[Piece, ...] | None:
    chars = {**_DATE_CHARS, **_TIME_CHARS} if with_time else _DATE_CHARS
    pieces: list[Piece] = []
    for i, piece in enumerate(re_formatchars.split(fmt)):
        if i % 2:
            fn = chars.get(piece)
            if fn is None:
                if not with_time and hasattr(TimeFormat, piece):
                    return None  # Django refuses time characters for a date: let it say so
                fn = partial(_django_char, piece)
            pieces.append(fn)
        elif piece:
            pieces.append(re_escaped.sub(r"\1", piece))
    return tuple(pieces)


def _django_char(char: str, value: Any) -> str:
    return str(getattr(DateFormat(value), char)())


@lru_cache(maxsize=64)
def _format_string(format_name: str, language: str | None) -> str:
    return str(formats.get_format(format_name, lang=language))


def date_format(value: dt.date, format_name: str) -> str:
    """`django.utils.formats.date_format(value, format_name)` in the active language."""
    return formatter(format_name, isinstance(value, dt.datetime))(value)


def formatter(format_name: str, with_time: bool) -> Callable[[Any], str]:
    """`date_format(·, format_name)` for dates (`with_time` False) or datetimes of the active
    language, resolved once: a list page binds one per column and formats its rows with it."""
    return _formatter(format_name, translation.get_language(), with_time)


@lru_cache(maxsize=128)
def _formatter(format_name: str, language: str | None, with_time: bool) -> Callable[[Any], str]:
    fmt = _format_string(format_name, language)
    pieces = _compile(fmt, with_time)
    if pieces is None:

        def by_django(value: Any) -> str:
            with translation.override(language):
                return formats.date_format(value, format_name)

        return by_django
    if all(isinstance(p, str) or not isinstance(p, partial) for p in pieces):
        own = tuple(pieces)

        def fast(value: Any) -> str:
            return "".join(p if isinstance(p, str) else p(value) for p in own)

        return fast

    def mixed(value: Any) -> str:
        out = []
        django = None
        for p in pieces:
            if isinstance(p, str):
                out.append(p)
            elif isinstance(p, partial):  # one DateFormat for all of Django's characters
                if django is None:
                    django = DateFormat(value)
                out.append(str(getattr(django, p.args[0])()))
            else:
                out.append(p(value))
        return "".join(out)

    return mixed


def localtime(value: dt.datetime) -> dt.datetime:
    """`django.utils.timezone.localtime(value)` for an aware datetime, without its checks."""
    return value.astimezone(timezone.get_current_timezone())
