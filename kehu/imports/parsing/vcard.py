"""vCard 2.1, 3.0 and 4.0: the cards are cut apart here and each is parsed by vobject, so a broken
card is that card's error; each card becomes a row with fixed columns."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.imports.errors import RowCode

from .rows import PREVIEW_ROWS, Notice, RawRow, Sniffed

VCARD_COLUMNS: tuple[tuple[str, Promise], ...] = (
    ("full_name", gettext_lazy("Full name")),
    ("family_name", gettext_lazy("Family name")),
    ("given_name", gettext_lazy("Given name")),
    ("organisation", gettext_lazy("Organisation")),
    ("title", gettext_lazy("Job title")),
    ("email_1", gettext_lazy("Email 1")),
    ("email_2", gettext_lazy("Email 2")),
    ("email_3", gettext_lazy("Email 3")),
    ("phone_1", gettext_lazy("Phone 1")),
    ("phone_1_type", gettext_lazy("Phone 1 type")),
    ("phone_2", gettext_lazy("Phone 2")),
    ("phone_2_type", gettext_lazy("Phone 2 type")),
    ("phone_3", gettext_lazy("Phone 3")),
    ("phone_3_type", gettext_lazy("Phone 3 type")),
    ("address", gettext_lazy("Address")),
    ("birthday", gettext_lazy("Birthday")),
    ("note", gettext_lazy("Note")),
    ("url", gettext_lazy("URL")),
)
_VCARD_INDEX = {key: i for i, (key, _label) in enumerate(VCARD_COLUMNS)}
_TEL_TYPES_IGNORED = frozenset({"voice", "pref", "internet", "x400"})


def sniff_vcard(
    path: Path, *, encoding: str, text: str, size: int, sample_bytes: int, warnings: list[Notice]
) -> Sniffed:
    preview = list(itertools.islice(vcard_records(path, encoding), PREVIEW_ROWS))
    cards = text.upper().count("BEGIN:VCARD")
    estimate = cards if size <= sample_bytes else round(cards * size / max(sample_bytes, 1))
    return Sniffed(
        format="vcard",
        encoding=encoding,
        delimiter="",
        header_row=0,
        headers=[str(label) for _key, label in VCARD_COLUMNS],
        preview=preview,
        warnings=warnings,
        row_estimate=estimate,
    )


def vcard_records(path: Path, encoding: str) -> Iterator[RawRow]:
    """One record per card, numbered from 1, streamed: the cards are cut apart here (so that one
    broken card is that card's error, not the end of the file) and each is parsed by vobject."""
    with path.open(encoding=encoding, errors="replace", newline=None) as fh:
        number = 0
        card: list[str] | None = None
        for raw in fh:
            line = raw.rstrip("\n").replace("\x00", "").replace("\ufeff", "")
            upper = line.strip().upper()
            if upper == "BEGIN:VCARD":
                if card is not None:
                    number += 1
                    yield _broken_card(number, _("The card has no END:VCARD line."))
                card = [line]
            elif card is not None:
                card.append(line)
                if upper == "END:VCARD":
                    number += 1
                    yield _card_record(number, card)
                    card = None
        if card is not None:
            number += 1
            yield _broken_card(number, _("The card has no END:VCARD line."))


def _broken_card(number: int, reason: str) -> RawRow:
    return RawRow(
        number,
        [""] * len(VCARD_COLUMNS),
        _("Contact card %(number)d could not be read: %(reason)s") % {"number": number, "reason": reason},
        RowCode.BROKEN_VCARD,
    )


def _unfold_quoted_printable(lines: list[str]) -> list[str]:
    """vCard 2.1 (old Outlook and Android exports) continues a QUOTED-PRINTABLE value on the next
    line after a trailing "=" (a soft line break), which vobject does not join."""
    out: list[str] = []
    continuing = False
    for line in lines:
        if continuing and out:
            out[-1] = out[-1][:-1] + line.lstrip()
        else:
            out.append(line)
        current = out[-1]
        head = current.split(":", 1)[0].upper()
        continuing = "QUOTED-PRINTABLE" in head and current.endswith("=") and ":" in current
    return out


def _card_record(number: int, lines: list[str]) -> RawRow:
    import vobject

    try:
        card = vobject.readOne("\r\n".join(_unfold_quoted_printable(lines)) + "\r\n")
        values = _card_values(card)
    except Exception as exc:
        return _broken_card(number, str(exc) or type(exc).__name__)
    return RawRow(number, values)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value if _text(v))
    return ""


def _params(line: Any) -> list[str]:
    kinds: list[str] = []
    for value in line.params.get("TYPE", []):
        kinds += [k.strip().strip('"').lower() for k in str(value).split(",")]
    kinds += [str(s).lower() for s in line.singletonparams]
    return [k for k in kinds if k]


def _is_pref(line: Any) -> bool:
    return "pref" in _params(line) or bool(line.params.get("PREF"))


def _card_values(card: Any) -> list[str]:
    values = [""] * len(VCARD_COLUMNS)

    def put(key: str, value: str) -> None:
        values[_VCARD_INDEX[key]] = value

    contents = card.contents
    if "fn" in contents:
        put("full_name", _text(contents["fn"][0].value))
    if "n" in contents:
        name = contents["n"][0].value
        put("family_name", _text(getattr(name, "family", "")))
        put("given_name", _text(getattr(name, "given", "")))
    if "org" in contents:
        org = contents["org"][0].value
        put("organisation", _text(org[0] if isinstance(org, list) and org else org))
    if "title" in contents:
        put("title", _text(contents["title"][0].value))
    emails = sorted(contents.get("email", []), key=lambda ln: not _is_pref(ln))
    for i, line in enumerate(emails[:3], 1):
        put(f"email_{i}", _text(line.value))
    phones = sorted(contents.get("tel", []), key=lambda ln: not _is_pref(ln))
    for i, line in enumerate(phones[:3], 1):
        number = _text(line.value)
        if number.lower().startswith("tel:"):
            number = number[4:]
        put(f"phone_{i}", number)
        put(f"phone_{i}_type", ",".join(k for k in _params(line) if k not in _TEL_TYPES_IGNORED))
    if "adr" in contents:
        adr = contents["adr"][0].value
        parts = [
            getattr(adr, a, "") for a in ("box", "extended", "street", "city", "region", "code", "country")
        ]
        put("address", ", ".join(p for p in (_text(x) for x in parts) if p))
    if "bday" in contents:
        put("birthday", _vcard_date(_text(contents["bday"][0].value)))
    if "note" in contents:
        put("note", _text(contents["note"][0].value))
    if "url" in contents:
        put("url", _text(contents["url"][0].value))
    return values


def _vcard_date(value: str) -> str:
    """vCard dates come as 19850412, 1985-04-12, 1985-04-12T00:00:00Z or --0412 (no year)."""
    digits = value.split("T", 1)[0]
    if len(digits) == 8 and digits.isdigit():
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    if len(digits) == 10 and digits[4] == "-" and digits[7] == "-":
        return digits
    return value
